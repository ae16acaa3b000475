import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { requestFromApiGateway, resultFromAnswer } from './adapters/api-gateway.ts';
import type { CreateTimings } from './adapters/cluster-resources.ts';
import { createDeliveryReporting } from './adapters/delivery-reporting.ts';
import { settleDeliveryGroups } from './adapters/delivery-group-settlement.ts';
import { groupMetricCounts, logGroupEntries } from './adapters/group-log.ts';
import { createRunVerifier } from './adapters/run-verifier.ts';
import { createCelFeatureModules } from './adapters/cel-feature-modules.ts';
import { credentialsFromSecretsManager, type CredentialsSource } from './adapters/github-credentials-source.ts';
import { createGithubLookups, githubLookupsUnavailable } from './adapters/github-lookups.ts';
import { createGithubReporting, type ReportingAccess } from './adapters/github-reporting.ts';
import { createWithReadBack } from './adapters/kubernetes-api.ts';
import { logReportEntries, reportCounts } from './adapters/report-log.ts';
import { deliveryLogFields, deliveryLogMessage, unverifiedRequestFields } from './adapters/delivery-log.ts';
import type { GithubEnvironment } from './adapters/environment.ts';
import { createRetryMessageMac } from './adapters/retry-message-mac.ts';
import { createRetryQueueSender } from './adapters/retry-queue.ts';
import { COMPILED_TRIGGERS_FILE, loadCompiledTriggers } from './adapters/compiled-triggers.ts';
import { createTriggerSecretsSource, unavailableTriggerSecrets } from './adapters/trigger-secrets.ts';
import type { TriggerSecretStore } from './core/cel/evaluation-scope.ts';
import type { EnqueueCreation } from './core/delivery-types.ts';
import { handleDelivery } from './core/handle-delivery.ts';
import { clusterClient, credentials, env, secretsManager, webhookSecrets } from './webhook-first-reads.ts';

const HOUR_MS = 3_600_000;

// Once per container: a bad config fails the cold start loudly, and clients are reused.
const logger = new Logger({ serviceName: 'tekton-bridge', persistentKeys: { cluster: env.clusterName } });
// The `service` dimension comes from POWERTOOLS_SERVICE_NAME: the bridge's name, so two stacks keep their metrics apart.
const metrics = new Metrics({ namespace: 'TektonBridge' });
const config = loadCompiledTriggers(join(import.meta.dirname, COMPILED_TRIGGERS_FILE));
for (const warning of config.warnings) logger.warn('trigger config warning', { ...warning });

// Read only for a config whose CEL calls compareSecret.
const readTriggerSecrets =
  config.cel.usesTriggerSecrets && env.triggerSecretsArn ? createTriggerSecretsSource({ client: secretsManager, secretId: env.triggerSecretsArn }) : undefined;
if (config.cel.usesTriggerSecrets && !env.triggerSecretsArn) logger.warn('the trigger config calls compareSecret but TRIGGER_SECRETS_ARN is not set: those triggers will fail');
// Runs are the bridge's only if their signature verifies: other runs in a group are checked before it acts on them.
const verifyRun = createRunVerifier({ current: () => webhookSecrets.current(), previous: () => webhookSecrets.previous() });
// With GitHub credentials configured, the commit hears of each run, and the github interceptor may ask GitHub's API
// (a pull request's files, githubOwners); the GitHub client loads on the first use.
const github = env.github && githubClientOf(env.github);
const reporting = env.github && github && createDeliveryReporting({ github: env.github, config, verifyRun, warn: (m) => logger.warn(m), ...github });
const lookupGithub = github
  ? createGithubLookups({ access: github.access, yaml: createCelFeatureModules({ chunkDir: import.meta.dirname }).yaml })
  : githubLookupsUnavailable("GITHUB_CREDENTIALS_SECRET_ARN is not set: the bridge has no GitHub credentials to ask GitHub's API with");
// Without a queue, a failed creation is answered 503 as before. The SQS client is loaded, and KMS called, only when one fails.
const sendToRetryQueue =
  env.retryQueueUrl && env.retryMessageMacKeyArn
    ? createRetryQueueSender({
        region: env.region,
        credentials,
        endpoint: env.sqsEndpoint,
        queueUrl: env.retryQueueUrl,
        maxAttempts: 2,
        timeoutMs: 2000,
        mac: createRetryMessageMac({ region: env.region, credentials, endpoint: env.kmsEndpoint, keyArn: env.retryMessageMacKeyArn, timeoutMs: 1500 }),
      })
    : undefined;

