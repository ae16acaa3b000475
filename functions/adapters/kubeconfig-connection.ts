import { existsSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeconfigError } from './adapter-errors.ts';
import type { KubernetesConnection } from './kubernetes-transport.ts';
import { messageOf } from './error-message.ts';

// Used by the local `serve` only: client-node is too heavy a cold start for the Lambda.

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The kubeconfig `serve` should use, or undefined when there is none to use (then it runs dry).
 * An explicit `file` is returned as it is, so a wrong --kubeconfig fails loudly rather than running dry.
 * Otherwise KUBECONFIG (its existing files, joined with the path delimiter) or ~/.kube/config, provided it has a
 * current context (or the given `context`).
 */
export function findKubeconfig(options: { file?: string; context?: string; env?: Env; homeDir?: string } = {}): string | undefined {
  if (options.file) return options.file;
  const env = options.env ?? process.env;
  const candidates = env.KUBECONFIG
    ? env.KUBECONFIG.split(delimiter).filter(Boolean)
    : [join(options.homeDir ?? env.HOME ?? homedir(), '.kube', 'config')];
  const existing = candidates.filter((file) => existsSync(file));
  if (existing.length === 0) return undefined;
  const files = existing.join(delimiter);
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(files);
  } catch {
    // A broken kubeconfig is the user's to fix: connectionFromKubeconfig says what is wrong with it.
    return files;
  }
  const context = options.context ?? kc.getCurrentContext();
  return context && kc.getContextObject(context) ? files : undefined;
}

/**
 * Connection options from a kubeconfig context: server, CA, client certificate, and a token that comes through
 * client-node's own authenticators (static tokens, exec plugins such as `aws eks get-token` or `tekton-bridge token`).
 * `file` may list several files joined with the path delimiter, as KUBECONFIG does; without it, the default
 * kubeconfig is loaded. Refuses contexts that skip TLS verification.
 */
export async function connectionFromKubeconfig(options: { file?: string; context?: string; timeoutMs?: number } = {}): Promise<KubernetesConnection> {
  const where = options.file ? `kubeconfig ${options.file}` : 'the default kubeconfig';
  const load = (): KubeConfig => {
    let kc: KubeConfig;
    try {
      kc = loadKubeConfig(options.file ?? defaultKubeconfigFiles(options.context));
    } catch (error) {
      throw new KubeconfigError(`could not read ${where}: ${messageOf(error)}`, { cause: error });
    }
    if (options.context) {
      if (!kc.getContextObject(options.context)) throw new KubeconfigError(`context "${options.context}" is not in ${where}`);
      kc.setCurrentContext(options.context);
    }
    return kc;
  };

  let kc = load();
  const contextName = kc.getCurrentContext();
  const context = contextName ? kc.getContextObject(contextName) : null;
  if (!context) throw new KubeconfigError(`${where} has no current context; pick one with --context`);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeconfigError(`context "${contextName}" names cluster "${context.cluster}", which ${where} does not define`);
  if (cluster.skipTLSVerify) {
    throw new KubeconfigError(
      `context "${contextName}" sets insecure-skip-tls-verify for cluster "${cluster.name}": the bridge always verifies the API server's certificate; give the cluster's certificate-authority-data instead`,
    );
  }
  if (!cluster.server.startsWith('https://')) {
    throw new KubeconfigError(`cluster "${cluster.name}" has server ${cluster.server}: the bridge only talks to the Kubernetes API over https`);
  }
  if (cluster.proxyUrl) throw new KubeconfigError(`cluster "${cluster.name}" sets proxy-url, which the bridge does not support`);
  const user = kc.getCurrentUser();
  if (!user) throw new KubeconfigError(`context "${contextName}" names user "${context.user}", which ${where} does not define`);
  if (user.username || user.impersonateUser) {
    throw new KubeconfigError(`user "${user.name}" uses basic auth or impersonation, which the bridge does not support; use a token, a client certificate or an exec plugin`);
  }

  const applied = await applyAuth(kc, contextName);
  const connection: KubernetesConnection = {
    server: cluster.server,
    ...(applied.ca !== undefined && { ca: applied.ca }),
    ...(applied.cert !== undefined && { cert: applied.cert }),
    ...(applied.key !== undefined && { key: applied.key }),
    ...(cluster.tlsServerName !== undefined && { tlsServerName: cluster.tlsServerName }),
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  };
  if (applied.token !== undefined) {
    connection.getToken = async (opts) => {
      // client-node caches exec credentials per KubeConfig until they expire; a fresh one runs the plugin again.
      if (opts?.forceRefresh) kc = load();
      const { token } = await applyAuth(kc, contextName);
      if (token === undefined) throw new KubeconfigError(`context "${contextName}" gave no bearer token`);
      return token;
    };
  }
  return connection;
}

interface AppliedAuth {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  token?: string;
}

async function applyAuth(kc: KubeConfig, contextName: string): Promise<AppliedAuth> {
  const opts: https.RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (error) {
    throw new KubeconfigError(`could not get credentials for context "${contextName}": ${messageOf(error)}`, { cause: error });
  }
  const headers = (opts.headers ?? {}) as Record<string, string | undefined>;
  const authorization = headers.Authorization ?? headers.authorization;
  const token = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
  return {
    ...(opts.ca !== undefined && { ca: opts.ca as string | Buffer }),
    ...(opts.cert !== undefined && { cert: opts.cert as string | Buffer }),
    ...(opts.key !== undefined && { key: opts.key as string | Buffer }),
    ...(token !== undefined && { token }),
  };
}

function loadKubeConfig(files: string): KubeConfig {
  const [first, ...rest] = files.split(delimiter).filter(Boolean);
  const kc = new KubeConfig();
  if (first === undefined) throw new KubeconfigError('no kubeconfig file given');
  kc.loadFromFile(first);
  for (const file of rest) {
    const next = new KubeConfig();
    next.loadFromFile(file);
    // As kubectl does: the first file that names a current context wins.
    kc.mergeConfig(next, Boolean(kc.currentContext));
  }
  return kc;
}

function defaultKubeconfigFiles(context: string | undefined): string {
  const files = findKubeconfig({ context });
  if (files === undefined) throw new KubeconfigError('no kubeconfig found (KUBECONFIG or ~/.kube/config, with a current context)');
  return files;
}
