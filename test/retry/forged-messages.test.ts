/**
 * Anyone able to SendMessage to the retry queue, attacking the built retry bundle (moto SQS and KMS, the TLS Kubernetes
 * API): without the key, nothing is accepted; with a valid MAC (a holder of the key), nothing but what the retry
 * function's own config renders. Every forged message is dead-lettered with its reason and never reaches the cluster.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createRetryMessageMac } from '../../functions/adapters/retry-message-mac.ts';
import type { PendingCreation } from '../../functions/core/delivery-types.ts';
import { captureLogs } from '../support/captured-logs.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { HARNESS_SECRET, startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.ts';
import { MOTO_CLIENT_SETTINGS } from '../support/moto-server.ts';
import { takeAll } from '../support/sqs-event-source.ts';

const TRIGGERS = 'test/fixtures/security/retry-triggers';

/** A pending creation as the webhook writes one for the default config's trigger. */
function pending(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base: PendingCreation = {
    deliveryId: 'forged-0000-4000-8000-000000000000',
    event: 'push',
    eventListener: 'github-push',
    trigger: 'default-branch',
    bodyDigest: 'f'.repeat(64),
    summary: { repository: 'octocat/Hello-World', ref: 'refs/heads/main', commit: 'c0ffee' },
    params: { 'repo-url': 'https://github.com/octocat/Hello-World.git', revision: 'c0ffee', 'repo-name': 'Hello-World' },
    reason: 'the Kubernetes API answered 503 Service Unavailable',
    permanent: false,
  };
  return { ...base, ...overrides };
}

/** A PipelineRun running any image as build-bot: what the queue once created for whoever could SendMessage. */
const inlineRun = {
  apiVersion: 'tekton.dev/v1',
  kind: 'PipelineRun',
  metadata: { name: 'owned', namespace: 'ci' },
  spec: {
    taskRunTemplate: { serviceAccountName: 'build-bot' },
    pipelineSpec: { tasks: [{ name: 'own', taskSpec: { steps: [{ name: 'x', image: 'attacker/image', script: 'cat /var/run/secrets/*' }] } }] },
  },
};

