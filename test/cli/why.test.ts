import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  GetQueryResultsCommand,
  PutLogEventsCommand,
  StartQueryCommand,
  StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { parseSince } from '../../functions/cli/durations.ts';
import { DEFAULT_RETRY_LOG_GROUP, DEFAULT_WHY_LOG_GROUP, runWhyCommand } from '../../functions/cli/why.ts';
import {
  createdDeliveryId,
  createdDeliveryLine,
  failedDeliveryId,
  failedDeliveryLine,
  insightsRow,
  queuedDeliveryId,
  queuedDeliveryLines,
} from '../fixtures/delivery-logs.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { skipWithout } from '../support/command-on-path.ts';

function capture() {
  let stdout = '';
  let stderr = '';
  return {
    io: { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s) },
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
  };
}

const now = () => new Date('2025-11-25T20:00:00Z');
const instant = { sleep: async () => undefined, pollIntervalMs: 1 };

describe('parseSince', () => {
  it('reads a number and a unit', () => {
    assert.equal(parseSince('30m'), 30 * 60_000);
    assert.equal(parseSince('24h'), 24 * 3_600_000);
    assert.equal(parseSince('7d'), 7 * 86_400_000);
    assert.equal(parseSince('90s'), 90_000);
    for (const bad of ['', '24', 'h', '0h', '-1h', '1.5h', '24 hours']) assert.equal(parseSince(bad), undefined, bad);
  });
});

describe('runWhyCommand (Logs Insights mocked)', () => {
  const logs = mockClient(CloudWatchLogsClient);
  const client = new CloudWatchLogsClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
  afterEach(() => logs.reset());
  // The mock replaces send() on every CloudWatchLogsClient: give moto's client the real one back.
  after(() => logs.restore());

  it('prints the story of a failed delivery and exits 0', async () => {
    // Prepare
    const out = capture();
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs.on(GetQueryResultsCommand).resolvesOnce({ status: 'Running' }).resolves({ status: 'Complete', results: [insightsRow(failedDeliveryLine)] });
    // Act
    const code = await runWhyCommand({ deliveryId: failedDeliveryId, logGroups: [DEFAULT_WHY_LOG_GROUP], since: '24h' }, out.io, { client, now, polling: instant });
    // Assess
    assert.equal(code, 0);
    assert.equal(out.stderr, '');
    assert.match(out.stdout, new RegExp(`^delivery ${failedDeliveryId} \\(push, listener github-push\\)\\n`));
    assert.match(out.stdout, /HTTP 503 {2}failed {2}in 812 ms/);
    assert.match(out.stdout, /default-branch {2}failed {3}the cluster refused: pipelineruns\.tekton\.dev is forbidden/);
    assert.match(out.stdout, /timings: secret 12 ms, lookup 30 ms, token 2\.2 ms, api 701 ms\n$/);
    const input = logs.commandCalls(StartQueryCommand)[0]?.args[0].input;
    assert.deepEqual(input?.logGroupNames, ['/aws/lambda/tekton-bridge-webhook']);
    assert.equal(input?.startTime, Date.parse('2025-11-24T20:00:00Z') / 1000);
    assert.equal(input?.endTime, Date.parse('2025-11-25T20:00:00Z') / 1000);
  });

  it('says when there is no such delivery, and exits 1', async () => {
    const out = capture();
    logs.on(StartQueryCommand).resolves({ queryId: 'q-2' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [] });
    const code = await runWhyCommand({ deliveryId: 'aaaaaaaa-0000-0000-0000-000000000000', logGroups: [DEFAULT_WHY_LOG_GROUP], since: '30m' }, out.io, { client, now, polling: instant });
    assert.equal(code, 1);
    assert.equal(out.stdout, '');
    assert.match(out.stderr, /no log line for delivery aaaaaaaa-0000-0000-0000-000000000000 in \/aws\/lambda\/tekton-bridge-webhook over the last 30m/);
    assert.match(out.stderr, /Recent Deliveries/);
  });

  it('gives up on a query that does not finish, stops it, and exits 1', async () => {
    const out = capture();
    let clock = 0;
    logs.on(StartQueryCommand).resolves({ queryId: 'q-slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Running' });
    logs.on(StopQueryCommand).resolves({ success: true });
    const code = await runWhyCommand({ deliveryId: failedDeliveryId, logGroups: [DEFAULT_WHY_LOG_GROUP], since: '24h' }, out.io, {
      client,
      now,
      polling: { maxWaitMs: 5_000, pollIntervalMs: 1_000, now: () => clock, sleep: async (ms) => void (clock += ms) },
    });
    assert.equal(code, 1);
    assert.match(out.stderr, /Logs Insights did not finish within 5 s \(query q-slow, now stopped\)/);
    assert.equal(logs.commandCalls(StopQueryCommand).length, 1);
  });

  it("tells a queued delivery's story across the webhook's and the retry function's log groups", async () => {
    const out = capture();
    logs.on(StartQueryCommand).resolves({ queryId: 'q-2' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: queuedDeliveryLines.map(insightsRow) });
    const code = await runWhyCommand({ deliveryId: queuedDeliveryId, logGroups: [DEFAULT_WHY_LOG_GROUP, DEFAULT_RETRY_LOG_GROUP], since: '24h' }, out.io, { client, now, polling: instant });
    assert.equal(code, 0, out.stderr);
    assert.match(out.stdout, /HTTP 202 {2}queued/);
    assert.match(out.stdout, /2025-11-25T18:10:31\.000Z {2}retry attempt 2 {2}trigger default-branch {2}created {2}in 35 ms/);
    assert.deepEqual(logs.commandCalls(StartQueryCommand).at(-1)?.args[0].input.logGroupNames, ['/aws/lambda/tekton-bridge-webhook', '/aws/lambda/tekton-bridge-retry']);
  });

  it('says which log group is missing, and exits 1', async () => {
    const out = capture();
    logs.on(StartQueryCommand).rejects(Object.assign(new Error('The specified log group does not exist.'), { name: 'ResourceNotFoundException' }));
    const code = await runWhyCommand({ deliveryId: failedDeliveryId, logGroups: ['/aws/lambda/nope'], since: '1h' }, out.io, { client, now, polling: instant });
    assert.equal(code, 1);
    assert.match(out.stderr, /a log group of \/aws\/lambda\/nope was not found/);
  });

  it('refuses a bad --since or delivery id with exit 2, before calling AWS', async () => {
    const out = capture();
    assert.equal(await runWhyCommand({ deliveryId: failedDeliveryId, logGroups: [DEFAULT_WHY_LOG_GROUP], since: 'yesterday' }, out.io, { client }), 2);
    assert.match(out.stderr, /--since must be a number and a unit/);
    assert.equal(await runWhyCommand({ deliveryId: 'x" or 1=1', logGroups: [DEFAULT_WHY_LOG_GROUP], since: '1h' }, out.io, { client }), 2);
    assert.match(out.stderr, /is not a delivery id/);
    assert.equal(logs.commandCalls(StartQueryCommand).length, 0);
  });
});

