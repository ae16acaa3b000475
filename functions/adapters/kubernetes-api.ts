import { STATUS_CODES } from 'node:http';
import https from 'node:https';
import type { V1Status } from '@kubernetes/client-node';
import type { CreateResource, CreateResult, KubernetesObject } from '../core/delivery-types.ts';
import { messageOf } from './error-message.ts';

/** Where the Kubernetes API is and how to prove who we are. TLS verification is never optional. */
export interface KubernetesConnection {
  /** `https://host[:port][/prefix]` */
  server: string;
  /** The cluster CA (PEM). Without it, Node's public roots are used. */
  ca?: string | Buffer;
  /** Client certificate and key (PEM), for users that authenticate with one. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Bearer token source; asked again with `forceRefresh` once after a 401. */
  getToken?: (opts?: { forceRefresh?: boolean }) => Promise<string>;
  /** Per HTTP request; defaults to DEFAULT_KUBERNETES_TIMEOUT_MS. */
  timeoutMs?: number;
  /** TLS server name, when it differs from the host in `server`. */
  tlsServerName?: string;
}

// GitHub gives up after 10 s, and a delivery may create more than one object.
export const DEFAULT_KUBERNETES_TIMEOUT_MS = 3000;
const MAX_ANSWER_BYTES = 1024 * 1024;
const MAX_MESSAGE_CHARS = 1000;

interface Target {
  path: string;
  /** `pipelineruns.tekton.dev`, as RBAC and the API's messages name it */
  resource: string;
  plural: string;
  group: string;
  version: string;
  namespace: string;
  name: string;
}

type Exchange =
  | { kind: 'answer'; statusCode: number; headers: Record<string, string | string[] | undefined>; status?: V1Status }
  | { kind: 'no-answer'; reason: string; retryable: boolean; staleSocket: boolean };

/**
 * Creates objects with one JSON POST each over node:https, and maps the API server's answer to a CreateResult
 * a person can act on. Never puts the token or the object into a reason.
 */
export function createResourceCreator(connection: KubernetesConnection): CreateResource {
  const serverUrl = new URL(connection.server);
  if (serverUrl.protocol !== 'https:') {
    throw new TypeError(`createResourceCreator: the Kubernetes API must be reached over https, not ${serverUrl.protocol}`);
  }
  const agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  const timeoutMs = connection.timeoutMs ?? DEFAULT_KUBERNETES_TIMEOUT_MS;

  const send = async (target: Target, body: string, forceRefresh: boolean): Promise<Exchange> => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'user-agent': 'tekton-bridge',
      'content-length': String(Buffer.byteLength(body)),
    };
    if (connection.getToken) {
      try {
        headers.authorization = `Bearer ${await connection.getToken({ forceRefresh })}`;
      } catch (error) {
        const reason = `could not get a token for the Kubernetes API: ${messageOf(error)}`;
        return { kind: 'no-answer', retryable: true, staleSocket: false, reason };
      }
    }
    const options: https.RequestOptions = {
      method: 'POST',
      protocol: 'https:',
      hostname: serverUrl.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: serverUrl.port || 443,
      path: serverUrl.pathname.replace(/\/+$/, '') + target.path,
      headers,
      agent,
      rejectUnauthorized: true,
      ...(connection.ca !== undefined && { ca: connection.ca }),
      ...(connection.cert !== undefined && { cert: connection.cert }),
      ...(connection.key !== undefined && { key: connection.key }),
      ...(connection.tlsServerName !== undefined && { servername: connection.tlsServerName }),
    };
    return exchangeJson(options, body, timeoutMs, serverUrl.origin);
  };

  return async (object) => {
    const target = targetOf(object);
    if (typeof target === 'string') return { outcome: 'failed', retryable: false, reason: target };
    const body = JSON.stringify(object);

    let exchange = await send(target, body, false);
    // A kept-alive socket may have been closed by the server while the Lambda was frozen; that is no answer.
    if (exchange.kind === 'no-answer' && exchange.staleSocket) exchange = await send(target, body, false);
    if (exchange.kind === 'answer' && exchange.statusCode === 401 && connection.getToken) {
      exchange = await send(target, body, true);
      if (exchange.kind === 'answer' && exchange.statusCode === 401) {
        return {
          outcome: 'failed',
          retryable: true,
          reason: 'the Kubernetes API refused the bridge\'s credentials (401 Unauthorized), even with a fresh token',
        };
      }
    }
    if (exchange.kind === 'no-answer') {
      return { outcome: 'failed', retryable: exchange.retryable, reason: exchange.reason };
    }
    return resultOf(exchange.statusCode, exchange.headers, exchange.status, target);
  };
}

