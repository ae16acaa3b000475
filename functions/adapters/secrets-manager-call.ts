import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { createAwsJsonCall } from './aws-json-call.ts';

export { AwsServiceError } from './aws-json-call.ts';

export interface GetSecretValueInput {
  SecretId: string;
  VersionStage?: string;
}

/** What the bridge reads of a secret version: its text, and when the version was made (epoch seconds, as AWS says it). */
export interface SecretValue {
  SecretString?: string;
  CreatedDate?: number;
}

/** The one Secrets Manager call the bridge makes; `@aws-sdk/client-secrets-manager`'s client fits it as well. */
export interface SecretValueReader {
  getSecretValue: (input: GetSecretValueInput) => Promise<SecretValue>;
}

/** GetSecretValue over the light AWS JSON call; honours AWS_ENDPOINT_URL_SECRETS_MANAGER (passed in as `endpoint`). */
export function createSecretValueReader(options: {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  endpoint?: string;
  timeoutMs?: number;
}): SecretValueReader {
  const call = createAwsJsonCall({ ...options, service: 'secretsmanager', targetPrefix: 'secretsmanager', title: 'Secrets Manager' });
  return {
    async getSecretValue(input) {
      const answer = await call('GetSecretValue', { ...input });
      return {
        SecretString: typeof answer.SecretString === 'string' ? answer.SecretString : undefined,
        CreatedDate: typeof answer.CreatedDate === 'number' ? answer.CreatedDate : undefined,
      };
    },
  };
}
