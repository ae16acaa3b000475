/** The access key every bundle under test signs with: moto and the Kubernetes API test server accept it. */
export const TEST_AWS_CREDENTIALS = { accessKeyId: 'AKIDTEKTONBRIDGETEST', secretAccessKey: 'tekton-bridge-test-secret-access-key' };

/**
 * What the stack gives every function, pointed at loopback: Secrets Manager on moto, the cluster on the Kubernetes API
 * test server (endpoint and CA given, as the stack gives them), and the webhook secret the runs are signed with.
 */
export function loopbackFunctionEnvironment(options: {
  secretsManagerEndpoint: string;
  cluster: { name: string; url: string; caPem: string };
  webhookSecretArn: string;
}): Record<string, string | undefined> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: TEST_AWS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_AWS_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: options.secretsManagerEndpoint,
    CLUSTER_NAME: options.cluster.name,
    CLUSTER_ENDPOINT: options.cluster.url,
    CLUSTER_CA: Buffer.from(options.cluster.caPem).toString('base64'),
    WEBHOOK_SECRET_ARN: options.webhookSecretArn,
  };
}
