import type { ReportEntry } from './run-reporting.ts';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/**
 * The log line of one report: what GitHub was told (state, context, description) and why, or why not. Runs with
 * nothing new to report get no line (the schedule looks at every open run every minute).
 */
export function reportLogLine(entry: ReportEntry, extra: Record<string, unknown> = {}): LogLine | undefined {
  const fields = {
    ...extra,
    source: entry.source,
    outcome: entry.outcome,
    run: entry.run ? `${entry.run.kind} ${entry.run.namespace}/${entry.run.name}` : undefined,
    state: entry.state,
    context: entry.context,
    description: entry.description,
    reason: entry.reason,
    rateLimited: entry.rateLimited,
  };
  switch (entry.outcome) {
    case 'reported':
      return { level: 'info', message: `reported ${entry.state} to GitHub`, fields };
    case 'refused':
      return { level: 'error', message: `GitHub refused the ${entry.state} report`, fields };
    case 'failed':
      return { level: 'warn', message: 'report to GitHub failed; the schedule tries again', fields };
    case 'ignored':
      if (entry.unverified) return { level: 'warn', message: 'not reported: the bridge cannot tell it made the run', fields };
      return entry.source === 'schedule' ? undefined : { level: 'info', message: 'not reported', fields };
    default:
      return undefined;
  }
}

/** `Reported` and `ReportFailed`, as the metrics of one invocation. */
export function reportCounts(entries: readonly ReportEntry[]): { reported: number; failed: number } {
  return {
    reported: entries.filter((e) => e.outcome === 'reported').length,
    failed: entries.filter((e) => e.outcome === 'failed' || e.outcome === 'refused').length,
  };
}

/** Writes each entry's line, if it has one, through a Powertools-style logger. */
export function logReportEntries(logger: Record<LogLine['level'], (message: string, fields: Record<string, unknown>) => void>, entries: readonly ReportEntry[], extra: Record<string, unknown> = {}): void {
  for (const entry of entries) {
    const line = reportLogLine(entry, extra);
    if (line) logger[line.level](line.message, line.fields);
  }
}
