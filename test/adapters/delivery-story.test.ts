import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  StartQueryCommand,
  StopQueryCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { deliveryStoryQueryString, findDeliveryLogs, formatDeliveryStory } from '../../functions/adapters/delivery-story.ts';
import {
  createdDeliveryId,
  createdDeliveryLine,
  failedDeliveryId,
  failedDeliveryLine,
  insightsRow,
  rejectedDeliveryId,
  rejectedDeliveryLine,
} from '../fixtures/delivery-logs.ts';

const logs = mockClient(CloudWatchLogsClient);
const client = new CloudWatchLogsClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const window = {
  logGroups: ['/aws/lambda/tekton-bridge-webhook', '/aws/lambda/tekton-bridge-retry'],
  start: new Date('2025-11-24T18:00:00Z'),
  end: new Date('2025-11-25T18:00:00Z'),
};

/** A clock that only moves when the code under test sleeps. */
function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

describe('deliveryStoryQueryString', () => {
  it('filters on the delivery id, oldest line first', () => {
    assert.equal(
      deliveryStoryQueryString(failedDeliveryId),
      `fields @timestamp, @message | filter deliveryId = "${failedDeliveryId}" | sort @timestamp asc | limit 50`,
    );
  });

  it('refuses ids that could change the query', () => {
    for (const id of ['x" or 1=1 or deliveryId = "y', 'a b', '', 'x|stats count(*)']) {
      assert.throws(() => deliveryStoryQueryString(id), TypeError, id);
    }
  });
});

describe('findDeliveryLogs', () => {
  afterEach(() => logs.reset());

  it('starts the query over the window, polls until Complete, and returns the delivery’s lines', async () => {
    // Prepare
    const time = fakeTime();
    logs.on(StartQueryCommand).resolves({ queryId: 'q-1' });
    logs
      .on(GetQueryResultsCommand)
      .resolvesOnce({ status: 'Scheduled' })
      .resolvesOnce({ status: 'Running', results: [] })
      .resolves({ status: 'Complete', results: [insightsRow(failedDeliveryLine)] });
    // Act
    const result = await findDeliveryLogs(client, { ...window, deliveryId: failedDeliveryId }, { ...time, pollIntervalMs: 500 });
    // Assess
    assert.equal(result.status, 'found');
    assert.deepEqual(result.status === 'found' && result.entries, [{ timestamp: failedDeliveryLine.timestamp, fields: failedDeliveryLine }]);
    const start = logs.commandCalls(StartQueryCommand)[0]?.args[0].input;
    assert.deepEqual(start, {
      logGroupNames: ['/aws/lambda/tekton-bridge-webhook', '/aws/lambda/tekton-bridge-retry'],
      startTime: Date.parse('2025-11-24T18:00:00Z') / 1000,
      endTime: Date.parse('2025-11-25T18:00:00Z') / 1000,
      queryString: deliveryStoryQueryString(failedDeliveryId),
      limit: 50,
    });
    assert.equal(logs.commandCalls(GetQueryResultsCommand).length, 3);
    assert.deepEqual(time.sleeps, [500, 500]);
    assert.equal(logs.commandCalls(StopQueryCommand).length, 0);
  });

  it('answers not-found when the query completes with nothing', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-2' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [] });
    const result = await findDeliveryLogs(client, { ...window, deliveryId: 'no-such-delivery' }, fakeTime());
    assert.deepEqual(result, { status: 'not-found' });
  });

  it('keeps only lines that really carry the delivery id', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-3' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [
        insightsRow(createdDeliveryLine),
        [{ field: '@timestamp', value: '2025-11-25 18:00:00.000' }, { field: '@message', value: `START RequestId: ${failedDeliveryId}` }],
      ],
    });
    const result = await findDeliveryLogs(client, { ...window, deliveryId: failedDeliveryId }, fakeTime());
    assert.deepEqual(result, { status: 'not-found' });
  });

  it('gives up after maxWaitMs, stops the query and says so', async () => {
    // Prepare
    const time = fakeTime();
    logs.on(StartQueryCommand).resolves({ queryId: 'q-slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Running' });
    logs.on(StopQueryCommand).resolves({ success: true });
    // Act
    const result = await findDeliveryLogs(client, { ...window, deliveryId: failedDeliveryId }, { ...time, maxWaitMs: 3_000, pollIntervalMs: 1_000 });
    // Assess
    assert.deepEqual(result, { status: 'timed-out', queryId: 'q-slow', waitedMs: 3_000 });
    assert.deepEqual(time.sleeps, [1_000, 1_000, 1_000]);
    assert.deepEqual(logs.commandCalls(StopQueryCommand)[0]?.args[0].input, { queryId: 'q-slow' });
  });

  it('still answers timed-out when stopping the query fails', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q-slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Scheduled' });
    logs.on(StopQueryCommand).rejects(new Error('already finished'));
    const result = await findDeliveryLogs(client, { ...window, deliveryId: failedDeliveryId }, { ...fakeTime(), maxWaitMs: 1_000, pollIntervalMs: 1_000 });
    assert.equal(result.status, 'timed-out');
  });

  it('reports a query that ends Failed, Cancelled or Timeout', async () => {
    for (const status of ['Failed', 'Cancelled', 'Timeout'] as const) {
      logs.reset();
      logs.on(StartQueryCommand).resolves({ queryId: `q-${status}` });
      logs.on(GetQueryResultsCommand).resolves({ status });
      const result = await findDeliveryLogs(client, { ...window, deliveryId: failedDeliveryId }, fakeTime());
      assert.deepEqual(result, { status: 'query-failed', queryId: `q-${status}`, queryStatus: status });
    }
  });

  it('lets API errors through (no such log group)', async () => {
    const error = Object.assign(new Error('The specified log group does not exist.'), { name: 'ResourceNotFoundException' });
    logs.on(StartQueryCommand).rejects(error);
    await assert.rejects(findDeliveryLogs(client, { ...window, deliveryId: failedDeliveryId }, fakeTime()), { name: 'ResourceNotFoundException' });
  });
});

