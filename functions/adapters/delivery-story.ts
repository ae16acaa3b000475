import {
  GetQueryResultsCommand,
  StartQueryCommand,
  StopQueryCommand,
  type CloudWatchLogsClient,
  type ResultField,
} from '@aws-sdk/client-cloudwatch-logs';

/** One delivery, the log groups of the functions that handled it, one time window. */
export interface DeliveryStoryQuery {
  deliveryId: string;
  logGroups: readonly string[];
  start: Date;
  end: Date;
}

export interface DeliveryStoryPolling {
  /** Logs Insights usually answers in a few seconds; past this the query is stopped. */
  maxWaitMs?: number;
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** A log line of the delivery: its time and the JSON the function logged. */
export interface DeliveryLogEntry {
  timestamp: string;
  fields: Record<string, unknown>;
}

export type DeliveryStoryResult =
  | { status: 'found'; entries: DeliveryLogEntry[] }
  | { status: 'not-found' }
  | { status: 'timed-out'; queryId: string; waitedMs: number }
  | { status: 'query-failed'; queryId: string; queryStatus: string };

const DEFAULT_MAX_WAIT_MS = 30_000;
const DEFAULT_POLL_INTERVAL_MS = 1_000;
const MAX_LINES = 50;

/** GitHub's X-GitHub-Delivery is a GUID; anything quote-free and short is accepted, nothing else. */
const DELIVERY_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** The Logs Insights query for one delivery's lines, oldest first. */
export function deliveryStoryQueryString(deliveryId: string): string {
  if (!DELIVERY_ID.test(deliveryId)) {
    throw new TypeError(`[tekton-bridge] deliveryId must be letters, digits and . _ : - (got ${JSON.stringify(deliveryId)})`);
  }
  return `fields @timestamp, @message | filter deliveryId = "${deliveryId}" | sort @timestamp asc | limit ${MAX_LINES}`;
}

/**
 * Runs the query with StartQuery, polls GetQueryResults until it completes or `maxWaitMs` passes
 * (then stops it), and returns the delivery's log lines. Errors of the API itself (no such log
 * group, no credentials) are thrown as the SDK raised them.
 */
export async function findDeliveryLogs(
  client: CloudWatchLogsClient,
  query: DeliveryStoryQuery,
  polling: DeliveryStoryPolling = {},
): Promise<DeliveryStoryResult> {
  const maxWaitMs = polling.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const pollIntervalMs = polling.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const sleep = polling.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = polling.now ?? Date.now;

  const started = await client.send(
    new StartQueryCommand({
      logGroupNames: [...query.logGroups],
      startTime: Math.floor(query.start.getTime() / 1000),
      endTime: Math.ceil(query.end.getTime() / 1000),
      queryString: deliveryStoryQueryString(query.deliveryId),
      limit: MAX_LINES,
    }),
  );
  const queryId = started.queryId;
  if (queryId === undefined) throw new Error('StartQuery answered without a queryId');

  const begin = now();
  for (;;) {
    const answer = await client.send(new GetQueryResultsCommand({ queryId }));
    const status = answer.status ?? 'Unknown';
    if (status === 'Complete') {
      const entries = toEntries(answer.results ?? [], query.deliveryId);
      return entries.length === 0 ? { status: 'not-found' } : { status: 'found', entries };
    }
    if (status !== 'Scheduled' && status !== 'Running') {
      return { status: 'query-failed', queryId, queryStatus: status };
    }
    const waitedMs = now() - begin;
    if (waitedMs + pollIntervalMs > maxWaitMs) {
      // Don't leave it running (and counting against the account's concurrent query limit).
      await client.send(new StopQueryCommand({ queryId })).catch(() => undefined);
      return { status: 'timed-out', queryId, waitedMs };
    }
    await sleep(pollIntervalMs);
  }
}

function toEntries(rows: ResultField[][], deliveryId: string): DeliveryLogEntry[] {
  const entries: DeliveryLogEntry[] = [];
  for (const row of rows) {
    const cells = new Map(row.map(({ field, value }) => [field, value]));
    const fields = parseJsonObject(cells.get('@message'));
    // Logs Insights filtered already; checking again keeps a partial match or a stray line out.
    if (fields === undefined || fields.deliveryId !== deliveryId) continue;
    entries.push({ timestamp: timestampOf(fields, cells.get('@timestamp')), fields });
  }
  return entries.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An ISO-8601 time: Powertools' own `timestamp`, else Logs Insights' `@timestamp`. */
function timestampOf(fields: Record<string, unknown>, insightsTimestamp: string | undefined): string {
  if (typeof fields.timestamp === 'string' && !Number.isNaN(Date.parse(fields.timestamp))) {
    return new Date(fields.timestamp).toISOString();
  }
  if (insightsTimestamp !== undefined) {
    // Logs Insights answers "2024-05-01 12:00:00.123" (UTC); an emulator may answer epoch milliseconds.
    const parsed = /^\d+$/.test(insightsTimestamp) ? Number(insightsTimestamp) : Date.parse(`${insightsTimestamp.replace(' ', 'T')}Z`);
    if (!Number.isNaN(parsed)) return new Date(parsed).toISOString();
  }
  return '(no time)';
}

/** The story of a delivery as lines of text: one block per log line the function wrote for it. */
export function formatDeliveryStory(deliveryId: string, entries: readonly DeliveryLogEntry[]): string[] {
  const lines: string[] = [];
  const first = entries[0]?.fields;
  lines.push(`delivery ${deliveryId}${describeEvent(first)}`);
  for (const { timestamp, fields } of entries) {
    lines.push('');
    const status = typeof fields.status === 'number' || typeof fields.status === 'string' ? `HTTP ${fields.status}` : undefined;
    const outcome = text(fields.outcome);
    const duration = typeof fields.durationMs === 'number' ? `in ${formatMs(fields.durationMs)}` : undefined;
    // The retry function's lines say which attempt they were and for which trigger.
    const retry = fields.function === 'retry' ? join([`retry attempt ${text(fields.attempt) ?? '?'}`, labelled('trigger', fields.trigger)]) : undefined;
    lines.push(`  ${timestamp}  ${join([retry, status, outcome, duration]) || text(fields.message) || '(log line)'}`);
    const level = text(fields.level);
    if (level !== undefined && level !== 'INFO') lines.push(`    level: ${level}  ${text(fields.message) ?? ''}`.trimEnd());
    const where = join([
      labelled('repository', fields.repository),
      labelled('ref', fields.ref),
      labelled('commit', typeof fields.commit === 'string' ? fields.commit.slice(0, 12) : undefined),
    ]);
    if (where) lines.push(`    ${where}`);
    if (text(fields.error)) lines.push(`    error: ${text(fields.error)}`);
    const results = Array.isArray(fields.results) ? fields.results : [];
    if (results.length > 0) {
      lines.push('    triggers:');
      const rows = results.map((result) => {
        const r = (typeof result === 'object' && result !== null ? result : {}) as Record<string, unknown>;
        const took = typeof r.durationMs === 'number' ? `(${formatMs(r.durationMs)})` : undefined;
        return [text(r.trigger) ?? '(unnamed)', text(r.outcome) ?? '?', join([text(r.reason), took])] as const;
      });
      const width = Math.max(...rows.map(([trigger]) => trigger.length));
      const outcomeWidth = Math.max(...rows.map(([, o]) => o.length));
      for (const [trigger, o, reason] of rows) {
        lines.push(`      ${trigger.padEnd(width)}  ${reason ? `${o.padEnd(outcomeWidth)}  ${reason}` : o}`);
      }
    } else if (text(fields.reason)) {
      lines.push(`    reason: ${text(fields.reason)}`);
    }
    const timings = formatTimings(fields.timings);
    if (timings) lines.push(`    timings: ${timings}`);
  }
  return lines;
}

function describeEvent(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return '';
  const parts = [text(fields.event), labelled('listener', fields.eventListener)].filter((part) => part !== undefined);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

function formatTimings(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const parts = Object.entries(value as Record<string, unknown>)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([key, ms]) => `${printable(key).replace(/Ms$/, '')} ${formatMs(ms)}`);
  return parts.length > 0 ? parts.join(', ') : undefined;
}

function formatMs(ms: number): string {
  return ms >= 10 ? `${Math.round(ms)} ms` : `${Math.round(ms * 10) / 10} ms`;
}

// ANSI escape sequences (CSI … final byte, OSC … BEL or ST, and two-character ESC sequences), then any control or
// bidirectional-override character left: what a log line holds was partly written by whoever sent the request.
const ANSI_SEQUENCE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])|\u009b[0-?]*[ -/]*[@-~]/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Text read from the logs, safe to print to a terminal: no escape sequences, no control characters. */
export function printable(value: string): string {
  return value.replace(ANSI_SEQUENCE, '').replace(/[\t\n\r]/g, ' ').replace(CONTROL, '');
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return printable(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function labelled(label: string, value: unknown): string | undefined {
  const v = text(value);
  return v === undefined ? undefined : `${label} ${v}`;
}

function join(parts: ReadonlyArray<string | undefined>): string {
  return parts.filter((part): part is string => part !== undefined && part !== '').join('  ');
}
