/** Typed readers for the Lambda environment; a missing or malformed variable is named in the error. */

export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function requiredEnv(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new EnvironmentError(`environment variable ${name} is not set`);
  return value;
}

export function optionalEnv(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

export function httpsUrlEnv(env: Env, name: string): string | undefined {
  const value = optionalEnv(env, name);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new EnvironmentError(`environment variable ${name} is not a URL: expected https://…`);
  }
  if (url.protocol !== 'https:') throw new EnvironmentError(`environment variable ${name} must be an https:// URL`);
  return value;
}

export interface WebhookEnvironment {
  region: string;
  clusterName: string;
  /** Both or neither: with them, DescribeCluster is skipped. */
  cluster: { endpoint: string; ca: string } | undefined;
  webhookSecretArn: string;
  /** The SDK's own endpoint override, honoured by the bridge's light Secrets Manager call too. */
  secretsManagerEndpoint: string | undefined;
}

export function readWebhookEnvironment(env: Env): WebhookEnvironment {
  const endpoint = httpsUrlEnv(env, 'CLUSTER_ENDPOINT');
  const ca = optionalEnv(env, 'CLUSTER_CA');
  if ((endpoint === undefined) !== (ca === undefined)) {
    throw new EnvironmentError('CLUSTER_ENDPOINT and CLUSTER_CA go together: set both, or neither to use eks:DescribeCluster');
  }
  return {
    region: requiredEnv(env, 'AWS_REGION'),
    clusterName: requiredEnv(env, 'CLUSTER_NAME'),
    cluster: endpoint && ca ? { endpoint, ca } : undefined,
    webhookSecretArn: requiredEnv(env, 'WEBHOOK_SECRET_ARN'),
    secretsManagerEndpoint: optionalEnv(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER') ?? optionalEnv(env, 'AWS_ENDPOINT_URL'),
  };
}
