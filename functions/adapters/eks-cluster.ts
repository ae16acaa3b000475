import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { ClusterLookupError } from './adapter-errors.ts';
import { dnsSuffixOf } from './aws-dns-suffix.ts';
import { messageOf } from './error-message.ts';
import { awsErrorOf, createSignedAwsRequest } from './signed-aws-request.ts';

/** What the Kubernetes client needs to reach a cluster: its API endpoint and its CA as PEM. */
export interface ClusterAccess {
  endpoint: string;
  ca: string;
}

interface DescribeClusterAnswer {
  cluster?: { endpoint?: string; status?: string; certificateAuthority?: { data?: string } };
}

/**
 * Finds the cluster's endpoint and CA with eks:DescribeCluster, once per container: both only change when the
 * cluster is replaced. A failed lookup is not cached, so the next delivery tries again.
 * One signed restJson1 GET (`/clusters/{name}`): `@aws-sdk/client-eks` costs ~100 ms of a cold start for it
 * (BENCHMARKS.md). `endpoint` is AWS_ENDPOINT_URL_EKS when set, as the SDK would honour it.
 */
export function createClusterLookup(options: {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  endpoint?: string;
  timeoutMs?: number;
}): () => Promise<ClusterAccess> {
  const { clusterName, region } = options;
  const send = createSignedAwsRequest({
    service: 'eks',
    region,
    credentials: options.credentials,
    endpoint: new URL(options.endpoint ?? `https://eks.${region}.${dnsSuffixOf(region)}`),
    what: 'EKS',
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
  });
  let cached: Promise<ClusterAccess> | undefined;

  const describe = async (): Promise<ClusterAccess> => {
    let cluster: DescribeClusterAnswer['cluster'];
    try {
      const answer = await send({ method: 'GET', path: `/clusters/${encodeURIComponent(clusterName)}` });
      if (answer.status >= 300) throw awsErrorOf(answer);
      ({ cluster } = JSON.parse(answer.text) as DescribeClusterAnswer);
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'ResourceNotFoundException') {
        throw new ClusterLookupError(`EKS cluster ${clusterName} not found in region ${region}`, { cause: error });
      }
      if (name === 'AccessDeniedException') {
        throw new ClusterLookupError(
          `not allowed to describe EKS cluster ${clusterName} in region ${region} (eks:DescribeCluster): ${messageOf(error)}`,
          { cause: error },
        );
      }
      throw new ClusterLookupError(`could not describe EKS cluster ${clusterName} in region ${region}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const endpoint = cluster?.endpoint;
    const caData = cluster?.certificateAuthority?.data;
    if (!endpoint || !caData) {
      throw new ClusterLookupError(
        `EKS cluster ${clusterName} in region ${region} has no endpoint or certificate authority yet (status ${cluster?.status ?? 'unknown'})`,
      );
    }
    return { endpoint, ca: Buffer.from(caData, 'base64').toString('utf8') };
  };

  return () => {
    cached ??= describe().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

/**
 * The cluster as configured (CLUSTER_ENDPOINT and CLUSTER_CA), which spares the DescribeCluster call on a cold start.
 * The CA may be PEM or, as EKS and kubeconfig's certificate-authority-data carry it, base64 of the PEM.
 */
export function clusterAccessFromSettings(settings: { endpoint: string; ca: string }): ClusterAccess {
  let endpoint: URL;
  try {
    endpoint = new URL(settings.endpoint);
  } catch (error) {
    throw new ClusterLookupError(`CLUSTER_ENDPOINT is not a URL: ${settings.endpoint}`, { cause: error });
  }
  if (endpoint.protocol !== 'https:') {
    throw new ClusterLookupError(`CLUSTER_ENDPOINT must be an https:// URL, not ${settings.endpoint}`);
  }
  const text = settings.ca.trim();
  const pem = text.startsWith('-----BEGIN') ? text : Buffer.from(text, 'base64').toString('utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ClusterLookupError('CLUSTER_CA is neither a PEM certificate nor base64 of one');
  }
  return { endpoint: settings.endpoint, ca: pem };
}
