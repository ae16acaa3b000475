/**
 * Where a delivery stands among the pushes of a concurrency group: the push's own time, inside the signed bytes, so a
 * late delivery or a retry keeps its place whatever order it arrives in. A push: `repository.pushed_at` (Unix seconds,
 * as GitHub sends it in push payloads), then the head commit's timestamp; a pull request: `pull_request.updated_at`;
 * anything else: `repository.pushed_at` (an ISO time there). Kept as `<ISO time> <ISO time or ->`.
 */
export function pushOrderOf(payload: unknown): string | undefined {
  const facts = (payload ?? {}) as {
    repository?: { pushed_at?: unknown } | null;
    head_commit?: { timestamp?: unknown } | null;
    pull_request?: { updated_at?: unknown } | null;
  };
  const primary = facts.pull_request ? timeMs(facts.pull_request.updated_at) : timeMs(facts.repository?.pushed_at, true);
  if (primary === undefined) return undefined;
  const secondary = timeMs(facts.head_commit?.timestamp);
  return `${new Date(primary).toISOString()} ${secondary === undefined ? '-' : new Date(secondary).toISOString()}`;
}

export interface PushOrder {
  /** Epoch milliseconds; -Infinity when the delivery said nothing (it sorts oldest). */
  pushedMs: number;
  committedMs: number;
}

export function readPushOrder(text: string | undefined): PushOrder {
  const [pushed = '', committed = ''] = (text ?? '').split(' ');
  return { pushedMs: timeMs(pushed) ?? -Infinity, committedMs: timeMs(committed) ?? -Infinity };
}

/** Older first; the run name breaks a tie, so every reader orders a group the same way. */
export function comparePushOrder(a: { order: PushOrder; name: string }, b: { order: PushOrder; name: string }): number {
  return a.order.pushedMs - b.order.pushedMs || a.order.committedMs - b.order.committedMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

// Beyond ±8.64e15 ms a JavaScript Date cannot hold it.
function timeMs(value: unknown, unixSeconds = false): number | undefined {
  const ms = typeof value === 'number' && unixSeconds ? value * 1000 : typeof value === 'string' && value !== '' ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? ms : undefined;
}
