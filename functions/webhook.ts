import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { requestFromApiGateway, resultFromAnswer } from './adapters/api-gateway.ts';
import { deliveryLogFields, deliveryLogMessage } from './adapters/delivery-log.ts';
import { clusterAccessFromSettings, type ClusterAccess } from './adapters/eks-cluster.ts';
import { createEksTokenProvider } from './adapters/eks-token.ts';
import { readWebhookEnvironment } from './adapters/environment.ts';
import { createResourceCreator } from './adapters/kubernetes-api.ts';
import { loadTriggersDirectory } from './adapters/triggers-directory.ts';
import { createSecretValueReader } from './adapters/secrets-manager-call.ts';
import { createWebhookSecretSource } from './adapters/webhook-secrets.ts';
import type { CreateResource } from './core/delivery-types.ts';
import { handleDelivery } from './core/handle-delivery.ts';

// Once per container: a bad environment or config fails the cold start loudly, and clients are reused.
const env = readWebhookEnvironment(process.env);
const logger = new Logger({ serviceName: 'tekton-bridge', persistentKeys: { cluster: env.clusterName } });
const metrics = new Metrics({ namespace: 'TektonBridge', serviceName: 'tekton-bridge' });
const config = loadTriggersDirectory(join(import.meta.dirname, 'triggers'));
for (const warning of config.warnings) logger.warn('trigger config warning', { ...warning });

const credentials = fromEnv();
const readSecrets = createWebhookSecretSource({
  client: createSecretValueReader({ region: env.region, credentials, endpoint: env.secretsManagerEndpoint }),
  secretId: env.webhookSecretArn,
});
const lookupCluster: () => Promise<ClusterAccess> = env.cluster
  ? async () => clusterAccessFromSettings(env.cluster as ClusterAccess)
  : describeClusterOnce(env.clusterName);
const tokens = createEksTokenProvider({ clusterName: env.clusterName, region: env.region, credentials });
let creator: Promise<CreateResource> | undefined;

/** The EKS client is loaded only where the deployment did not resolve the endpoint and CA already. */
function describeClusterOnce(clusterName: string): () => Promise<ClusterAccess> {
  let lookup: Promise<() => Promise<ClusterAccess>> | undefined;
  return async () => {
    lookup ??= Promise.all([import('@aws-sdk/client-eks'), import('./adapters/eks-cluster.ts')]).then(([{ EKSClient }, { createClusterLookup }]) =>
      createClusterLookup({ eks: new EKSClient({}), clusterName }),
    );
    return (await lookup)();
  };
}

interface AdapterTimings {
  secretMs: number;
  lookupMs: number;
  tokenMs: number;
  apiMs: number;
}

/** Creates through the cluster's API, looking the cluster up on first use; timings go to the delivery's log line. */
function timedCreateResource(timings: AdapterTimings): CreateResource {
  return async (object) => {
    let start = performance.now();
    creator ??= lookupCluster().then((access) =>
      createResourceCreator({
        server: access.endpoint,
        ca: access.ca,
        getToken: async (opts) => {
          const tokenStart = performance.now();
          try {
            return await tokens.getToken(opts);
          } finally {
            timings.tokenMs += performance.now() - tokenStart;
          }
        },
      }),
    );
    let create: CreateResource;
    try {
      create = await creator;
    } catch (error) {
      creator = undefined;
      return { outcome: 'failed', reason: (error as Error).message, retryable: true };
    } finally {
      timings.lookupMs += performance.now() - start;
    }
    start = performance.now();
    try {
      return await create(object);
    } finally {
      timings.apiMs += performance.now() - start;
    }
  };
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const started = performance.now();
  const timings: AdapterTimings = { secretMs: 0, lookupMs: 0, tokenMs: 0, apiMs: 0 };
  const request = requestFromApiGateway(event);
  let secrets: string[];
  try {
    secrets = await readSecrets();
  } catch (error) {
    logger.error('webhook secret unavailable', { error: (error as Error).message, deliveryId: request.headers['x-github-delivery'] });
    return resultFromAnswer({ status: 503, body: { deliveryId: request.headers['x-github-delivery'], error: 'the webhook secret cannot be read right now; redeliver later' } });
  } finally {
    timings.secretMs = performance.now() - started;
  }
  // The token provider measures itself inside the API time; report it apart.
  const report = await handleDelivery(request, { config, secrets, createResource: timedCreateResource(timings), now: () => performance.now() });
  const durationMs = performance.now() - started;
  const fields = deliveryLogFields(report, durationMs, { ...timings, apiMs: timings.apiMs - timings.tokenMs });
  if (report.answer.status >= 500) logger.error(deliveryLogMessage(report), fields);
  else logger.info(deliveryLogMessage(report), fields);
  recordMetrics(report.answer.status, report.answer.body.results ?? [], durationMs);
  return resultFromAnswer(report.answer);
}

const OUTCOME_METRICS = { created: 'Created', skipped: 'Skipped', duplicate: 'Duplicate', queued: 'Queued', failed: 'Failed' } as const;

function recordMetrics(status: number, results: readonly { outcome: keyof typeof OUTCOME_METRICS }[], durationMs: number): void {
  metrics.addMetric('Deliveries', MetricUnit.Count, 1);
  if (status === 401) metrics.addMetric('RejectedSignatures', MetricUnit.Count, 1);
  for (const [outcome, name] of Object.entries(OUTCOME_METRICS)) {
    const count = results.filter((r) => r.outcome === outcome).length;
    if (count > 0) metrics.addMetric(name, MetricUnit.Count, count);
  }
  metrics.addMetric('DeliveryDuration', MetricUnit.Milliseconds, durationMs);
  metrics.publishStoredMetrics();
}