describe('formatDeliveryStory', () => {
  it('tells a failed delivery: time, status, outcome, each trigger with its reason, timings', () => {
    const lines = formatDeliveryStory(failedDeliveryId, [{ timestamp: failedDeliveryLine.timestamp, fields: failedDeliveryLine }]);
    assert.deepEqual(lines, [
      `delivery ${failedDeliveryId} (push, listener github-push)`,
      '',
      '  2025-11-25T18:02:03.456Z  HTTP 503  failed  in 812 ms',
      '    repository octo-org/hello-world  ref refs/heads/main  commit 7d1f3a9c0b2e',
      '    triggers:',
      '      default-branch  failed   the cluster refused: pipelineruns.tekton.dev is forbidden for group tekton-bridge (403)  (701 ms)',
      "      docs            skipped  CEL filter is false: body.ref == 'refs/heads/docs'  (0.4 ms)",
      '    timings: secret 12 ms, lookup 30 ms, token 2.2 ms, api 701 ms',
    ]);
  });

  it('tells a created delivery without reasons', () => {
    const lines = formatDeliveryStory(createdDeliveryId, [{ timestamp: createdDeliveryLine.timestamp, fields: createdDeliveryLine }]);
    assert.ok(lines.includes('  2025-11-25T18:05:00.001Z  HTTP 202  created  in 402 ms'));
    assert.ok(lines.includes('      default-branch  created'));
  });

  it('tells a rejected delivery with its error and level', () => {
    const lines = formatDeliveryStory(rejectedDeliveryId, [{ timestamp: rejectedDeliveryLine.timestamp, fields: rejectedDeliveryLine }]);
    assert.deepEqual(lines, [
      `delivery ${rejectedDeliveryId} (push)`,
      '',
      '  2025-11-25T18:06:00.000Z  HTTP 401',
      '    level: WARN  delivery rejected',
      '    error: signature does not match',
    ]);
  });
});

describe('formatDeliveryStory prints nothing a log line could use to drive the terminal', () => {
  it('strips ANSI escapes, control and bidirectional characters from every value it read from the logs', () => {
    // Prepare: a line whose values carry escapes (clear screen, a fake prompt, an OSC title, a hyperlink) and controls.
    const hostile = '\u001b[2J\u001b[1;31mfake: created\u001b[0m\r\n\u001b]0;owned\u0007\u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\\u0008\u0000\u202eevil\u009b31m';
    const fields = {
      deliveryId: 'd-1',
      message: hostile,
      level: 'ERROR',
      status: 401,
      outcome: hostile,
      repository: hostile,
      commit: hostile,
      error: hostile,
      results: [{ trigger: hostile, outcome: hostile, reason: hostile }],
      timings: { [`${hostile}Ms`]: 1 },
    };
    // Act
    const printed = formatDeliveryStory('d-1', [{ timestamp: '2024-05-01T12:00:00.000Z', fields }]).join('\n');
    // Assess
    assert.doesNotMatch(printed, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.match(printed, /fake: created {2}linkevil/, 'the text stays; the escapes, the window title and the hyperlink target go');
  });
});
