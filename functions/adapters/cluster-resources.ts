import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { CreateResource } from '../core/delivery-types.ts';
import { clusterAccessFromSettings, createClusterLookup, type ClusterAccess } from './eks-cluster.ts';
import { createEksTokenProvider } from './eks-token.ts';
import { createKubernetesClient, createWithReadBack, type CallFailure, type KubernetesClient } from './kubernetes-api.ts';

/** Where the time of one invocation's cluster calls went; the token is measured apart from (and inside) the API time. */
export interface CreateTimings {
  lookupMs: number;
  tokenMs: number;
  apiMs: number;
}

export interface ClusterTarget {
  region: string;
  clusterName: string;
  /** CLUSTER_ENDPOINT and CLUSTER_CA, when the deployment resolved them; otherwise eks:DescribeCluster. */
  cluster: { endpoint: string; ca: string } | undefined;
  credentials: AwsCredentialIdentityProvider;
  /** AWS_ENDPOINT_URL_EKS, for DescribeCluster; default the regional endpoint. */
  eksEndpoint?: string | undefined;
  /** With `cluster` given, open the connection to the API now, before the first call (a cold start's head start). */
  connectNow?: boolean;
}

/**
 * The cluster as the Lambda functions reach it: looked up once per container (DescribeCluster unless the endpoint and
 * CA are configured), EKS tokens signed with the function's role and reused, one keep-alive HTTPS client. Returns a
 * KubernetesClient per invocation that adds its time to that invocation's timings. A failed lookup is a retryable
 * failure of the call that needed it, and is tried again on the next call.
 */
export function createClusterClient(target: ClusterTarget): (timings: CreateTimings) => KubernetesClient {
  const lookupCluster: () => Promise<ClusterAccess> = target.cluster
    ? async () => clusterAccessFromSettings(target.cluster as ClusterAccess)
    : createClusterLookup({ clusterName: target.clusterName, region: target.region, credentials: target.credentials, ...(target.eksEndpoint && { endpoint: target.eksEndpoint }) });
  const tokens = createEksTokenProvider({ clusterName: target.clusterName, region: target.region, credentials: target.credentials });
  let client: Promise<KubernetesClient> | undefined;
  // Lambda runs one invocation at a time per container: the token time goes to the invocation that asked.
  let current: CreateTimings | undefined;

  const connect = (): Promise<KubernetesClient> =>
    (client ??= lookupCluster().then((access) =>
      createKubernetesClient({
        server: access.endpoint,
        ca: access.ca,
        connectNow: target.connectNow === true,
        getToken: async (opts) => {
          const tokenStart = performance.now();
          try {
            return await tokens.getToken(opts);
          } finally {
            if (current) current.tokenMs += performance.now() - tokenStart;
          }
        },
      }),
    ));

  // A failure here is the first call's to report, as it would have been without the head start.
  if (target.cluster && target.connectNow) connect().catch(() => (client = undefined));

  return (timings) => {
    const timed =
      <A extends unknown[], R>(operation: (kube: KubernetesClient) => (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R | CallFailure> => {
        current = timings;
        let start = performance.now();
        let kube: KubernetesClient;
        try {
          kube = await connect();
        } catch (error) {
          client = undefined;
          return { outcome: 'failed', reason: (error as Error).message, retryable: true };
        } finally {
          timings.lookupMs += performance.now() - start;
        }
        start = performance.now();
        try {
          return await operation(kube)(...args);
        } finally {
          timings.apiMs += performance.now() - start;
        }
      };
    return {
      create: timed((kube) => kube.create),
      get: timed((kube) => kube.get),
      list: timed((kube) => kube.list),
      patch: timed((kube) => kube.patch),
      delete: timed((kube) => kube.delete),
    };
  };
}

/** The webhook's and the retry function's one operation: create (reading the object back on AlreadyExists). */
export function createClusterResources(target: ClusterTarget): (timings: CreateTimings) => CreateResource {
  const clusterClient = createClusterClient(target);
  return (timings) => createWithReadBack(clusterClient(timings));
}
