import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { credentialsFromEnvironment } from './adapters/environment-credentials.ts';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createClusterResources, type CreateTimings } from './adapters/cluster-resources.ts';
import { readRetryEnvironment } from './adapters/environment.ts';
import { COMPILED_TRIGGERS_FILE, loadCompiledTriggers } from './adapters/compiled-triggers.ts';
import { createRetryMessageMac, MAC_ATTRIBUTE } from './adapters/retry-message-mac.ts';
import { createRetryQueueOperations } from './adapters/retry-queue.ts';
import type { PendingCreation } from './core/delivery-types.ts';
import { parsePendingCreation, renderPendingCreation, retryDelaySeconds, retryPendingCreation, type RenderedCreation, type RetryDecision } from './core/retry-creation.ts';
import { messageOf } from './adapters/error-message.ts';
import { createUncreatedReporting } from './adapters/delivery-reporting.ts';
import { logReportEntries } from './adapters/report-log.ts';

// Once per container, as in the webhook function: same cluster wiring, same token, same transport.
const env = readRetryEnvironment(process.env);
const logger = new Logger({ serviceName: 'tekton-bridge', persistentKeys: { cluster: env.clusterName, function: 'retry' } });
// The `service` dimension comes from POWERTOOLS_SERVICE_NAME (the bridge's name), as in the webhook function.
const metrics = new Metrics({ namespace: 'TektonBridge' });
// The same bundled config as the webhook's: a queued creation is rendered again from it, never taken from the message.
const config = loadCompiledTriggers(join(import.meta.dirname, COMPILED_TRIGGERS_FILE));
const credentials = credentialsFromEnvironment();
const clusterResources = createClusterResources({ region: env.region, clusterName: env.clusterName, cluster: env.cluster, eksEndpoint: env.eksEndpoint, credentials });
const mac = createRetryMessageMac({ region: env.region, credentials, endpoint: env.kmsEndpoint, keyArn: env.retryMessageMacKeyArn });
const queue = createRetryQueueOperations({
  region: env.region,
  credentials,
  endpoint: env.sqsEndpoint,
  retryQueueUrl: env.retryQueueUrl,
  deadLetterQueueUrl: env.deadLetterQueueUrl,
  mac,
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
  let accepted: Accepted;
  try {
    accepted = await acceptRecord(record);
  } catch (error) {
    // KMS could not say: not a verdict on the message, so it waits for the next attempt.
    const { reason, nextAttemptSeconds } = await postpone(record, attempt, `the message's MAC could not be checked (${messageOf(error)})`);
    logger.warn('pending creation postponed', { messageId: record.messageId, outcome: 'queued', reason, attempt, nextAttemptSeconds });
    metrics.addMetric(OUTCOME_METRICS.queued, MetricUnit.Count, 1);
    return { messageId: record.messageId, done: false };
  }
  const pending = accepted.ok ? accepted.pending : undefined;
  const ids = pending ? { deliveryId: pending.deliveryId, event: pending.event, eventListener: pending.eventListener, trigger: pending.trigger } : {};
  const decision: RetryDecision = accepted.ok
    ? await retryPendingCreation(accepted.pending, accepted.rendered, { createResource: clusterResources(timings), attempt, maxAttempts: env.maxAttempts })
    : { outcome: 'dead-letter', reason: `not accepted: ${accepted.reason}`, resources: [] };

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
        const letter = pending ? { pending, reason, attempt } : { unreadableBody: record.body, reason, attempt };
        await queue.deadLetter(letter);
        outcome = 'dead-lettered';
      } catch (error) {
        // Not lost: it stays on the retry queue, and SQS moves it to the dead-letter queue after maxReceiveCount.
        outcome = 'queued';
        done = false;
        ({ reason, nextAttemptSeconds } = await postpone(record, attempt, `${reason}; the dead-letter queue could not be written (${messageOf(error)})`));
      }
      break;
  }

  // A permanent failure was reported as error by the webhook already; a queued one was left pending until now.
  if (outcome === 'dead-lettered' && reportUncreated && accepted.ok && !accepted.pending.permanent) {
    logReportEntries(logger, await reportUncreated(accepted.rendered.objects, reason ?? decision.outcome), { ...ids, messageId: record.messageId });
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

type Accepted = { ok: true; pending: PendingCreation; rendered: RenderedCreation } | { ok: false; reason: string };

/**
 * Only what the webhook function wrote (its MAC verifies), read as a pending creation, and rendered again from this
 * function's own config; anything else is parked in the dead-letter queue with the reason and never reaches the cluster.
 * Throws only when KMS cannot answer.
 */
async function acceptRecord(record: SQSRecord): Promise<Accepted> {
  const signature = record.messageAttributes?.[MAC_ATTRIBUTE]?.stringValue;
  if (signature === undefined) return { ok: false, reason: `the message has no ${MAC_ATTRIBUTE} attribute: it was not written by the webhook function` };
  if (!(await mac.verify(record.body, signature))) return { ok: false, reason: `the message's ${MAC_ATTRIBUTE} does not verify: it was not written by the webhook function, or was changed` };
  const parsed = parsePendingCreation(record.body);
  if (!parsed.ok) return { ok: false, reason: `not a pending creation: ${parsed.reason}` };
  const rendered = renderPendingCreation(parsed.pending, config);
  if (!rendered.ok) return { ok: false, reason: `not a creation this config renders: ${rendered.reason}` };
  return { ok: true, pending: parsed.pending, rendered };
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
