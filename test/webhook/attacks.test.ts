/**
 * Attacks on the webhook, through the built bundle (moto Secrets Manager and SQS, the TLS Kubernetes API): replays of a
 * captured delivery, an old push sent again, a name squatted before the delivery, unsigned requests that try to plant
 * log lines, and a rotation that must revoke.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PutSecretValueCommand, SecretsManagerClient, CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { createKubernetesClient } from '../../functions/adapters/kubernetes-api.ts';
import { loadTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';
import { summarizeDelivery } from '../../functions/core/delivery-summary.ts';
import { evaluateTriggers } from '../../functions/core/evaluate-triggers.ts';
import { bodyDigestOf } from '../../functions/core/resource-names.ts';
import { captureLogs } from '../support/captured-logs.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { HARNESS_SECRET, startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.ts';
import { MOTO_CLIENT_SETTINGS } from '../support/moto-server.ts';

const config = loadTriggersDirectory('triggers');
const answerOf = (result: { statusCode?: number; body?: string }) => ({ status: result.statusCode, body: JSON.parse(result.body as string) });

describe('attacks on the built webhook bundle', () => {
  let bridge: BridgeHarness;
  before(async () => {
    bridge = await startBridgeHarness();
  });
  after(() => bridge?.stop());
  beforeEach(() => bridge.reset());

  it('a captured delivery replayed under fresh delivery ids maps to the run it already made', async () => {
    // Prepare: GitHub's delivery, as captured.
    const webhook = await bridge.coldWebhook();
    const captured = await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId: 'replay-original-4000-8000-000000000000' });
    const { result: original } = await captureLogs(() => webhook(bridge.apiGatewayEvent(captured)));
    // Act: the same bytes and signature, each time with a delivery id of the attacker's choosing.
    const { result: replays } = await captureLogs(() =>
      Promise.all(
        ['replay-1', 'replay-2', 'replay-3'].map((id) => webhook(bridge.apiGatewayEvent({ ...captured, headers: { ...captured.headers, 'x-github-delivery': id } }))),
      ),
    );
    // Assess
    assert.equal(answerOf(original).status, 202);
    for (const replay of replays.map(answerOf)) {
      assert.equal(replay.status, 200);
      assert.equal(replay.body.results[0].outcome, 'duplicate');
      assert.equal(replay.body.results[0].resources[0].name, answerOf(original).body.results[0].resources[0].name);
    }
    assert.equal(bridge.api.objects.length, 1, 'one run, whatever the delivery ids');
    assert.equal(bridge.api.objects[0]?.metadata.labels?.['triggers.tekton.dev/triggers-eventid'], 'replay-original-4000-8000-000000000000');
  });

  it('an old push sent again is refused with 403 and the reason, and creates nothing', async () => {
    // Prepare: a push made four days ago, validly signed.
    const webhook = await bridge.coldWebhook();
    const push = pushToDefaultBranch();
    push.repository.pushed_at = Math.floor(Date.now() / 1000) - 96 * 3600;
    const old = await signedDelivery('push', push, { secret: HARNESS_SECRET, deliveryId: 'old-push-4000-8000-000000000000' });
    // Act
    const { result, entries } = await captureLogs(() => webhook(bridge.apiGatewayEvent(old)));
    const widened = await bridge.coldWebhook({ MAX_PUSH_AGE_HOURS: '120' });
    const { result: accepted } = await captureLogs(() => widened(bridge.apiGatewayEvent(old)));
    // Assess
    const answer = answerOf(result);
    assert.equal(answer.status, 403);
    assert.match(answer.body.error, /^the push was made 96 h ago \(repository\.pushed_at \d{4}-.*\), longer than the 72 h the bridge accepts: an old delivery sent again is refused, push again to build$/);
    assert.equal(entries.find((e) => e.message === 'delivery rejected')?.reason, answer.body.error);
    assert.equal(answerOf(accepted).status, 202, 'MAX_PUSH_AGE_HOURS widens the window');
    assert.equal(bridge.api.objects.length, 1);
  });

  it('a run pre-created under the name the delivery will render does not swallow it: failed, never duplicate', async () => {
    // Prepare: someone able to create PipelineRuns in ci (and who saw the body) squats the name.
    const webhook = await bridge.coldWebhook({ RETRY_QUEUE_URL: undefined });
    const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId: 'squatted-4000-8000-000000000000' });
    const payload = JSON.parse(delivery.body.toString('utf8'));
    const [decision] = evaluateTriggers({ listener: config.eventListeners[0]!, deliveryId: 'any', event: 'push', headers: {}, payload, summary: summarizeDelivery(payload), bodyDigest: bodyDigestOf(delivery.body) });
    const name = decision?.outcome === 'render' ? decision.resources[0]?.metadata.name : undefined;
    assert.ok(name, 'the name the delivery renders');
    const { certPem, keyPem } = bridge.api.clientCertificate;
    const admin = createKubernetesClient({ server: bridge.api.url, ca: bridge.api.caPem, cert: certPem, key: keyPem });
    assert.deepEqual(
      await admin.create({
        apiVersion: 'tekton.dev/v1',
        kind: 'PipelineRun',
        metadata: { name, namespace: 'ci', labels: { 'triggers.tekton.dev/eventlistener': 'github-push', 'triggers.tekton.dev/trigger': 'default-branch' } },
        spec: { pipelineRef: { name: 'nothing' } },
      }),
      { outcome: 'created' },
    );
    // Act
    const { result } = await captureLogs(() => webhook(bridge.apiGatewayEvent(delivery)));
    // Assess
    const answer = answerOf(result);
    assert.equal(answer.status, 503);
    assert.equal(answer.body.results[0].outcome, 'failed');
    assert.match(answer.body.results[0].reason, /was not created: the name is taken by an object the bridge did not create$/);
  });

  it('a 401 is logged under claimedDeliveryId, never deliveryId, with a few headers cut short', async () => {
    // Prepare: an unsigned request claiming a real delivery's id, with kilobytes of headers.
    const webhook = await bridge.coldWebhook();
    const forged = await signedDelivery('push', pushToDefaultBranch(), { secret: 'not-the-secret', deliveryId: `real-delivery-id-${'x'.repeat(4000)}` });
    forged.headers['user-agent'] = `GitHub-Hookshot/${'y'.repeat(8000)}`;
    forged.headers['x-padding'] = 'z'.repeat(8000);
    // Act
    const { result, lines, entries } = await captureLogs(() => webhook(bridge.apiGatewayEvent(forged)));
    // Assess
    assert.equal(result.statusCode, 401);
    const line = entries.find((e) => e.message === 'delivery rejected');
    assert.ok(line);
    assert.equal(line.deliveryId, undefined);
    assert.equal(line.claimedDeliveryId, `real-delivery-id-${'x'.repeat(83)}…`);
    assert.deepEqual(Object.keys(line.headers).sort(), ['content-length', 'content-type', 'user-agent', 'x-github-hook-id', 'x-github-hook-installation-target-type']);
    assert.equal(line.headers['user-agent'].length, 101);
    assert.ok(lines.every((l) => l.length < 2500), `every line is bounded (${Math.max(...lines.map((l) => l.length))} characters)`);
    assert.doesNotMatch(lines.join('\n'), /zzzz/);
  });

  it('after a rotation the old secret verifies only within the grace period, and is read only when the current one fails', async () => {
    // Prepare: a secret of its own, rotated.
    const secrets = new SecretsManagerClient({ endpoint: bridge.secretsMoto.endpoint, ...MOTO_CLIENT_SETTINGS });
    const arn = (await secrets.send(new CreateSecretCommand({ Name: 'rotated-webhook-secret', SecretString: 'old-rotated-secret' }))).ARN as string;
    await secrets.send(new PutSecretValueCommand({ SecretId: arn, SecretString: 'new-rotated-secret' }));
    const within = await bridge.coldWebhook({ WEBHOOK_SECRET_ARN: arn });
    const noGrace = await bridge.coldWebhook({ WEBHOOK_SECRET_ARN: arn, PREVIOUS_SECRET_GRACE_HOURS: '0' });
    const send = async (handler: typeof within, secret: string) =>
      (await captureLogs(async () => handler(bridge.apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret }))))).result.statusCode;
    // Act / Assess
    assert.equal(await send(within, 'new-rotated-secret'), 202);
    assert.equal(await send(within, 'old-rotated-secret'), 202, 'within 24 h of the rotation');
    assert.equal(await send(noGrace, 'new-rotated-secret'), 202);
    assert.equal(await send(noGrace, 'old-rotated-secret'), 401, 'PREVIOUS_SECRET_GRACE_HOURS=0 revokes at once');
  });
});
