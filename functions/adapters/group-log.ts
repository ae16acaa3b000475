import type { GroupEntry } from './group-settlement.ts';
import type { LogLine } from './report-log.ts';

/** The metric each settlement action counts under. */
export const GROUP_METRICS: Record<GroupEntry['action'], string> = {
  cancelled: 'RunsCancelled',
  queued: 'RunsQueued',
  started: 'RunsStarted',
  pruned: 'RunsPruned',
  released: 'RunClaimsReleased',
  ignored: 'UnverifiedRuns',
  failed: 'GroupSettlementFailed',
};

/** One line per cancel, queue, start and prune, with the group and the reason; warnings for the rest. */
export function groupLogLine(entry: GroupEntry, extra: Record<string, unknown> = {}): LogLine {
  const fields = { ...extra, action: entry.action, group: entry.group, run: entry.run ? `${entry.run.kind} ${entry.run.namespace}/${entry.run.name}` : undefined, reason: entry.reason };
  switch (entry.action) {
    case 'ignored':
      return { level: 'warn', message: 'run left alone by its concurrency group', fields };
    case 'failed':
      return { level: 'warn', message: 'concurrency group not settled; the next event or schedule tries again', fields };
    case 'released':
      return { level: 'warn', message: 'stale start claim released', fields };
    default:
      return { level: 'info', message: `run ${entry.action}`, fields };
  }
}

export function logGroupEntries(logger: Record<LogLine['level'], (message: string, fields: Record<string, unknown>) => void>, entries: readonly GroupEntry[], extra: Record<string, unknown> = {}): void {
  for (const entry of entries) {
    const line = groupLogLine(entry, extra);
    logger[line.level](line.message, line.fields);
  }
}

/** Counts by metric name, for a Powertools Metrics `addMetric` each. */
export function groupMetricCounts(entries: readonly GroupEntry[]): Array<[string, number]> {
  const counts = new Map<string, number>();
  for (const entry of entries) counts.set(GROUP_METRICS[entry.action], (counts.get(GROUP_METRICS[entry.action]) ?? 0) + 1);
  return [...counts];
}
