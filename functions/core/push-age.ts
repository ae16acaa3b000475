/** GitHub lets a person redeliver a delivery for three days; a push older than that is not GitHub's doing. */
export const DEFAULT_MAX_PUSH_AGE_MS = 72 * 60 * 60 * 1000;

/**
 * Why a push is too old to act on, or undefined when it is recent enough (or not a push, or `maxAgeMs` is 0).
 * `repository.pushed_at` is inside the signed bytes, so a captured delivery replayed later keeps its old time,
 * whatever delivery id it is sent with. GitHub sends it as Unix seconds in push payloads (an ISO time elsewhere).
 */
export function pushAgeRefusal(event: string, payload: Record<string, unknown>, nowMs: number, maxAgeMs: number): string | undefined {
  if (event !== 'push' || maxAgeMs <= 0) return undefined;
  const repository = payload.repository;
  const pushedAt = repository !== null && typeof repository === 'object' ? (repository as { pushed_at?: unknown }).pushed_at : undefined;
  const pushedAtMs = typeof pushedAt === 'number' ? pushedAt * 1000 : typeof pushedAt === 'string' ? Date.parse(pushedAt) : Number.NaN;
  // Beyond ±8.64e15 ms a JavaScript Date cannot hold it (and toISOString would throw).
  if (!Number.isFinite(pushedAtMs) || Math.abs(pushedAtMs) > 8.64e15) {
    return 'the push has no repository.pushed_at, so its age cannot be told: a push is only acted on within the bridge\'s replay window';
  }
  const ageMs = nowMs - pushedAtMs;
  if (ageMs <= maxAgeMs) return undefined;
  return (
    `the push was made ${formatHours(ageMs)} ago (repository.pushed_at ${new Date(pushedAtMs).toISOString()}), longer than the ` +
    `${formatHours(maxAgeMs)} the bridge accepts: an old delivery sent again is refused, push again to build`
  );
}

function formatHours(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 10 ? `${Math.round(hours)} h` : `${Math.round(hours * 10) / 10} h`;
}
