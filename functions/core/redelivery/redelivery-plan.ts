/**
 * Which deliveries to ask GitHub to redeliver, from what GitHub lists of a webhook's recent deliveries. GitHub lists
 * every attempt — the first delivery and each redelivery — as an item of its own sharing the event's `guid`, newest
 * first; it never retries by itself. The bridge keeps no state: everything is decided from that list. Pure.
 */

/** One attempt, as `GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries` and `GET /app/hook/deliveries` list it. */
export interface HookDelivery {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  status_code: number;
  status: string;
  event: string;
  action?: string | null;
}

export interface RedeliveryPolicy {
  /** Epoch milliseconds. */
  now: number;
  /** Only events first delivered this recently are looked at. */
  windowMs: number;
  /** Redeliveries per event, counting every redelivery GitHub lists for it (asked for by the bridge or a person). */
  maxRedeliveries: number;
  /**
   * How long after the latest attempt the next redelivery waits, by how many there were already (the last value
   * holds beyond); empty: no wait. An outage lasting minutes would otherwise use up every redelivery in its first few.
   */
  spacingMs: readonly number[];
}

/** The schedule's spacing: a minute after the failure, then 5 minutes, then 30. */
export const SCHEDULE_SPACING_MS: readonly number[] = [60_000, 5 * 60_000, 30 * 60_000];

interface Attempt {
  id: number;
  deliveredAt: number;
  statusCode: number;
  status: string;
}

/** What is decided for one event (one `guid`) of one webhook. */
export interface EventVerdict {
  guid: string;
  event: string;
  action: string | undefined;
  /** When GitHub first delivered it, ISO 8601 as GitHub wrote it. */
  firstDeliveredAt: string;
  /** Redeliveries GitHub lists for it so far. */
  redeliveries: number;
  /** The latest attempt's answer: `status_code` (0 when there was none, e.g. a timeout) and GitHub's words. */
  lastStatusCode: number;
  lastStatus: string;
  verdict:
    | { action: 'redeliver'; deliveryId: number; attempt: number }
    /** An attempt got a 2xx. */
    | { action: 'delivered' }
    /** It has had `maxRedeliveries` already. */
    | { action: 'capped' }
    /** The latest attempt is too recent for the next one (spacing). */
    | { action: 'waiting'; dueAt: number };
}

/**
 * One verdict per event first delivered within the window, oldest first. An event whose first delivery GitHub did
 * not list (older than the window, or on a page not fetched) is left out: its attempts cannot all be counted.
 * Items that are not attempts GitHub would list (no id, no guid, no date) are ignored.
 */
export function planRedeliveries(deliveries: readonly HookDelivery[], policy: RedeliveryPolicy): EventVerdict[] {
  const byGuid = new Map<string, { first?: HookDelivery; attempts: Attempt[] }>();
  for (const delivery of deliveries) {
    const deliveredAt = Date.parse(delivery?.delivered_at);
    if (!Number.isSafeInteger(delivery?.id) || typeof delivery.guid !== 'string' || delivery.guid === '' || Number.isNaN(deliveredAt)) continue;
    const entry = byGuid.get(delivery.guid) ?? { attempts: [] };
    if (entry.attempts.some((attempt) => attempt.id === delivery.id)) continue;
    entry.attempts.push({ id: delivery.id, deliveredAt, statusCode: Number.isInteger(delivery.status_code) ? delivery.status_code : 0, status: String(delivery.status ?? '') });
    if (delivery.redelivery !== true && (entry.first === undefined || deliveredAt < Date.parse(entry.first.delivered_at))) entry.first = delivery;
    byGuid.set(delivery.guid, entry);
  }
  const windowStart = policy.now - policy.windowMs;
  const verdicts: Array<EventVerdict & { firstAt: number }> = [];
  for (const [guid, { first, attempts }] of byGuid) {
    if (first === undefined) continue;
    const firstAt = Date.parse(first.delivered_at);
    if (firstAt < windowStart) continue;
    attempts.sort((a, b) => a.deliveredAt - b.deliveredAt || a.id - b.id);
    const last = attempts.at(-1) as Attempt;
    const redeliveries = attempts.length - 1;
    verdicts.push({
      guid,
      event: String(first.event ?? ''),
      action: typeof first.action === 'string' ? first.action : undefined,
      firstDeliveredAt: first.delivered_at,
      firstAt,
      redeliveries,
      lastStatusCode: last.statusCode,
      lastStatus: last.status,
      verdict: verdictOf(attempts, last, redeliveries, policy),
    });
  }
  verdicts.sort((a, b) => a.firstAt - b.firstAt || a.guid.localeCompare(b.guid));
  return verdicts.map(({ firstAt: _firstAt, ...verdict }) => verdict);
}

function verdictOf(attempts: readonly Attempt[], last: Attempt, redeliveries: number, policy: RedeliveryPolicy): EventVerdict['verdict'] {
  if (attempts.some((attempt) => attempt.statusCode >= 200 && attempt.statusCode < 300)) return { action: 'delivered' };
  if (redeliveries >= policy.maxRedeliveries) return { action: 'capped' };
  const spacing = policy.spacingMs.length === 0 ? 0 : (policy.spacingMs[Math.min(redeliveries, policy.spacingMs.length - 1)] as number);
  const dueAt = last.deliveredAt + spacing;
  if (dueAt > policy.now) return { action: 'waiting', dueAt };
  // Any attempt's id redelivers the same event; the latest is the one GitHub's own guidance takes.
  return { action: 'redeliver', deliveryId: last.id, attempt: redeliveries + 1 };
}

/** Whether a page of the list (newest first) reaches back past the window's start, so no later page is needed. */
export function pageReachesWindowStart(page: readonly HookDelivery[], policy: Pick<RedeliveryPolicy, 'now' | 'windowMs'>): boolean {
  const windowStart = policy.now - policy.windowMs;
  return page.some((delivery) => Date.parse(delivery?.delivered_at) < windowStart);
}
