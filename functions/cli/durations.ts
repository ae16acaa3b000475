const UNITS_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `--since`: `30m` → 1 800 000; undefined when it isn't a positive number with a unit (s, m, h, d, w). */
export function parseSince(since: string): number | undefined {
  const match = /^(\d{1,6})([smhdw])$/.exec(since.trim());
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2] as keyof typeof UNITS_MS;
  return amount > 0 ? amount * UNITS_MS[unit] : undefined;
}