/** One source of the GitHub credentials secret, and one client made from it, shared by reporting and the lookups. */
function githubClientOf(settings: GithubEnvironment): { readCredentials: CredentialsSource; access: () => Promise<ReportingAccess> } {
  const readCredentials = credentialsFromSecretsManager({ client: secretsManager, secretId: settings.credentialsSecretArn });
  return { readCredentials, access: createGithubReporting({ readCredentials, apiUrl: settings.apiUrl, warn: (m) => logger.warn(m) }) };
}

interface AdapterTimings extends CreateTimings {
  secretMs: number;
  queueMs: number;
}

function timedEnqueue(enqueue: EnqueueCreation, timings: AdapterTimings): EnqueueCreation {
  return async (pending) => {
    const start = performance.now();
    try {
      return await enqueue(pending);
    } finally {
      timings.queueMs += performance.now() - start;
    }
  };
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const started = performance.now();
  const timings: AdapterTimings = { secretMs: 0, lookupMs: 0, tokenMs: 0, apiMs: 0, queueMs: 0 };
  const request = requestFromApiGateway(event);
  // Cached like the webhook secret, and read beside it; unreadable, it fails only the triggers that compare with it.
  const pendingTriggerSecrets = readTriggerSecrets?.().catch((error: unknown) => unavailableTriggerSecrets((error as Error).message));
  let secrets: string[];
  try {
    const current = webhookSecrets.current();
    // Beside the webhook secret, after it: a cold delivery that creates would otherwise wait one more round trip to report.
    reporting?.readAhead();
    secrets = await current;
  } catch (error) {
    logger.error('webhook secret unavailable', { error: (error as Error).message, ...unverifiedRequestFields(request.headers) });
    // Every delivery is refused until this is fixed; the count is alarmed (<name>-secret-read-failures).
    metrics.addMetric('SecretReadFailures', MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    return resultFromAnswer({ status: 503, body: { deliveryId: request.headers['x-github-delivery'], error: 'the webhook secret cannot be read right now; redeliver later' } });
  } finally {
    timings.secretMs = performance.now() - started;
  }
  const triggerSecrets: TriggerSecretStore | undefined = await pendingTriggerSecrets;
  // The token provider measures itself inside the API time; report it apart.
  const kube = clusterClient(timings);
  const report = await handleDelivery(request, {
    config,
    secrets,
    triggerSecrets,
    previousSecrets: async () => {
      const start = performance.now();
      try {
        return await webhookSecrets.previous();
      } finally {
        timings.secretMs += performance.now() - start;
      }
    },
    wallClock: Date.now,
    maxPushAgeMs: env.maxPushAgeHours * HOUR_MS,
    createResource: createWithReadBack(kube),
    ...(sendToRetryQueue && { enqueue: timedEnqueue(sendToRetryQueue, timings) }),
    now: () => performance.now(),
    lookupGithub,
  });
  const durationMs = performance.now() - started;
  const fields = deliveryLogFields(report, durationMs, { ...timings, apiMs: timings.apiMs - timings.tokenMs }, request.headers);
  if (report.answer.status >= 500) logger.error(deliveryLogMessage(report), fields);
  else logger.info(deliveryLogMessage(report), fields);
  // Before the report, so GitHub hears of a run as queued or cancelled rather than as merely pending.
  const groupEntries = await settleDeliveryGroups(report, { kube, verifyRun, awaitReports: reporting !== undefined });
  logGroupEntries(logger, groupEntries, { deliveryId: report.deliveryId });
  for (const [name, count] of groupMetricCounts(groupEntries)) metrics.addMetric(name, MetricUnit.Count, count);
  if (reporting) {
    const entries = await reporting.report(report, kube, performance.now() - started);
    logReportEntries(logger, entries, { deliveryId: report.deliveryId });
    const counts = reportCounts(entries);
    if (counts.reported > 0) metrics.addMetric('Reported', MetricUnit.Count, counts.reported);
    if (counts.failed > 0) metrics.addMetric('ReportFailed', MetricUnit.Count, counts.failed);
  }
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