describe('forged retry-queue messages, through the built retry bundle', () => {
  let bridge: BridgeHarness;
  let keyHolder: ReturnType<typeof createRetryMessageMac>;
  before(async () => {
    bridge = await startBridgeHarness({ triggersDir: TRIGGERS });
    keyHolder = createRetryMessageMac({
      region: MOTO_CLIENT_SETTINGS.region,
      credentials: async () => MOTO_CLIENT_SETTINGS.credentials,
      endpoint: bridge.moto.endpoint,
      keyArn: bridge.macKeyArn,
    });
  });
  after(() => bridge?.stop());
  beforeEach(() => bridge.reset());

  const send = (body: string, mac?: string) =>
    bridge.sqs.send(
      new SendMessageCommand({ QueueUrl: bridge.queueUrl, MessageBody: body, ...(mac !== undefined && { MessageAttributes: { mac: { DataType: 'String', StringValue: mac } } }) }),
    );

  const forgeries: { name: string; forge: () => Promise<[string, string | undefined]>; reason: RegExp }[] = [
    { name: 'no mac', forge: async () => [JSON.stringify(pending()), undefined], reason: /no mac attribute: it was not written by the webhook function/ },
    { name: 'a wrong mac', forge: async () => [JSON.stringify(pending()), randomBytes(32).toString('base64')], reason: /mac does not verify/ },
    { name: 'a mac that is not one', forge: async () => [JSON.stringify(pending()), '../../etc'], reason: /mac does not verify/ },
    {
      name: "another message's mac",
      forge: async () => [JSON.stringify(pending({ params: { ...(pending().params as object), revision: 'evil' } })), await keyHolder.sign(JSON.stringify(pending()))],
      reason: /mac does not verify/,
    },
    {
      name: 'the right mac over a PipelineRun with an inline pipelineSpec',
      forge: async () => {
        const body = JSON.stringify({ ...pending(), objects: [inlineRun] });
        return [body, await keyHolder.sign(body)];
      },
      reason: /carries objects to create; the retry function creates only what it renders from its own config/,
    },
    {
      name: 'the right mac over a kind of ../../..',
      forge: async () => {
        const body = JSON.stringify({ ...pending(), objects: [{ ...inlineRun, kind: '../../../api/v1/namespaces/kube-system/secrets' }] });
        return [body, await keyHolder.sign(body)];
      },
      reason: /carries objects/,
    },
    {
      name: 'the right mac, aiming a run at another namespace through a param',
      forge: async () => {
        const body = JSON.stringify(pending({ trigger: 'namespaced', params: { namespace: 'kube-system' } }));
        return [body, await keyHolder.sign(body)];
      },
      reason: /rendered for namespace "kube-system", which EventListener github-push does not allow \(allowed: ci;/,
    },
    {
      name: 'the right mac, an unknown trigger',
      forge: async () => {
        const body = JSON.stringify(pending({ trigger: 'deploy-anything' }));
        return [body, await keyHolder.sign(body)];
      },
      reason: /EventListener github-push has no trigger named "deploy-anything"/,
    },
    {
      name: 'the right mac, an unknown EventListener',
      forge: async () => {
        const body = JSON.stringify(pending({ eventListener: 'elsewhere' }));
        return [body, await keyHolder.sign(body)];
      },
      reason: /no EventListener named "elsewhere"/,
    },
    {
      name: 'the right mac, a param the template does not have',
      forge: async () => {
        const body = JSON.stringify(pending({ params: { ...(pending().params as object), serviceAccountName: 'cluster-admin' } }));
        return [body, await keyHolder.sign(body)];
      },
      reason: /param "serviceAccountName" is not a param of TriggerTemplate\/build-and-deploy/,
    },
  ];

  for (const { name, forge, reason } of forgeries) {
    it(`${name}: dead-lettered with the reason, unsigned, and nothing reaches the cluster`, async () => {
      // Prepare
      const [body, mac] = await forge();
      await send(body, mac);
      // Act
      const { entries } = await captureLogs(async () => bridge.drain(await bridge.coldRetry()));
      // Assess
      assert.equal(bridge.api.requests.length, 0, 'no request reached the Kubernetes API');
      assert.equal(bridge.deadLetters.length, 1);
      assert.match(bridge.deadLetters[0]?.reason ?? '', reason);
      assert.equal(bridge.deadLetters[0]?.body.unreadableBody, body, 'parked as it came');
      assert.equal(bridge.deadLetters[0]?.mac, undefined, 'never signed: a redrive refuses it again');
      const logged = entries.find((e) => e.message === 'pending creation dead-lettered');
      assert.match(logged?.reason ?? '', reason);
      assert.equal(logged?.deliveryId, undefined, 'an unaccepted message logs no delivery id it claims');
    });
  }

  it('a dead letter the retry function parked is signed again: redriven to the retry queue, it is created', async () => {
    // Prepare: a creation refused by RBAC, parked for a person.
    const webhook = await bridge.coldWebhook();
    bridge.api.setForbidden(true);
    const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId: 'redrive-0000-4000-8000-000000000000' });
    await captureLogs(async () => webhook(bridge.apiGatewayEvent(delivery)));
    await captureLogs(async () => bridge.drain(await bridge.coldRetry()));
    bridge.api.setForbidden(false);
    assert.equal(bridge.deadLetters.length, 1);
    assert.match(bridge.deadLetters[0]?.mac ?? '', /^[A-Za-z0-9+/]{43}=$/);
    // Act: what SQS's redrive does — the dead letter's body and attributes back on the retry queue.
    const [letter] = await takeAll(bridge.sqs, bridge.deadLetterQueueUrl);
    assert.equal(letter, undefined, 'drain already took it');
    await send(JSON.stringify(bridge.deadLetters[0]?.body), bridge.deadLetters[0]?.mac);
    const { entries } = await captureLogs(async () => bridge.drain(await bridge.coldRetry()));
    // Assess
    assert.equal(entries.find((e) => e.message === 'pending creation retried')?.outcome, 'created');
    assert.equal(bridge.objectsFor('redrive-0000-4000-8000-000000000000').length, 1);
  });
});
