import type { EKSClient } from '@aws-sdk/client-eks';
import { ClusterLookupError } from './adapter-errors.ts';
import { messageOf } from './error-message.ts';

/** What the Kubernetes client needs to reach a cluster: its API endpoint and its CA as PEM. */
export interface ClusterAccess {
  endpoint: string;
  ca: string;
}

/**
 * Finds the cluster's endpoint and CA with eks:DescribeCluster, once per container: both only change when the
 * cluster is replaced. A failed lookup is not cached, so the next delivery tries again.
 */
export function createClusterLookup(options: { eks: EKSClient; clusterName: string }): () => Promise<ClusterAccess> {
  const { eks, clusterName } = options;
  let cached: Promise<ClusterAccess> | undefined;

  const describe = async (): Promise<ClusterAccess> => {
    const region = await regionOf(eks);
    let cluster;
    try {
      // Loaded here, not at the top: the Lambda bundle leaves the EKS client out, for the runtime to provide when needed.
      const { DescribeClusterCommand } = await import('@aws-sdk/client-eks');
      ({ cluster } = await eks.send(new DescribeClusterCommand({ name: clusterName })));
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

async function regionOf(eks: EKSClient): Promise<string> {
  try {
    return await eks.config.region();
  } catch {
    return 'unknown';
  }
}
