import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startGithubApiServer } from '../support/github-api-server.ts';
import { MOTO_CLIENT_SETTINGS } from '../support/moto-server.ts';
import { build } from 'esbuild';
import { toEsbuildOptions } from '../../infra/function-bundling.ts';
import { captureLogs } from '../support/captured-logs.ts';
import { signedDelivery, type SignedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { HARNESS_MAX_RECEIVE_COUNT, HARNESS_SECRET, startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.ts';
import { pollOnce, queueDepth } from '../support/sqs-event-source.ts';
import { skipWithout } from '../support/command-on-path.ts';

describe('the built retry bundle, against moto SQS and the TLS Kubernetes API', { skip: skipWithout('moto_server') }, () => {
  let bridge: BridgeHarness;
  before(async () => {
    bridge = await startBridgeHarness();
  });
  after(() => bridge?.stop());
  beforeEach(() => bridge.reset());

  /** Queues a creation the way the webhook does: a delivery whose fast path meets the given API fault. */
  async function queueOne(deliveryId: string, fault: 'status-503' | 'forbidden' = 'status-503'): Promise<SignedDelivery> {
    const webhook = await bridge.coldWebhook();
    if (fault === 'forbidden') bridge.api.setForbidden(true);
    else bridge.api.injectFault({ kind: 'status', code: 503 });
    const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId });
    await captureLogs(async () => webhook(bridge.apiGatewayEvent(delivery)));
    bridge.api.setForbidden(false);
    return delivery;
  }

  it('postpones a failed retry with a growing visibility timeout and reports it in batchItemFailures', async () => {
    // Prepare
    await queueOne('retry-backoff-1');
    const retry = await bridge.coldRetry({ RETRY_BACKOFF_BASE_SECONDS: '30', RETRY_BACKOFF_MAX_SECONDS: '900' });
    bridge.api.injectFault({ kind: 'status', code: 500 });
    // Act
    const { result: poll, entries } = await captureLogs(() => pollOnce({ sqs: bridge.sqs, queueUrl: bridge.queueUrl, queueArn: bridge.queueArn, handler: retry, visibilityTimeoutSeconds: 1 }));
    // Assess: not deleted, and not visible again before the backoff (the receive's own 1 s would have passed).
    assert.deepEqual([poll.received, poll.failed], [1, 1]);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    assert.deepEqual(await queueDepth(bridge.sqs, bridge.queueUrl), { visible: 0, inFlight: 1, delayed: 0, total: 1 });
    const line = entries.find((e) => e.message === 'pending creation postponed');
    assert.equal(line?.deliveryId, 'retry-backoff-1');
    assert.equal(line?.trigger, 'default-branch');
    assert.equal(line?.outcome, 'queued');
    assert.equal(line?.attempt, 2);
    assert.ok(line?.nextAttemptSeconds >= 15 && line?.nextAttemptSeconds <= 30, String(line?.nextAttemptSeconds));
    assert.match(line?.reason, /500 Internal Server Error.* \(attempt 2 of 5\)$/);
    assert.equal(line?.level, 'WARN');
    assert.equal(bridge.api.objects.length, 0);
  });

  it('settles a mixed batch: created, duplicate and failed records each on their own', async () => {
    // Prepare: three queued creations; one already created by a redelivery, one meets a fault.
    const deliveries = new Map<string, SignedDelivery>();
    for (const id of ['batch-a', 'batch-b', 'batch-c']) deliveries.set(id, await queueOne(id));
    const webhook = await bridge.coldWebhook();
    await captureLogs(async () => webhook(bridge.apiGatewayEvent(deliveries.get('batch-b') as SignedDelivery)));
    const retry = await bridge.coldRetry();
    // Act: the records are settled concurrently; the first API request meets the fault.
    bridge.api.injectFault({ kind: 'status', code: 503 });
    const { result: poll, entries } = await captureLogs(() => pollOnce({ sqs: bridge.sqs, queueUrl: bridge.queueUrl, queueArn: bridge.queueArn, handler: retry }));
    // Assess
    assert.deepEqual([poll.received, poll.deleted, poll.failed], [3, 2, 1]);
    const outcomes = Object.fromEntries(entries.filter((e) => e.deliveryId).map((e) => [e.deliveryId, e.outcome]));
    assert.equal(outcomes['batch-b'] === 'duplicate' || outcomes['batch-b'] === 'queued', true, JSON.stringify(outcomes));
    assert.deepEqual(Object.values(outcomes).filter((o) => o === 'queued').length, 1);
    await captureLogs(() => bridge.drain(retry));
    for (const id of ['batch-a', 'batch-b', 'batch-c']) assert.equal(bridge.objectsFor(id).length, 1, id);
  });

  it('parks an unreadable message in the dead-letter queue as it came, and deletes it', async () => {
    await bridge.sqs.send(new SendMessageCommand({ QueueUrl: bridge.queueUrl, MessageBody: '{"not": "a pending creation"}' }));
    const { entries } = await captureLogs(async () => bridge.drain(await bridge.coldRetry()));
    assert.equal(bridge.deadLetters.length, 1);
    assert.deepEqual(bridge.deadLetters[0]?.body, {
      unreadableBody: '{"not": "a pending creation"}',
      deadLetter: { reason: 'not accepted: the message has no mac attribute: it was not written by the webhook function', attempts: 2 },
    });
    assert.equal(entries.find((e) => e.message === 'pending creation dead-lettered')?.outcome, 'dead-lettered');
  });

  it('loses nothing when the dead-letter queue cannot be written: the message stays, and SQS redrives it after maxReceiveCount', async () => {
    // Prepare: a permanent failure (403) queued; the retry function's DLQ URL is wrong.
    await queueOne('retry-no-dlq', 'forbidden');
    const retry = await bridge.coldRetry({ DEAD_LETTER_QUEUE_URL: `${bridge.moto.endpoint}/123456789012/no-such-dlq` });
    // Act
    const { result: first, entries } = await captureLogs(() => pollOnce({ sqs: bridge.sqs, queueUrl: bridge.queueUrl, queueArn: bridge.queueArn, handler: retry, visibilityTimeoutSeconds: 0 }));
    const { result: report } = await captureLogs(() => bridge.drain(retry, { maxPolls: HARNESS_MAX_RECEIVE_COUNT + 5 }));
    // Assess
    assert.deepEqual([first.received, first.failed], [1, 1]);
    assert.match(entries.find((e) => e.deliveryId === 'retry-no-dlq')?.reason ?? '', /lacks RBAC.*the dead-letter queue could not be written \(QueueDoesNotExist/);
    assert.ok(report.empty);
    assert.equal(bridge.deadLetters.length, 1, 'moved by SQS itself');
    assert.equal(bridge.deadLetters[0]?.deliveryId, 'retry-no-dlq');
    assert.match(bridge.deadLetters[0]?.reason ?? '', /lacks RBAC/);
  });

  it('logs one JSON line per record with ids, outcome, reason and attempt, and never a token, secret or payload', async () => {
    await queueOne('retry-logs-1');
    const { entries, lines } = await captureLogs(async () => bridge.drain(await bridge.coldRetry()));
    const line = entries.find((e) => e.message === 'pending creation retried');
    assert.deepEqual(
      { deliveryId: line?.deliveryId, event: line?.event, eventListener: line?.eventListener, trigger: line?.trigger, outcome: line?.outcome, attempt: line?.attempt, function: line?.function },
      { deliveryId: 'retry-logs-1', event: 'push', eventListener: 'github-push', trigger: 'default-branch', outcome: 'created', attempt: 2, function: 'retry' },
    );
    assert.match(line?.resources?.[0], /^PipelineRun ci\/build-and-deploy-run-[a-z0-9]{10}$/);
    for (const key of ['lookupMs', 'tokenMs', 'apiMs']) assert.equal(typeof line?.timings?.[key], 'number');
    assert.doesNotMatch(lines.join('\n'), /k8s-aws-v1\.|X-Amz-Signature|harness-webhook-secret|tekton-bridge-retry-test-secret-access-key|clone_url|Hello-World\.git|volumeClaimTemplate/);
  });

  it('a queued creation given up turns the commit\'s pending status into an error with the reason', async () => {
    // Prepare: GitHub credentials for the retry function, a queued creation whose only retry fails.
    const github = await startGithubApiServer({ token: 'ghp_retry_test' });
    try {
      const secrets = new SecretsManagerClient({ endpoint: bridge.secretsMoto.endpoint, ...MOTO_CLIENT_SETTINGS });
      const arn = (await secrets.send(new CreateSecretCommand({ Name: `github-retry-${Date.now()}`, SecretString: '{"token":"ghp_retry_test"}' }))).ARN as string;
      await queueOne('retry-given-up');
      const retry = await bridge.coldRetry({ RETRY_MAX_ATTEMPTS: '2', GITHUB_CREDENTIALS_SECRET_ARN: arn, GITHUB_API_URL: github.url });
      bridge.api.injectFault({ kind: 'status', code: 500 });
      // Act
      const { entries } = await captureLogs(() => bridge.drain(retry));
      // Assess
      assert.equal(bridge.deadLetters.length, 1);
      assert.deepEqual(github.statuses.map((s) => [s.state, s.context]), [['error', 'tekton-bridge/github-push/default-branch']]);
      assert.match(github.statuses[0]?.description ?? '', /^Not created: .*500/);
      assert.equal(entries.find((e) => e.message === 'reported error to GitHub')?.deliveryId, 'retry-given-up');
    } finally {
      await github.stop();
    }
  });

  it('fails the cold start naming a missing variable', async () => {
    await assert.rejects(bridge.coldRetry({ DEAD_LETTER_QUEUE_URL: undefined }), /DEAD_LETTER_QUEUE_URL is not set/);
    await assert.rejects(bridge.coldRetry({ RETRY_MAX_ATTEMPTS: '1' }), /RETRY_MAX_ATTEMPTS must be a whole number from 2 to 100/);
  });
});

describe('the bundles load the SQS client only where used, and carry no EKS client', () => {
  it('no static import of @aws-sdk/client-sqs in either bundle, only dynamic ones; DescribeCluster is a signed GET', async () => {
    for (const entry of ['functions/webhook.ts', 'functions/retry.ts']) {
      const result = await build({ ...toEsbuildOptions(entry, '/unused'), write: false, metafile: true });
      const bundle = result.outputFiles.find((f) => f.path.endsWith('.mjs'))?.text ?? '';
      const name = '@aws-sdk/client-sqs';
      const all = bundle.split(`"${name}"`).length - 1;
      const dynamic = bundle.split(`import("${name}")`).length - 1;
      assert.ok(dynamic >= 1, `${entry}: ${name} is imported where used`);
      assert.equal(all, dynamic, `${entry}: every reference to ${name} is a dynamic import (a static one is hoisted and loaded at every cold start)`);
      assert.doesNotMatch(bundle, /@aws-sdk\/client-eks/, `${entry}: no EKS client, bundled or left to the runtime`);
      assert.deepEqual(Object.keys(result.metafile.inputs).filter((input) => input.includes('client-eks')), [], entry);
    }
  });
});