describe('runWhyCommand against moto', { timeout: 60_000, skip: skipWithout('moto_server') }, () => {
  // moto keeps real log groups and events and runs StartQuery/GetQueryResults, but ignores `filter`:
  // the command's own check of each line's deliveryId is what picks the right delivery here.
  let moto: MotoServer;
  let client: CloudWatchLogsClient;
  const logGroup = DEFAULT_WHY_LOG_GROUP;
  // Real time: CloudWatch Logs (and moto) refuse events older than 14 days.
  const realNow = new Date();
  const at = (minutesAgo: number) => new Date(realNow.getTime() - minutesAgo * 60_000);
  const failedLine = { ...failedDeliveryLine, timestamp: at(120).toISOString() };
  const createdLine = { ...createdDeliveryLine, timestamp: at(10).toISOString() };

  before(async () => {
    moto = await startMotoServer();
    client = new CloudWatchLogsClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
    await client.send(new CreateLogGroupCommand({ logGroupName: logGroup }));
    await client.send(new CreateLogStreamCommand({ logGroupName: logGroup, logStreamName: '2025/11/25/[$LATEST]abc' }));
    await client.send(
      new PutLogEventsCommand({
        logGroupName: logGroup,
        logStreamName: '2025/11/25/[$LATEST]abc',
        logEvents: [
          { timestamp: Date.parse(failedLine.timestamp), message: JSON.stringify(failedLine) },
          { timestamp: Date.parse(createdLine.timestamp), message: JSON.stringify(createdLine) },
        ],
      }),
    );
  });

  after(async () => {
    client?.destroy();
    await moto?.stop();
  });

  it('finds the one delivery among others and tells its story', async () => {
    const out = capture();
    const code = await runWhyCommand({ deliveryId: createdDeliveryId, logGroups: [logGroup], since: '24h' }, out.io, { client, now: () => realNow, polling: { pollIntervalMs: 50 } });
    assert.equal(code, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`^delivery ${createdDeliveryId} `));
    assert.match(out.stdout, /HTTP 202 {2}created/);
    assert.doesNotMatch(out.stdout, new RegExp(failedDeliveryId));
  });

  it('answers no such delivery for an id that never came', async () => {
    const out = capture();
    const code = await runWhyCommand({ deliveryId: 'bbbbbbbb-1111-2222-3333-444444444444', logGroups: [logGroup], since: '24h' }, out.io, { client, now: () => realNow, polling: { pollIntervalMs: 50 } });
    assert.equal(code, 1);
    assert.match(out.stderr, /no log line for delivery bbbbbbbb-1111-2222-3333-444444444444/);
  });

  it('leaves out lines older than --since', async () => {
    const out = capture();
    const code = await runWhyCommand({ deliveryId: failedDeliveryId, logGroups: [logGroup], since: '30m' }, out.io, { client, now: () => realNow, polling: { pollIntervalMs: 50 } });
    assert.equal(code, 1, 'the failed delivery was logged 2 hours ago');
    assert.match(out.stderr, /no log line for delivery/);
  });

  it('says so when the log group does not exist', async () => {
    const out = capture();
    const code = await runWhyCommand({ deliveryId: failedDeliveryId, logGroups: ['/aws/lambda/other-stack-webhook'], since: '24h' }, out.io, { client, now: () => realNow });
    assert.equal(code, 1);
    assert.match(out.stderr, /a log group of \/aws\/lambda\/other-stack-webhook was not found/);
  });
});
