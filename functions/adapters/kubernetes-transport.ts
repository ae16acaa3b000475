import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
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
  /**
   * Open the first connection now rather than at the first request, so its TCP and TLS handshakes overlap what the
   * process does meanwhile (a cold start's evaluation of the rest of its code).
   */
  connectNow?: boolean;
}

// GitHub gives up after 10 s, and a delivery may create more than one object.
export const DEFAULT_KUBERNETES_TIMEOUT_MS = 3000;
const DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024;

export interface KubernetesRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Below the server's own path prefix, every segment already validated and encoded (see kubernetes-api.ts). */
  path: string;
  query?: Readonly<Record<string, string | undefined>>;
  /** JSON text. */
  body?: string;
  /** Default `application/json`; patches name their flavour. */
  contentType?: string;
  /** `Impersonate-User`, e.g. `system:serviceaccount:ci:build-bot`: the API server acts as that user. */
  impersonateUser?: string;
  /** Answers longer than this are cut (and marked `truncated`); default 1 MiB. */
  maxAnswerBytes?: number;
}

export type KubernetesExchange =
  | { kind: 'answer'; statusCode: number; headers: IncomingHttpHeaders; body: unknown; truncated: boolean }
  | { kind: 'no-answer'; reason: string; retryable: boolean };

export type KubernetesTransport = (request: KubernetesRequest) => Promise<KubernetesExchange>;

type RawExchange = KubernetesExchange | { kind: 'stale-socket'; reason: string };

/**
 * One HTTPS exchange with the Kubernetes API, over a keep-alive agent: the bearer token (refreshed once after a 401),
 * a client certificate, a timeout per request, and a second try when a kept-alive socket turns out to have been closed
 * while the Lambda was frozen. Never puts the token or the body into a reason.
 */
export function createKubernetesTransport(connection: KubernetesConnection): KubernetesTransport {
  const serverUrl = new URL(connection.server);
  if (serverUrl.protocol !== 'https:') {
    throw new TypeError(`[tekton-bridge] the Kubernetes API must be reached over https, not ${serverUrl.protocol}`);
  }
  const agent = new https.Agent({ keepAlive: true, maxSockets: 16 });
  const timeoutMs = connection.timeoutMs ?? DEFAULT_KUBERNETES_TIMEOUT_MS;
  const prefix = serverUrl.pathname.replace(/\/+$/, '');
  const hostname = serverUrl.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = serverUrl.port || 443;
  const tls: https.RequestOptions = {
    rejectUnauthorized: true,
    ...(connection.ca !== undefined && { ca: connection.ca }),
    ...(connection.cert !== undefined && { cert: connection.cert }),
    ...(connection.key !== undefined && { key: connection.key }),
    ...(connection.tlsServerName !== undefined && { servername: connection.tlsServerName }),
  };
  if (connection.connectNow) handFirstConnectionTo(agent, { ...tls, host: hostname, port, servername: tls.servername ?? (isIP(hostname) ? '' : hostname) });

  const send = async (request: KubernetesRequest, forceRefresh: boolean): Promise<RawExchange> => {
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'tekton-bridge' };
    if (request.body !== undefined) {
      headers['content-type'] = request.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(request.body));
    }
    if (request.impersonateUser !== undefined) headers['impersonate-user'] = request.impersonateUser;
    if (connection.getToken) {
      try {
        headers.authorization = `Bearer ${await connection.getToken({ forceRefresh })}`;
      } catch (error) {
        return { kind: 'no-answer', retryable: true, reason: `could not get a token for the Kubernetes API: ${messageOf(error)}` };
      }
    }
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) query.set(key, value);
    const search = query.size > 0 ? `?${query}` : '';
    const options: https.RequestOptions = {
      method: request.method,
      protocol: 'https:',
      hostname,
      port,
      path: `${prefix}${request.path}${search}`,
      headers,
      agent,
      ...tls,
    };
    return exchange(options, request.body, timeoutMs, request.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES, serverUrl.origin);
  };

  return async (request) => {
    let answer = await send(request, false);
    if (answer.kind === 'stale-socket') answer = await send(request, false);
    if (answer.kind === 'answer' && answer.statusCode === 401 && connection.getToken) answer = await send(request, true);
    if (answer.kind === 'stale-socket') return { kind: 'no-answer', retryable: true, reason: answer.reason };
    return answer;
  };
}

/**
 * Opens one connection with the options a request would give the agent, and lets the agent's first request take it.
 * Until then it does not keep the process alive, and an error on it is left to the request: one that failed before is
 * not handed out, and the request connects anew (and meets the same error, if it lasts).
 */
function handFirstConnectionTo(agent: https.Agent, options: https.RequestOptions): void {
  const makeConnection = agent.createConnection.bind(agent);
  // The https agent makes a TLS socket (Node's documentation: always a net.Socket unless a subclass says otherwise).
  let opened = makeConnection(options, () => undefined) as Socket | null | undefined;
  const ignore = () => undefined;
  opened?.on('error', ignore).unref();
  agent.createConnection = (requestOptions, callback) => {
    const socket = opened;
    opened = undefined;
    if (!socket || socket.destroyed) return makeConnection(requestOptions, callback);
    // The agent refs only the sockets it takes from its pool; this one must hold the process while a request uses it.
    return socket.off('error', ignore).ref();
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

function exchange(options: https.RequestOptions, body: string | undefined, timeoutMs: number, maxAnswerBytes: number, origin: string): Promise<RawExchange> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: RawExchange) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const request = https.request(options, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= maxAnswerBytes) chunks.push(chunk);
      });
      response.on('end', () => {
        const truncated = size > maxAnswerBytes;
        settle({
          kind: 'answer',
          statusCode: response.statusCode ?? 0,
          headers: response.headers,
          body: truncated ? undefined : parsedJson(Buffer.concat(chunks).toString('utf8')),
          truncated,
        });
      });
      response.on('error', (error) => settle(noAnswer(error, origin, false)));
    });
    const timer = setTimeout(() => {
      settle({ kind: 'no-answer', retryable: true, reason: `the Kubernetes API at ${origin} did not answer within ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error) => settle(noAnswer(error, origin, request.reusedSocket)));
    request.end(body);
  });
}

function noAnswer(error: Error, origin: string, reusedSocket: boolean): RawExchange {
  const code = (error as NodeJS.ErrnoException).code;
  if (code && UNTRUSTED_CERTIFICATE_CODES.has(code)) {
    return {
      kind: 'no-answer',
      retryable: false,
      reason: `the Kubernetes API at ${origin} presented a TLS certificate the bridge does not trust (${code}: ${error.message})`,
    };
  }
  const reason = `could not reach the Kubernetes API at ${origin} (${code ? `${code}: ` : ''}${error.message})`;
  return reusedSocket && code === 'ECONNRESET' ? { kind: 'stale-socket', reason } : { kind: 'no-answer', retryable: true, reason };
}

function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: a proxy or load balancer answered; the status code is all there is.
    return undefined;
  }
}
