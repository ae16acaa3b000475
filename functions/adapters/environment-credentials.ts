import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/**
 * The function's AWS credentials as Lambda hands them over: three environment variables, read at each call as the
 * SDK's `fromEnv` reads them. Written out because `@aws-sdk/credential-provider-env` costs a cold start more than
 * these lines (BENCHMARKS.md).
 */
export function credentialsFromEnvironment(env: Record<string, string | undefined> = process.env): AwsCredentialIdentityProvider {
  return async (): Promise<AwsCredentialIdentity> => {
    const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken, AWS_CREDENTIAL_EXPIRATION: expiration } = env;
    if (!accessKeyId || !secretAccessKey) throw new Error('no AWS credentials in the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them)');
    return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }), ...(expiration && { expiration: new Date(expiration) }) };
  };
}
