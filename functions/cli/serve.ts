import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { createWebhookServer } from '../adapters/node-http.ts';
import { deliveryLogFields, deliveryLogMessage } from '../adapters/delivery-log.ts';
import { loadTriggersDirectory } from '../adapters/triggers-directory.ts';
import { createResourceCreator } from '../adapters/kubernetes-api.ts';
import { readTriggerSecretsFile } from '../adapters/trigger-secrets.ts';
import { DEFAULT_MAX_BODY_BYTES, handleDelivery } from '../core/handle-delivery.ts';
import { DEFAULT_MAX_PUSH_AGE_HOURS } from '../adapters/environment.ts';
import type { CreateResource } from '../core/delivery-types.ts';
import { formatConfigIssue } from '../core/errors.ts';
import { EXIT, UsageError, type CliIo } from './cli-io.ts';
import { LOCAL_SECRET_FILE, makeLocalSecret } from './local-secret.ts';

export interface ServeOptions {
  port: number;
  host: string;
  triggersDir: string;
  secret?: string;
  dryRun: boolean;
  kubeconfig?: string;
  context?: string;
  maxBodyBytes?: number;
  /** Where the made-up loopback secret is kept; tests point it elsewhere. */
  localSecretFile?: string;
  /** The JSON file of trigger secrets CEL's compareSecret reads, `{"<secretName>": {"<secretKey>": "value"}}`. */
  triggerSecretsFile?: string;
  /** A push older than this is refused; default 72, 0 turns the check off. */
  maxPushAgeHours?: number;
}

export interface RunningBridge {
  url: string;
  secret: string;
  target: string;
  close: () => Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;
/** Off loopback a guessable secret is an open door: GitHub accepts secrets of any length, the bridge wants this many. */
const MIN_SECRET_CHARS = 16;
const HOUR_MS = 3_600_000;

/** Starts the local bridge: the same core as the Lambda, behind node:http. Throws on an invalid config. */
export async function startBridge(options: ServeOptions, io: CliIo): Promise<RunningBridge> {
  const config = loadTriggersDirectory(options.triggersDir);
  for (const warning of config.warnings) io.stderr(`warning: ${formatConfigIssue(warning)}\n`);
  const triggerSecrets = options.triggerSecretsFile ? readTriggerSecretsFile(options.triggerSecretsFile) : undefined;
  if (config.cel.usesTriggerSecrets && !triggerSecrets) io.stderr('warning: the config calls compareSecret and no --trigger-secrets file was given: those triggers will fail\n');

  let secret = options.secret || io.env.WEBHOOK_SECRET || undefined;
  const loopback = LOOPBACK.test(options.host);
  if (secret !== undefined && secret.trim() === '') {
    throw new UsageError('the webhook secret is only whitespace, which would accept anyone\'s signature: pass a real --secret or WEBHOOK_SECRET');
  }
  if (secret && !loopback && secret.length < MIN_SECRET_CHARS) {
    throw new UsageError(`refusing to listen on ${options.host} with a webhook secret of ${secret.length} characters: use at least ${MIN_SECRET_CHARS} (e.g. openssl rand -base64 32)`);
  }
  if (!secret) {
    if (!loopback) {
      throw new UsageError(`refusing to listen on ${options.host} without a webhook secret: pass --secret or set WEBHOOK_SECRET`);
    }
    const file = options.localSecretFile ?? LOCAL_SECRET_FILE;
    secret = makeLocalSecret(file);
    io.stderr(`no secret given: made one for this loopback bridge and kept it in ${file} (send finds it there): ${secret}\n`);
  }

  let createResource: CreateResource | undefined;
  let target = 'dry run: nothing is created';
  if (!options.dryRun) {
    // client-node takes most of a second to load; a dry run never needs it.
    const { connectionFromKubeconfig, findKubeconfig } = await import('../adapters/kubeconfig-connection.ts');
    const kubeconfig = findKubeconfig({ file: options.kubeconfig, env: io.env });
    if (kubeconfig === undefined) {
      target = 'dry run: no kubeconfig found (KUBECONFIG or ~/.kube/config)';
    } else {
      const connection = await connectionFromKubeconfig({ file: kubeconfig, context: options.context });
      createResource = createResourceCreator(connection);
      target = `cluster ${connection.server}${options.context ? ` (context ${options.context})` : ''}`;
    }
  }

  const logger = new Logger({ serviceName: 'tekton-bridge' });
  const secrets = [secret];
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = createWebhookServer({
    maxBodyBytes,
    handle: async (request) => {
      const started = performance.now();
      const report = await handleDelivery(request, {
        config,
        secrets,
        triggerSecrets,
        createResource,
        maxBodyBytes,
        wallClock: Date.now,
        maxPushAgeMs: (options.maxPushAgeHours ?? DEFAULT_MAX_PUSH_AGE_HOURS) * HOUR_MS,
        now: () => performance.now(),
      });
      logger.info(deliveryLogMessage(report), deliveryLogFields(report, performance.now() - started, {}, request.headers));
      return report;
    },
    onError: (error) => logger.error('delivery crashed', { error: (error as Error).message }),
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/webhook`,
    secret,
    target,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export async function runServeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      triggers: { type: 'string', default: 'triggers' },
      secret: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'trigger-secrets': { type: 'string' },
      'max-push-age': { type: 'string', default: String(DEFAULT_MAX_PUSH_AGE_HOURS) },
    },
  });
  const port = Number(values.port);
  const maxPushAgeHours = Number(values['max-push-age']);
  if (!/^\d+$/.test(values['max-push-age']) || maxPushAgeHours > 8760) {
    throw new UsageError(`--max-push-age must be a whole number of hours from 0 (no limit) to 8760, got "${values['max-push-age']}"`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got "${values.port}"`);
  const bridge = await startBridge(
    {
      port,
      host: values.host,
      triggersDir: values.triggers,
      secret: values.secret,
      dryRun: values['dry-run'],
      kubeconfig: values.kubeconfig,
      context: values.context,
      triggerSecretsFile: values['trigger-secrets'],
      maxPushAgeHours,
    },
    io,
  );
  io.stderr(`tekton-bridge listening on ${bridge.url} — ${bridge.target}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => void bridge.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return EXIT.ok;
}
