import type { Outcome } from '../core/delivery-types.ts';
import type { DeliveryReport } from '../core/handle-delivery.ts';

export type OverallOutcome = Outcome | 'rejected' | 'ping';

const PRECEDENCE: readonly Outcome[] = ['created', 'queued', 'failed', 'duplicate', 'skipped'];

/** The one word a person filters the logs by: the most important outcome of any trigger. */
export function overallOutcome(report: DeliveryReport): OverallOutcome {
  const { status, body } = report.answer;
  if (status >= 400 && status < 500) return 'rejected';
  if (body.pong) return 'ping';
  const outcomes = new Set((body.results ?? []).map((r) => r.outcome));
  return PRECEDENCE.find((outcome) => outcomes.has(outcome)) ?? 'skipped';
}

/**
 * The fields of the one log line per delivery: ids, repository, ref, commit, outcomes and timings.
 * Never the secret, a token or the payload.
 */
export function deliveryLogFields(report: DeliveryReport, durationMs: number, timings: Record<string, number> = {}): Record<string, unknown> {
  const { status, body } = report.answer;
  const outcome = overallOutcome(report);
  const round = (ms: number): number => Math.round(ms * 100) / 100;
  const results = (body.results ?? []).map(({ trigger, outcome: o, reason }) => ({
    trigger,
    outcome: o,
    reason,
    durationMs: round(report.triggerDurationsMs[trigger] ?? 0),
  }));
  const reason = body.error ?? results.find((r) => r.outcome !== 'created' && r.reason)?.reason;
  return {
    deliveryId: report.deliveryId,
    event: report.event,
    eventListener: report.eventListener,
    repository: report.summary.repository,
    ref: report.summary.ref,
    commit: report.summary.commit,
    status,
    outcome,
    reason,
    results,
    dryRun: body.dryRun,
    durationMs: round(durationMs),
    timings: Object.fromEntries(Object.entries({ ...report.timings, ...timings }).map(([k, v]) => [k, round(v)])),
  };
}

export function deliveryLogMessage(report: DeliveryReport): string {
  return overallOutcome(report) === 'rejected' ? 'delivery rejected' : 'delivery handled';
}
