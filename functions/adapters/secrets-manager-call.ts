import https from 'node:https';
import http from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { dnsSuffixOf } from './aws-dns-suffix.ts';

export interface GetSecretValueInput {
  SecretId: string;
  VersionStage?: string;
}

/** The one Secrets Manager call the bridge makes; `@aws-sdk/client-secrets-manager`'s client fits it as well. */
export interface SecretValueReader {
  getSecretValue: (input: GetSecretValueInput) => Promise<{ SecretString?: string }>;
}

/** An AWS error as the SDK shapes it: `name` is the exception type (`ResourceNotFoundException`, …). */
export class AwsServiceError extends Error {
  readonly $metadata: { httpStatusCode: number };

  constructor(name: string, message: string, httpStatusCode: number) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode };
  }
}

/**
 * GetSecretValue as one SigV4-signed awsJson1.1 POST, over the signer the EKS token already uses. The SDK's
 * client costs ~110 ms of a cold start for this single call (BENCHMARKS.md). Honours AWS_ENDPOINT_URL_SECRETS_MANAGER
 * as the SDK does (passed in as `endpoint`); otherwise the region's endpoint in its partition (China: amazonaws.com.cn).
 */
export function createSecretValueReader(options: {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  endpoint?: string;
  timeoutMs?: number;
}): SecretValueReader {
  const endpoint = new URL(options.endpoint ?? `https://secretsmanager.${options.region}.${dnsSuffixOf(options.region)}`);
  const signer = new SignatureV4({ service: 'secretsmanager', region: options.region, credentials: options.credentials, sha256: Hash.bind(null, 'sha256') });
  const timeoutMs = options.timeoutMs ?? 3000;
  return {
    async getSecretValue(input) {
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
            'x-amz-target': 'secretsmanager.GetSecretValue',
          },
          body,
        }),
      );
      const { status, text } = await send(endpoint, signed.headers, body, timeoutMs);
      const answer = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      if (status >= 300) {
        const type = String(answer.__type ?? answer.code ?? `HTTP ${status}`).split('#').pop() as string;
        throw new AwsServiceError(type, String(answer.message ?? answer.Message ?? type), status);
      }
      return { SecretString: typeof answer.SecretString === 'string' ? answer.SecretString : undefined };
    },
  };
}

function send(endpoint: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; text: string }> {
  const transport = endpoint.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const request = transport.request(endpoint, { method: 'POST', headers, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`Secrets Manager did not answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}
