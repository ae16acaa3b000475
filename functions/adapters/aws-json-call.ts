import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { dnsSuffixOf } from './aws-dns-suffix.ts';
import { AwsServiceError, awsErrorOf, createSignedAwsRequest } from './signed-aws-request.ts';

export { AwsServiceError } from './signed-aws-request.ts';

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
  const send = createSignedAwsRequest({
    service: options.service,
    region: options.region,
    credentials: options.credentials,
    endpoint: new URL(options.endpoint ?? `https://${options.service}.${options.region}.${dnsSuffixOf(options.region)}`),
    what: options.title,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
  return async (operation, input) => {
    const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${options.targetPrefix}.${operation}` };
    const answer = await send({ method: 'POST', path: '/', headers, body: JSON.stringify(input) });
    if (answer.status >= 300) throw awsErrorOf(answer);
    try {
      return answer.text ? (JSON.parse(answer.text) as Record<string, unknown>) : {};
    } catch {
      throw new AwsServiceError('SerializationException', `${options.title} answered ${operation} with something that is not JSON`, answer.status);
    }
  };
}
