import { APP_HOOK, type HookRef } from '../core/redelivery/hook-refs.ts';
import { SCHEDULE_SPACING_MS } from '../core/redelivery/redelivery-plan.ts';
import type { RedeliveryEnvironment } from './environment.ts';
import { redeliverFailedDeliveries, type RedeliveryEntry, type RedeliverySummary } from './github-deliveries.ts';
import type { ReportingAccess } from './github-reporting.ts';
import { messageOf } from './error-message.ts';

const HOUR_MS = 3_600_000;

type Log = (message: string, fields: Record<string, unknown>) => void;

export interface ScheduledRedeliveryOptions {
  access: () => Promise<ReportingAccess>;
  settings: RedeliveryEnvironment;
  /** Epoch milliseconds: no GitHub call is started after it. */
  deadline: number;
  logger: { info: Log; warn: Log; error: Log };
  count: (metric: 'Redelivered' | 'RedeliveryFailed', value: number) => void;
  now?: () => number;
}

export type ScheduledRedelivery = { off: string } | Omit<RedeliverySummary, 'entries'>;

/**
 * The reporter schedule's redelivery step: the webhooks of REDELIVER_HOOKS (or, with an App and none named, the
 * App's own), one pass within the deadline and REDELIVER_MAX_CALLS. One log line per redelivery asked for, failed or
 * left for the next pass; a summary line when there was anything to do; metrics `Redelivered`, `RedeliveryFailed`.
 */
export async function redeliverOnSchedule(options: ScheduledRedeliveryOptions): Promise<ScheduledRedelivery> {
  const { settings, logger } = options;
  if (settings.maxAttempts === 0) return { off: 'REDELIVER_MAX_ATTEMPTS is 0' };
  let summary: RedeliverySummary;
  try {
    const access = await options.access();
    if (!access.on) return { off: access.reason };
    const hooks: HookRef[] = settings.hooks.length > 0 ? settings.hooks : access.api.mode === 'app' ? [APP_HOOK] : [];
    if (hooks.length === 0) return { off: 'no webhooks to redeliver for: with a token, name them in REDELIVER_HOOKS (owner/repo/hookId)' };
    summary = await redeliverFailedDeliveries({
      api: access.api,
      hooks,
      policy: { windowMs: settings.windowHours * HOUR_MS, maxRedeliveries: settings.maxAttempts, spacingMs: SCHEDULE_SPACING_MS },
      maxCalls: settings.maxCalls,
      deadline: options.deadline,
      now: options.now,
    });
  } catch (error) {
    // A crash here must not fail the schedule's reporting.
    logger.error('redelivery crashed', { error: messageOf(error) });
    options.count('RedeliveryFailed', 1);
    return { off: `redelivery crashed: ${messageOf(error)}` };
  }
  for (const entry of summary.entries) {
    const line = redeliveryLogLine(entry);
    if (line) logger[line.level](line.message, line.fields);
  }
  if (summary.redelivered > 0) options.count('Redelivered', summary.redelivered);
  if (summary.failed > 0) options.count('RedeliveryFailed', summary.failed);
  const { entries: _entries, ...totals } = summary;
  if (summary.problems.length > 0) logger.warn('redelivery incomplete', { ...totals, problems: summary.problems.join('; ') });
  else if (summary.undelivered > 0) logger.info('redelivery pass', { ...totals, problems: undefined });
  return totals;
}

/**
 * The line of one event the pass acted on. `deliveryId` is the event's GUID, which GitHub sends again as
 * X-GitHub-Delivery, so a redelivery and what the webhook made of it share one id. Capped events get no line
 * (every pass would repeat it): the summary counts them.
 */
export function redeliveryLogLine(entry: RedeliveryEntry): { level: 'info' | 'warn' | 'error'; message: string; fields: Record<string, unknown> } | undefined {
  const fields = {
    deliveryId: entry.guid,
    hook: entry.hook,
    event: entry.event,
    action: entry.action,
    firstDeliveredAt: entry.firstDeliveredAt,
    attempt: entry.attempt,
    maxAttempts: entry.maxAttempts,
    lastStatusCode: entry.lastStatusCode,
    lastStatus: entry.lastStatus,
    reason: entry.reason,
  };
  switch (entry.outcome) {
    case 'redelivered':
      return { level: 'info', message: 'asked GitHub to redeliver a failed delivery', fields };
    case 'would-redeliver':
      return { level: 'info', message: 'would ask GitHub to redeliver a failed delivery', fields };
    case 'failed':
      return { level: 'error', message: 'GitHub did not take the redelivery', fields };
    case 'left':
      return { level: 'warn', message: 'redelivery left for the next pass', fields };
    default:
      return undefined;
  }
}
