import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { createEksTokenProvider } from '../adapters/eks-token.ts';

/**
 * `tekton-bridge token`: prints an ExecCredential as `aws eks get-token` does, so a kubeconfig can use the bridge
 * as its exec plugin. Credentials come from the AWS SDK's default chain unless given.
 */
export async function runTokenCommand(
  args: { cluster: string; region: string },
  io: { stdout: (text: string) => void },
  deps: { credentials?: AwsCredentialIdentityProvider; now?: () => number } = {},
): Promise<void> {
  const provider = createEksTokenProvider({
    clusterName: args.cluster,
    region: args.region,
    credentials: deps.credentials ?? fromNodeProviderChain(),
    ...(deps.now !== undefined && { now: deps.now }),
  });
  const { token, expirationTimestamp } = await provider.getCredential();
  const credential = {
    kind: 'ExecCredential',
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    spec: {},
    status: { expirationTimestamp, token },
  };
  io.stdout(`${JSON.stringify(credential)}\n`);
}
