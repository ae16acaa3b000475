/**
 * Exactly once, under concurrency: the same delivery many times at once, a queued retry racing a person's redelivery,
 * SQS delivering one message twice. Deterministic names make every path idempotent; the cluster ends with one object.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { captureLogs } from '../support/captured-logs.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { HARNESS_SECRET, startBridgeHarness, type BridgeHarness, type WebhookHandler } from '../support/bridge-harness.ts';
import { skipWithout } from '../support/command-on-path.ts';

function outcomeOf(answer: { body?: string }): string {
  return JSON.parse(answer.body as string).results[0].outcome as string;
}

describe('exactly once under concurrency (built bundles, moto SQS, TLS Kubernetes API)', { skip: skipWithout('moto_server') }, () => {
  let bridge: BridgeHarness;
  before(async () => {
    bridge = await startBridgeHarness();
  });
  after(() => bridge?.stop());

  it('the same delivery 10 times at once in one container: one object, one created, nine duplicates', async () => {
    // Prepare
    const webhook = await bridge.coldWebhook();
    const deliveryId = 'once-same-container-0000-4000-8000-00000000';
    const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId });
    // Act
    const { result: answers } = await captureLogs(() => Promise.all(Array.from({ length: 10 }, () => webhook(bridge.apiGatewayEvent(delivery)))));
    // Assess
    assert.equal(bridge.objectsFor(deliveryId).length, 1);
    assert.deepEqual(answers.map(outcomeOf).sort(), ['created', ...Array(9).fill('duplicate')]);
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    assert.equal((await bridge.queueDepth()).total, 0);
  });

  it('the same delivery 10 times at once in 10 containers (as Lambda scales out): one object', async () => {
    // Prepare
    const webhooks: WebhookHandler[] = [];
    for (let i = 0; i < 10; i += 1) webhooks.push(await bridge.coldWebhook());
    const deliveryId = 'once-ten-containers-0000-4000-8000-00000000';
    const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId });
    // Act
    const { result: answers } = await captureLogs(() => Promise.all(webhooks.map((webhook) => webhook(bridge.apiGatewayEvent(delivery)))));
    // Assess
    assert.equal(bridge.objectsFor(deliveryId).length, 1);
    assert.deepEqual(answers.map(outcomeOf).sort(), ['created', ...Array(9).fill('duplicate')]);
  });

  it('a queued retry racing a manual redelivery, 5 rounds: one object each, one created, the other duplicate', async () => {
    for (let round = 0; round < 5; round += 1) {
      // Prepare: the fast path fails (503), the delivery is queued.
      const deliveryId = `once-race-${round}-0000-4000-8000-000000000000`;
      const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId });
      const webhook = await bridge.coldWebhook();
      const retry = await bridge.coldRetry();
      bridge.api.injectFault({ kind: 'status', code: 503 });
      const { result: first } = await captureLogs(() => webhook(bridge.apiGatewayEvent(delivery)));
      assert.equal(outcomeOf(first), 'queued');

      // Act: a person presses "Redeliver" while the retry function takes the message.
      const { result: redelivered, entries } = await captureLogs(() =>
        Promise.all([webhook(bridge.apiGatewayEvent(delivery)), bridge.drain(retry)]).then(([answer]) => answer),
      );

      // Assess
      const retried = entries.filter((e) => e.message === 'pending creation retried' && e.deliveryId === deliveryId).map((e) => e.outcome as string);
      assert.equal(retried.length, 1, JSON.stringify(entries));
      assert.deepEqual([outcomeOf(redelivered), retried[0]].sort(), ['created', 'duplicate'], `round ${round}`);
      assert.equal(bridge.objectsFor(deliveryId).length, 1, `round ${round}`);
      assert.equal((await bridge.queueDepth()).total, 0);
    }
  });

  it('SQS delivering one message twice (at-least-once), in one batch and in two: one object', async () => {
    // Prepare: a message as the webhook queues it, sent twice.
    const webhook = await bridge.coldWebhook();
    const deliveryId = 'once-sqs-twice-0000-4000-8000-000000000000';
    bridge.api.injectFault({ kind: 'status', code: 500 });
    await captureLogs(async () => webhook(bridge.apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId }))));
    const { Messages: [message] = [] } = await bridge.sqs.send(new ReceiveMessageCommand({ QueueUrl: bridge.queueUrl, VisibilityTimeout: 0, MessageAttributeNames: ['All'] }));
    assert.ok(message?.Body);
    // A duplicate delivery by SQS carries the same body and attributes, the webhook's MAC among them.
    for (let copy = 0; copy < 2; copy += 1) {
      await bridge.sqs.send(new SendMessageCommand({ QueueUrl: bridge.queueUrl, MessageBody: message.Body, MessageAttributes: message.MessageAttributes }));
    }

    // Act: two retry containers at once
    const [one, two] = [await bridge.coldRetry(), await bridge.coldRetry()];
    const { entries } = await captureLogs(() => Promise.all([bridge.drain(one), bridge.drain(two)]));

    // Assess
    const outcomes = entries.filter((e) => e.message === 'pending creation retried' && e.deliveryId === deliveryId).map((e) => e.outcome as string);
    assert.deepEqual(outcomes.sort(), ['created', 'duplicate', 'duplicate']);
    assert.equal(bridge.objectsFor(deliveryId).length, 1);
    assert.equal((await bridge.queueDepth()).total, 0);
    assert.equal(bridge.deadLetters.length, 0);
  });

  it('never two objects of one name on the cluster, over every case above', () => {
    const names = bridge.api.objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    assert.equal(new Set(names).size, names.length);
    assert.equal(bridge.api.objects.length, 2 + 5 + 1);
  });
});
