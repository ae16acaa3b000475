import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createClusterResources, type CreateTimings } from './adapters/cluster-resources.ts';
import { readRetryEnvironment } from './adapters/environment.ts';
import { createRetryQueueOperations } from './adapters/retry-queue.ts';
import { parsePendingCreation, retryDelaySeconds, retryPendingCreation, type RetryDecision } from './core/retry-creation.ts';
import { messageOf } from './adapters/error-message.ts';
import { createUncreatedReporting } from './adapters/delivery-reporting.ts';
import { logReportEntries } from './adapters/report-log.ts';

// Once per container, as in the webhook function: same cluster wiring, same token, same transport.
const env = readRetryEnvironment(process.env);
const logger = new Logger({ serviceName: 'tekton-bridge', persistentKeys: { cluster: env.clusterName, function: 'retry' } });
const metrics = new Metrics({ namespace: 'TektonBridge', serviceName: 'tekton-bridge' });
const credentials = fromEnv();
const clusterResources = createClusterResources({ region: env.region, clusterName: env.clusterName, cluster: env.cluster, credentials });
const queue = createRetryQueueOperations({
  region: env.region,
  credentials,
  endpoint: env.sqsEndpoint,
  retryQueueUrl: env.retryQueueUrl,
  deadLetterQueueUrl: env.deadLetterQueueUrl,
});
// With GitHub credentials, a creation given up turns its pending commit status or check run into an error.
const reportUncreated = env.github
  ? createUncreatedReporting({ github: env.github, region: env.region, credentials, secretsManagerEndpoint: env.secretsManagerEndpoint, warn: (m) => logger.warn(m) })
  : undefined;

type RecordOutcome = 'created' | 'duplicate' | 'queued' | 'dead-lettered';

const OUTCOME_METRICS: Record<RecordOutcome, string> = { created: 'RetryCreated', duplicate: 'RetryDuplicate', queued: 'RetryPostponed', 'dead-lettered': 'DeadLettered' };

/**
 * SQS → the cluster. Each record is a creation the webhook could not make. Created or already there: done (SQS deletes
 * it). Failed but may pass: reported in batchItemFailures with its next attempt pushed back. Failed for good, or out of
 * attempts: parked in the dead-letter queue with the reason, then done. Records of a batch are independent.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const settled = await Promise.all(
    event.Records.map((record) =>
      settleRecord(record).catch((error: unknown) => {
        // A bug, not a verdict: only this record comes back (and SQS's redrive ends a loop).
        logger.error('pending creation crashed', { messageId: record.messageId, error: messageOf(error) });
        return { messageId: record.messageId, done: false };
      }),
    ),
  );
  metrics.publishStoredMetrics();
  return { batchItemFailures: settled.filter((s) => !s.done).map((s) => ({ itemIdentifier: s.messageId })) };
}

async function settleRecord(record: SQSRecord): Promise<{ messageId: string; done: boolean }> {
  const started = performance.now();
  const timings: CreateTimings = { lookupMs: 0, tokenMs: 0, apiMs: 0 };
  // Attempt 1 was the webhook's own; the first receive is attempt 2.
  const attempt = Number(record.attributes.ApproximateReceiveCount || '1') + 1;
  const parsed = parsePendingCreation(record.body);
  const ids = parsed.ok
    ? { deliveryId: parsed.pending.deliveryId, event: parsed.pending.event, eventListener: parsed.pending.eventListener, trigger: parsed.pending.trigger }
    : {};
  const decision: RetryDecision = parsed.ok
    ? await retryPendingCreation(parsed.pending, { createResource: clusterResources(timings), attempt, maxAttempts: env.maxAttempts })
    : { outcome: 'dead-letter', reason: `not a pending creation: ${parsed.reason}`, resources: [] };

  let outcome: RecordOutcome;
  let done = true;
  let reason: string | undefined;
  let nextAttemptSeconds: number | undefined;
  switch (decision.outcome) {
    case 'created':
    case 'duplicate':
      outcome = decision.outcome;
      break;
    case 'retry':
      outcome = 'queued';
      done = false;
      ({ reason, nextAttemptSeconds } = await postpone(record, attempt, decision.reason));
      break;
    case 'dead-letter':
      reason = decision.reason;
      try {
        const letter = parsed.ok ? { pending: parsed.pending, reason, attempt } : { unreadableBody: record.body, reason, attempt };
        await queue.deadLetter(letter);
        outcome = 'dead-lettered';
        // A permanent failure was reported as error by the webhook already; a queued one was left pending.
        if (reportUncreated && parsed.ok && !parsed.pending.permanent) logReportEntries(logger, await reportUncreated(parsed.pending.objects, reason), { ...ids, messageId: record.messageId });
      } catch (error) {
        // Not lost: it stays on the retry queue, and SQS moves it to the dead-letter queue after maxReceiveCount.
        outcome = 'queued';
        done = false;
        ({ reason, nextAttemptSeconds } = await postpone(record, attempt, `${reason}; the dead-letter queue could not be written (${messageOf(error)})`));
      }
      break;
  }

  const fields = {
    ...ids,
    messageId: record.messageId,
    outcome,
    reason,
    attempt,
    maxAttempts: env.maxAttempts,
    nextAttemptSeconds,
    resources: decision.resources.map((r) => `${r.kind} ${r.namespace}/${r.name}`),
    durationMs: round(performance.now() - started),
    timings: { lookupMs: round(timings.lookupMs), tokenMs: round(timings.tokenMs), apiMs: round(timings.apiMs - timings.tokenMs) },
  };
  if (outcome === 'dead-lettered') logger.error('pending creation dead-lettered', fields);
  else if (outcome === 'queued') logger.warn('pending creation postponed', fields);
  else logger.info('pending creation retried', fields);
  metrics.addMetric(OUTCOME_METRICS[outcome], MetricUnit.Count, 1);
  return { messageId: record.messageId, done };
}

/** The next attempt after a growing, jittered wait; if that cannot be set, the queue's own visibility timeout applies. */
async function postpone(record: SQSRecord, attempt: number, reason: string): Promise<{ reason: string; nextAttemptSeconds: number | undefined }> {
  const seconds = retryDelaySeconds(attempt, { baseSeconds: env.backoffBaseSeconds, maxSeconds: env.backoffMaxSeconds, jitter: Math.random() });
  try {
    await queue.postpone(record.receiptHandle, seconds);
    return { reason, nextAttemptSeconds: seconds };
  } catch (error) {
    return { reason: `${reason}; the next attempt could not be scheduled (${messageOf(error)})`, nextAttemptSeconds: undefined };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
