import http from 'node:http';
import https from 'node:https';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

/** An AWS error as the SDK shapes it: `name` is the exception type (`ResourceNotFoundException`, …). */
export class AwsServiceError extends Error {
  readonly $metadata: { httpStatusCode: number };

  constructor(name: string, message: string, httpStatusCode: number) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode };
  }
}

/** What an AWS service answered: the status, the headers (names lower-cased) and the body as text. */
export interface AwsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One SigV4-signed HTTP request to an AWS service, over the signer the EKS token uses: for the bridge's few AWS calls
 * an SDK client costs far more of a cold start than the call itself (BENCHMARKS.md). No retries: a caller that
 * fails is tried again on the next delivery.
 */
export function createSignedAwsRequest(options: {
  service: string;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  endpoint: URL;
  /** Names the service in the timeout's message. */
  what: string;
  timeoutMs?: number;
}): (request: { method: 'GET' | 'POST'; path: string; headers?: Record<string, string>; body?: string }) => Promise<AwsAnswer> {
  const { endpoint, what } = options;
  const signer = new SignatureV4({ service: options.service, region: options.region, credentials: options.credentials, sha256: Hash.bind(null, 'sha256') });
  const timeoutMs = options.timeoutMs ?? 3000;
  const transport = endpoint.protocol === 'http:' ? http : https;
  // An endpoint may carry a path prefix (a proxy's); the request's path goes after it.
  const basePath = endpoint.pathname.replace(/\/$/, '');
  return async ({ method, path, headers = {}, body }) => {
    const signed = await signer.sign(
      new HttpRequest({
        method,
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port ? Number(endpoint.port) : undefined,
        path: basePath + path,
        headers: { host: endpoint.host, ...headers },
        ...(body !== undefined && { body }),
      }),
    );
    return new Promise((resolve, reject) => {
      const request = transport.request(
        { protocol: endpoint.protocol, hostname: endpoint.hostname, port: endpoint.port, path: basePath + path, method, headers: signed.headers, timeout: timeoutMs },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        },
      );
      request.on('timeout', () => request.destroy(new Error(`${what} did not answer within ${timeoutMs} ms`)));
      request.on('error', reject);
      request.end(body);
    });
  };
}

/**
 * The exception an AWS error answer names, as the SDK would name it: restJson1 puts it in `x-amzn-errortype`
 * (`Name:url`), awsJson in `__type` (`namespace#Name`); the message is `message` or `Message`.
 */
export function awsErrorOf(answer: AwsAnswer): AwsServiceError {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : {};
  } catch {
    // An HTML error page from a proxy: the status says enough.
  }
  const header = answer.headers['x-amzn-errortype'];
  const raw = (typeof header === 'string' && header) || String(parsed.__type ?? parsed.code ?? `HTTP ${answer.status}`);
  const name = raw.split(':')[0]?.split('#').pop() || `HTTP ${answer.status}`;
  return new AwsServiceError(name, String(parsed.message ?? parsed.Message ?? name), answer.status);
}