function targetOf(object: KubernetesObject): Target | string {
  const { apiVersion, kind } = object;
  const namespace = object.metadata?.namespace;
  const name = object.metadata?.name;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !apiVersion || !kind) {
    return 'the object has no apiVersion or kind';
  }
  if (typeof namespace !== 'string' || !namespace) return `the ${kind} has no metadata.namespace`;
  if (typeof name !== 'string' || !name) return `the ${kind} has no metadata.name`;
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  const plural = `${kind.toLowerCase()}s`;
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return {
    path: `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}`,
    resource: group ? `${plural}.${group}` : plural,
    plural,
    group,
    version,
    namespace,
    name,
  };
}

function resultOf(
  statusCode: number,
  headers: Record<string, string | string[] | undefined>,
  status: V1Status | undefined,
  target: Target,
): CreateResult {
  const message = status?.message ? clip(status.message) : undefined;
  const said = message ?? `${statusCode} ${STATUS_CODES[statusCode] ?? ''}`.trim();
  if (statusCode >= 200 && statusCode < 300) return { outcome: 'created' };
  if (statusCode === 409 && status?.reason === 'AlreadyExists') return { outcome: 'duplicate' };
  if (statusCode === 401) {
    return { outcome: 'failed', retryable: true, reason: 'the Kubernetes API refused the bridge\'s credentials (401 Unauthorized)' };
  }
  if (statusCode === 403) {
    return {
      outcome: 'failed',
      retryable: false,
      reason: `the bridge's role lacks RBAC: create ${target.resource} in namespace ${target.namespace} (forbidden: ${said})`,
    };
  }
  if (statusCode === 404) {
    const details = status?.details;
    if (details?.kind === 'namespaces' && details.name === target.namespace) {
      return { outcome: 'failed', retryable: false, reason: `namespace ${target.namespace} does not exist on the cluster (${said})` };
    }
    const missing = `${target.resource}/${target.version}`;
    return {
      outcome: 'failed',
      retryable: false,
      reason:
        target.group === 'tekton.dev'
          ? `Tekton Pipelines is not installed (no tekton.dev CRDs): the API has no ${missing}`
          : `the Kubernetes API has no ${missing} (is its CRD installed?)`,
    };
  }
  if (statusCode === 409) {
    return { outcome: 'failed', retryable: true, reason: `conflict creating ${target.resource} ${target.name}: ${said}` };
  }
  if (statusCode === 422) return { outcome: 'failed', retryable: false, reason: said };
  if (statusCode === 429) {
    const retryAfter = headerOf(headers, 'retry-after');
    const wait = retryAfter ? `; Retry-After: ${clip(retryAfter, 40)} s` : '';
    return { outcome: 'failed', retryable: true, reason: `the Kubernetes API is throttling the bridge (429 Too Many Requests${wait})` };
  }
  if (statusCode >= 500) {
    const head = `${statusCode} ${STATUS_CODES[statusCode] ?? ''}`.trim();
    return {
      outcome: 'failed',
      retryable: true,
      reason: message ? `the Kubernetes API answered ${head}: ${message}` : `the Kubernetes API answered ${head}`,
    };
  }
  return {
    outcome: 'failed',
    retryable: false,
    reason: `the Kubernetes API refused to create ${target.resource} ${target.namespace}/${target.name} (${statusCode}${status?.reason ? ` ${status.reason}` : ''}: ${said})`,
  };
}

const UNTRUSTED_CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function exchangeJson(options: https.RequestOptions, body: string, timeoutMs: number, origin: string): Promise<Exchange> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (exchange: Exchange) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(exchange);
    };
    const request = https.request(options, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
      });
      response.on('end', () => {
        settle({
          kind: 'answer',
          statusCode: response.statusCode ?? 0,
          headers: response.headers,
          status: statusOf(Buffer.concat(chunks).toString('utf8')),
        });
      });
      response.on('error', (error) => settle(noAnswer(error, origin, false)));
    });
    const timer = setTimeout(() => {
      settle({ kind: 'no-answer', retryable: true, staleSocket: false, reason: `the Kubernetes API at ${origin} did not answer within ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error) => settle(noAnswer(error, origin, request.reusedSocket)));
    request.end(body);
  });
}

function noAnswer(error: Error, origin: string, reusedSocket: boolean): Exchange {
  const code = (error as NodeJS.ErrnoException).code;
  if (code && UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return {
      kind: 'no-answer',
      retryable: false,
      staleSocket: false,
      reason: `the Kubernetes API at ${origin} presented a TLS certificate the bridge does not trust (${code}: ${error.message})`,
    };
  }
  return {
    kind: 'no-answer',
    retryable: true,
    staleSocket: reusedSocket && code === 'ECONNRESET',
    reason: `could not reach the Kubernetes API at ${origin} (${code ? `${code}: ` : ''}${error.message})`,
  };
}

function statusOf(text: string): V1Status | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && (parsed as { kind?: unknown }).kind === 'Status') return parsed as V1Status;
  } catch {
    // Not JSON: a proxy or load balancer answered; the status code is all we have.
  }
  return undefined;
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
