import https from 'node:https';
import http from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { dnsSuffixOf } from './aws-dns-suffix.ts';
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

export interface AwsJsonService {
  /** The SigV4 signing name and the endpoint's first label: `secretsmanager`, `kms`. */
  service: string;
  /** The X-Amz-Target prefix: `secretsmanager`, `TrentService`. */
  targetPrefix: string;
  /** For messages: `Secrets Manager`, `KMS`. */
  title: string;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** AWS_ENDPOINT_URL_<SERVICE>, as the SDK honours it. */
  endpoint?: string;
  timeoutMs?: number;
}

/** One awsJson1.1 operation: the input object in, the answer object out; an error answer thrown as AwsServiceError. */
export type AwsJsonCall = (operation: string, input: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * An AWS JSON API as one SigV4-signed awsJson1.1 POST per call, over the signer the EKS token already uses. An SDK
 * client costs ~110 ms of a cold start for the one or two operations the bridge needs of a service (BENCHMARKS.md).
 */
export function createAwsJsonCall(options: AwsJsonService): AwsJsonCall {
  const endpoint = new URL(options.endpoint ?? `https://${options.service}.${options.region}.${dnsSuffixOf(options.region)}`);
  const signer = new SignatureV4({ service: options.service, region: options.region, credentials: options.credentials, sha256: Hash.bind(null, 'sha256') });
  const timeoutMs = options.timeoutMs ?? 3000;
  return async (operation, input) => {
    const body = JSON.stringify(input);
    const signed = await signer.sign(
      new HttpRequest({
        method: 'POST',
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port ? Number(endpoint.port) : undefined,
        path: endpoint.pathname,
        headers: {
          host: endpoint.host,
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': `${options.targetPrefix}.${operation}`,
        },
        body,
      }),
    );
    const { status, text } = await send(endpoint, signed.headers, body, timeoutMs, options.title);
    let answer: Record<string, unknown> = {};
    try {
      answer = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      if (status < 300) throw new AwsServiceError('SerializationException', `${options.title} answered ${operation} with something that is not JSON`, status);
    }
    if (status >= 300) {
      const type = String(answer.__type ?? answer.code ?? `HTTP ${status}`).split('#').pop() as string;
      throw new AwsServiceError(type, String(answer.message ?? answer.Message ?? type), status);
    }
    return answer;
  };
}

function send(endpoint: URL, headers: Record<string, string>, body: string, timeoutMs: number, title: string): Promise<{ status: number; text: string }> {
  const transport = endpoint.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const request = transport.request(endpoint, { method: 'POST', headers, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${title} did not answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}
