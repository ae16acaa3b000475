import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { credentialsFromEnvironment } from './adapters/environment-credentials.ts';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, ScheduledEvent } from 'aws-lambda';
import { requestFromApiGateway } from './adapters/api-gateway.ts';
import { createClusterClient, type CreateTimings } from './adapters/cluster-resources.ts';
import { readReporterEnvironment } from './adapters/environment.ts';
import { credentialsFromSecretsManager } from './adapters/github-credentials-source.ts';
import { createGithubReporting } from './adapters/github-reporting.ts';
import { logReportEntries, reportCounts } from './adapters/report-log.ts';
import { createRunReporting, type ReportEntry } from './adapters/run-reporting.ts';
import { createSecretValueReader } from './adapters/secrets-manager-call.ts';
import { createGroupSettlement, type GroupEntry } from './adapters/group-settlement.ts';
import { groupMetricCounts, logGroupEntries } from './adapters/group-log.ts';
import { createRunVerifier } from './adapters/run-verifier.ts';
import { createWebhookSecretSource } from './adapters/webhook-secrets.ts';
import { redeliverOnSchedule, type ScheduledRedelivery } from './adapters/scheduled-redelivery.ts';
import { handleTektonEvent } from './core/reporting/handle-tekton-event.ts';
import { reportNamespaces } from './core/reporting/report-namespaces.ts';
import { documentsUseGroups } from './core/concurrency/group-annotations.ts';

// Once per container, as in the webhook function: same cluster wiring, and the GitHub client kept with its tokens.
const env = readReporterEnvironment(process.env);
const logger = new Logger({ serviceName: 'tekton-bridge', persistentKeys: { cluster: env.clusterName, function: 'reporter' } });
// The `service` dimension comes from POWERTOOLS_SERVICE_NAME (the bridge's name), as in the webhook function.
const metrics = new Metrics({ namespace: 'TektonBridge' });
// The shipped config's documents (COMPILED_TRIGGERS_FILE), read without building the config: the reporter needs
// only the namespaces, and importing the builder would bring CEL into this bundle.
const documents = JSON.parse(readFileSync(join(import.meta.dirname, 'triggers.json'), 'utf8')).documents;
const namespaces = reportNamespaces(documents);
const usesGroups = documentsUseGroups(documents);
const credentials = credentialsFromEnvironment();
const clusterClient = createClusterClient({ region: env.region, clusterName: env.clusterName, cluster: env.cluster, credentials });
const secretsManager = createSecretValueReader({ region: env.region, credentials, endpoint: env.secretsManagerEndpoint });
// Without GitHub credentials the reporter still runs the concurrency groups' queues.
const access =
  env.github &&
  createGithubReporting({
    readCredentials: credentialsFromSecretsManager({ client: secretsManager, secretId: env.github.credentialsSecretArn }),
    apiUrl: env.github.apiUrl,
    warn: (message) => logger.warn(message),
  });
// Only runs signed with a key derived from the webhook secret are reported, cancelled, started or pruned.
const webhookSecrets = createWebhookSecretSource({ client: secretsManager, secretId: env.webhookSecretArn, graceMs: env.previousSecretGraceHours * 3_600_000 });
const verifyRun = createRunVerifier({ current: () => webhookSecrets.current(), previous: () => webhookSecrets.previous() });

/** The schedule stops starting new reports this long before the function's timeout. */
const SCHEDULE_MARGIN_MS = 5000;
const EVENTS_PATH = /^\/tekton\/events\/?$/;

type ReporterEvent = APIGatewayProxyEventV2 | ScheduledEvent;

/**
 * Two callers, told apart by the event's shape: API Gateway's `POST /tekton/events` (payload format 2.0) with one of
 * Tekton's CloudEvents, and the EventBridge schedule (`"source": "aws.events"`), which reports every open run, then
 * asks GitHub to redeliver the deliveries that failed.
 */
