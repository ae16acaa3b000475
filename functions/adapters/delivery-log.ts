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

/** Headers worth a look when a request is refused before its signature is checked: a few, each cut short. */
const LOGGED_UNVERIFIED_HEADERS = ['user-agent', 'content-type', 'content-length', 'x-github-hook-id', 'x-github-hook-installation-target-type'];
const MAX_UNVERIFIED_CHARS = 100;

/**
 * What is logged of a request whose signature did not verify (or was never checked): its ids only as *claimed* —
 * never under `deliveryId`, so nobody can plant "rejected" lines into `why <a real delivery id>` — and a bounded set
 * of headers, each truncated, so an unsigned flood cannot write kilobytes of its own text per line.
 */
export function unverifiedRequestFields(headers: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const logged: Record<string, string> = {};
  for (const name of LOGGED_UNVERIFIED_HEADERS) {
    const value = headers[name];
    if (value !== undefined) logged[name] = clip(value);
  }
  const id = headers['x-github-delivery'];
  const event = headers['x-github-event'];
  return {
    ...(id !== undefined && { claimedDeliveryId: clip(id) }),
    ...(event !== undefined && { claimedEvent: clip(event) }),
    headers: logged,
  };
}

function clip(value: string): string {
  return value.length > MAX_UNVERIFIED_CHARS ? `${value.slice(0, MAX_UNVERIFIED_CHARS)}…` : value;
}

/**
 * The fields of the one log line per delivery: ids, repository, ref, commit, outcomes and timings.
 * Never the secret, a token or the payload. A delivery whose signature did not verify is logged with
 * unverifiedRequestFields of its `headers` instead of its ids.
 */
export function deliveryLogFields(
  report: DeliveryReport,
  durationMs: number,
  timings: Record<string, number> = {},
  headers: Readonly<Record<string, string | undefined>> = {},
): Record<string, unknown> {
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
    ...(report.signatureVerified ? { deliveryId: report.deliveryId, event: report.event } : unverifiedRequestFields(headers)),
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
