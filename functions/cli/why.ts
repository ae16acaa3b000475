import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { findDeliveryLogs, formatDeliveryStory, type DeliveryStoryPolling } from '../adapters/delivery-story.ts';
import { parseSince } from './durations.ts';

/** The deployed webhook function's log group (the CDK stack names it so; its output FunctionLogGroup says it). */
export const DEFAULT_WHY_LOG_GROUP = '/aws/lambda/tekton-bridge-webhook';
/** The retry function's, where a delivery's queued creations carry on. */
export const DEFAULT_RETRY_LOG_GROUP = '/aws/lambda/tekton-bridge-retry';

export interface WhyArgs {
  deliveryId: string;
  logGroups: readonly string[];
  /** How far back to look: a number and a unit, e.g. 30m, 24h, 7d. */
  since: string;
}

export interface WhyIo {
  stdout(s: string): void;
  stderr(s: string): void;
}

/** Injected by tests; the command otherwise uses one client from the default credential chain. */
export interface WhyDependencies {
  client?: CloudWatchLogsClient;
  now?: () => Date;
  polling?: DeliveryStoryPolling;
}

let defaultClient: CloudWatchLogsClient | undefined;

/** `tekton-bridge why DELIVERY_ID`: what happened to one delivery. Exit 0 told, 1 not found or failed, 2 bad usage. */
export async function runWhyCommand(args: WhyArgs, io: WhyIo, deps: WhyDependencies = {}): Promise<number> {
  const sinceMs = parseSince(args.since);
  if (sinceMs === undefined) {
    io.stderr(`why: --since must be a number and a unit (s, m, h, d, w), e.g. 30m or 24h; got ${JSON.stringify(args.since)}\n`);
    return 2;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(args.deliveryId)) {
    io.stderr(`why: ${JSON.stringify(args.deliveryId)} is not a delivery id (GitHub's X-GitHub-Delivery, e.g. 72d3162e-cc78-11e3-81ab-4c9367dc0958)\n`);
    return 2;
  }
  if (args.logGroups.length === 0 || args.logGroups.some((group) => group === '')) {
    io.stderr('why: --log-group must name a log group\n');
    return 2;
  }
  const groups = args.logGroups.join(', ');

  const client = deps.client ?? (defaultClient ??= new CloudWatchLogsClient({}));
  const end = deps.now?.() ?? new Date();
  const start = new Date(end.getTime() - sinceMs);
  let result;
  try {
    result = await findDeliveryLogs(client, { deliveryId: args.deliveryId, logGroups: args.logGroups, start, end }, deps.polling);
  } catch (error) {
    io.stderr(`why: ${describeAwsError(error, groups)}\n`);
    return 1;
  }

  switch (result.status) {
    case 'found':
      io.stdout(`${formatDeliveryStory(args.deliveryId, result.entries).join('\n')}\n`);
      return 0;
    case 'not-found':
      io.stderr(
        `why: no log line for delivery ${args.deliveryId} in ${groups} over the last ${args.since}.\n` +
          '  Did it reach the bridge? GitHub shows each attempt under the webhook\'s "Recent Deliveries".\n' +
          '  Older than that? Try a longer --since.\n',
      );
      return 1;
    case 'timed-out':
      io.stderr(
        `why: Logs Insights did not finish within ${Math.round(result.waitedMs / 1000)} s (query ${result.queryId}, now stopped); ` +
          'try again, or a shorter --since\n',
      );
      return 1;
    case 'query-failed':
      io.stderr(`why: the Logs Insights query ended ${result.queryStatus} (query ${result.queryId})\n`);
      return 1;
  }
}

function describeAwsError(error: unknown, logGroups: string): string {
  const name = (error as { name?: string }).name;
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'ResourceNotFoundException') {
    return `a log group of ${logGroups} was not found (is the region right? the stack's output FunctionLogGroup names the webhook's)`;
  }
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return `no AWS credentials: ${message}`;
  }
  if (/region is missing/i.test(message)) {
    return 'no AWS region: set AWS_REGION (or a profile with a region)';
  }
  return `${name ?? 'Error'}: ${message}`;
}