export async function handler(
  event: ReporterEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<APIGatewayProxyStructuredResultV2 | { listed: number; reported: number; failed: number; deferred: number; groups: number; redelivery?: ScheduledRedelivery }> {
  const timings: CreateTimings = { lookupMs: 0, tokenMs: 0, apiMs: 0 };
  const kube = clusterClient(timings);
  const reporting = access && createRunReporting({ kube, access, detailsUrlTemplate: env.github?.detailsUrlTemplate, verifyRun });
  const groups = usesGroups ? createGroupSettlement({ kube, verifyRun, awaitReports: reporting !== undefined }) : undefined;
  try {
    if (isHttpEvent(event)) {
      const path = event.rawPath ?? '';
      if (event.requestContext.http.method !== 'POST' || !EVENTS_PATH.test(path)) {
        return json(404, { error: `no route for ${event.requestContext.http.method} ${path}: Tekton's events go to POST /tekton/events` });
      }
      let entries: ReportEntry[] = [];
      let groupEntries: GroupEntry[] = [];
      const answer = await handleTektonEvent(requestFromApiGateway(event), {
        namespaces,
        reportRun: async (ref) => {
          entries = reporting ? await reporting.reportEvent(ref) : [];
          // A run that finished frees a slot of its group: the next one starts now, not on the schedule.
          groupEntries = groups ? await groups.settleGroupOf(ref) : [];
          return entries;
        },
      });
      if (answer.status !== 202 || answer.body.outcome === 'ignored') {
        logger.info('tekton event not reported', { status: answer.status, outcome: answer.body.outcome, reason: answer.body.reason ?? answer.body.error, eventType: answer.body.event?.type, run: answer.body.run });
      }
      logReportEntries(logger, entries, { eventId: answer.body.event?.id, eventType: answer.body.event?.type });
      logGroupEntries(logger, groupEntries, { eventId: answer.body.event?.id });
      count(entries, groupEntries);
      return json(answer.status, answer.body);
    }
    if (isScheduledEvent(event)) {
      const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
      const deadline = Date.now() + remaining - SCHEDULE_MARGIN_MS;
      const summary = reporting ? await reporting.reconcile(namespaces, deadline) : { listed: 0, reported: 0, failed: 0, deferred: 0, entries: [] };
      logReportEntries(logger, summary.entries);
      const { entries: _entries, ...totals } = summary;
      if (summary.problem) logger.warn('reconciliation incomplete', { ...totals, namespaces });
      else if (reporting) logger.info('reconciled', { ...totals, namespaces });
      // So a queue never sticks when an event is lost.
      const settled = groups ? await groups.settleActive(namespaces, deadline) : { groups: 0, entries: [] };
      logGroupEntries(logger, settled.entries);
      if (settled.problem) logger.warn('concurrency groups not all settled', { groups: settled.groups, problem: settled.problem, namespaces });
      count(summary.entries, settled.entries);
      // Only once the runs are reported and the groups settled, which the deadline was first kept for.
      const redelivery = access && (await redeliverOnSchedule({ access, settings: env.redelivery, deadline, logger, count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value) }));
      return { listed: summary.listed, reported: summary.reported, failed: summary.failed, deferred: summary.deferred, groups: settled.groups, ...(redelivery && { redelivery }) };
    }
    throw new TypeError('[tekton-bridge] the reporter takes API Gateway HTTP API events (POST /tekton/events) and EventBridge scheduled events');
  } finally {
    metrics.publishStoredMetrics();
  }
}

function count(entries: readonly ReportEntry[], groupEntries: readonly GroupEntry[]): void {
  const { reported, failed } = reportCounts(entries);
  if (reported > 0) metrics.addMetric('Reported', MetricUnit.Count, reported);
  if (failed > 0) metrics.addMetric('ReportFailed', MetricUnit.Count, failed);
  for (const [name, value] of groupMetricCounts(groupEntries)) metrics.addMetric(name, MetricUnit.Count, value);
}

function isHttpEvent(event: ReporterEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === '2.0' && typeof (event as APIGatewayProxyEventV2).requestContext?.http?.method === 'string';
}

function isScheduledEvent(event: ReporterEvent): event is ScheduledEvent {
  return (event as ScheduledEvent).source === 'aws.events' || (event as ScheduledEvent)['detail-type'] === 'Scheduled Event';
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(body) };
}
