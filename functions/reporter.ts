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
import { handleTektonEvent } from './core/reporting/handle-tekton-event.ts';
import { reportNamespaces } from './core/reporting/report-namespaces.ts';

// Once per container, as in the webhook function: same cluster wiring, and the GitHub client kept with its tokens.
const env = readReporterEnvironment(process.env);
const logger = new Logger({ serviceName: 'tekton-bridge', persistentKeys: { cluster: env.clusterName, function: 'reporter' } });
// The `service` dimension comes from POWERTOOLS_SERVICE_NAME (the bridge's name), as in the webhook function.
const metrics = new Metrics({ namespace: 'TektonBridge' });
// The shipped config's documents (COMPILED_TRIGGERS_FILE), read without building the config: the reporter needs
// only the namespaces, and importing the builder would bring CEL into this bundle.
const namespaces = reportNamespaces(JSON.parse(readFileSync(join(import.meta.dirname, 'triggers.json'), 'utf8')).documents);
const credentials = credentialsFromEnvironment();
const clusterClient = createClusterClient({ region: env.region, clusterName: env.clusterName, cluster: env.cluster, credentials });
const access = createGithubReporting({
  readCredentials: credentialsFromSecretsManager({
    client: createSecretValueReader({ region: env.region, credentials, endpoint: env.secretsManagerEndpoint }),
    secretId: env.github.credentialsSecretArn,
  }),
  apiUrl: env.github.apiUrl,
  warn: (message) => logger.warn(message),
});

/** The schedule stops starting new reports this long before the function's timeout. */
const SCHEDULE_MARGIN_MS = 5000;
const EVENTS_PATH = /^\/tekton\/events\/?$/;

type ReporterEvent = APIGatewayProxyEventV2 | ScheduledEvent;

/**
 * Two callers, told apart by the event's shape: API Gateway's `POST /tekton/events` (payload format 2.0) with one of
 * Tekton's CloudEvents, and the EventBridge schedule (`"source": "aws.events"`), which reports every open run.
 */
export async function handler(event: ReporterEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<APIGatewayProxyStructuredResultV2 | { listed: number; reported: number; failed: number; deferred: number }> {
  const timings: CreateTimings = { lookupMs: 0, tokenMs: 0, apiMs: 0 };
  const reporting = createRunReporting({ kube: clusterClient(timings), access, detailsUrlTemplate: env.github.detailsUrlTemplate });
  try {
    if (isHttpEvent(event)) {
      const path = event.rawPath ?? '';
      if (event.requestContext.http.method !== 'POST' || !EVENTS_PATH.test(path)) {
        return json(404, { error: `no route for ${event.requestContext.http.method} ${path}: Tekton's events go to POST /tekton/events` });
      }
      let entries: ReportEntry[] = [];
      const answer = await handleTektonEvent(requestFromApiGateway(event), {
        namespaces,
        reportRun: async (ref) => (entries = await reporting.reportEvent(ref)),
      });
      if (answer.status !== 202 || answer.body.outcome === 'ignored') {
        logger.info('tekton event not reported', { status: answer.status, outcome: answer.body.outcome, reason: answer.body.reason ?? answer.body.error, eventType: answer.body.event?.type, run: answer.body.run });
      }
      logReportEntries(logger, entries, { eventId: answer.body.event?.id, eventType: answer.body.event?.type });
      count(entries);
      return json(answer.status, answer.body);
    }
    if (isScheduledEvent(event)) {
      const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
      const summary = await reporting.reconcile(namespaces, Date.now() + remaining - SCHEDULE_MARGIN_MS);
      logReportEntries(logger, summary.entries);
      count(summary.entries);
      const { entries: _entries, ...totals } = summary;
      if (summary.problem) logger.warn('reconciliation incomplete', { ...totals, namespaces });
      else logger.info('reconciled', { ...totals, namespaces });
      return { listed: summary.listed, reported: summary.reported, failed: summary.failed, deferred: summary.deferred };
    }
    throw new TypeError('[tekton-bridge] the reporter takes API Gateway HTTP API events (POST /tekton/events) and EventBridge scheduled events');
  } finally {
    metrics.publishStoredMetrics();
  }
}

function count(entries: readonly ReportEntry[]): void {
  const { reported, failed } = reportCounts(entries);
  if (reported > 0) metrics.addMetric('Reported', MetricUnit.Count, reported);
  if (failed > 0) metrics.addMetric('ReportFailed', MetricUnit.Count, failed);
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
