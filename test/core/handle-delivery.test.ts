import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { handleDelivery } from '../../functions/core/handle-delivery.ts';
import type { CreateResult, KubernetesObject, PendingCreation } from '../../functions/core/delivery-types.ts';
import { loadTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';
import { inlineConfig, listenerYaml, templateYaml } from '../support/inline-config.ts';
import { asRequest, signedDelivery, TEST_SECRET } from '../support/deliveries.ts';
import { githubExample, pushToDefaultBranch, tagPush } from '../support/github-examples.ts';

const config = loadTriggersDirectory('triggers');
const deps = { config, secrets: [TEST_SECRET] };

describe('handleDelivery answers', () => {
  const rejections: { name: string; make: () => Promise<{ headers: Record<string, string | undefined>; body: Buffer }>; status: number; error: RegExp }[] = [
    { name: 'no signature', make: async () => ({ ...(await signedDelivery('push', {})), headers: { ...(await signedDelivery('push', {})).headers, 'x-hub-signature-256': undefined } }), status: 401, error: /missing/ },
    { name: 'sha1 signature only', make: async () => { const d = await signedDelivery('push', {}); return { ...d, headers: { ...d.headers, 'x-hub-signature-256': undefined, 'x-hub-signature': 'sha1=abc' } }; }, status: 401, error: /sha1/ },
    { name: 'garbled signature', make: async () => { const d = await signedDelivery('push', {}); return { ...d, headers: { ...d.headers, 'x-hub-signature-256': 'sha256=nothex' } }; }, status: 401, error: /malformed/ },
    { name: 'signed with another secret', make: () => signedDelivery('push', {}, { secret: 'other' }), status: 401, error: /does not match/ },
    { name: 'valid signature over a body that is not JSON', make: () => signedDelivery('push', 'this is not json'), status: 400, error: /not valid JSON/ },
    { name: 'truncated JSON', make: () => signedDelivery('push', JSON.stringify(pushToDefaultBranch()).slice(0, 200)), status: 400, error: /not valid JSON/ },
    { name: 'JSON that is not an object', make: () => signedDelivery('push', '[1,2]'), status: 400, error: /not an object/ },
    { name: 'form body without payload', make: async () => { const d = await signedDelivery('push', {}, { contentType: 'form' }); const body = Buffer.from('other=1'); return { headers: { ...d.headers, 'x-hub-signature-256': (await signedDelivery('push', 'other=1')).headers['x-hub-signature-256'] }, body }; }, status: 400, error: /no payload field/ },
    { name: 'wrong content type', make: () => signedDelivery('push', {}, { headers: { 'content-type': 'text/plain' } }), status: 415, error: /text\/plain.*application\/json/ },
    { name: 'no content type', make: () => signedDelivery('push', {}, { headers: { 'content-type': '' } }), status: 415, error: /\(none\)/ },
    { name: 'missing X-GitHub-Event', make: () => signedDelivery('push', {}, { headers: { 'x-github-event': '' } }), status: 400, error: /X-GitHub-Event/ },
    { name: 'missing X-GitHub-Delivery', make: () => signedDelivery('push', {}, { headers: { 'x-github-delivery': '' } }), status: 400, error: /X-GitHub-Delivery/ },
  ];
  for (const { name, make, status, error } of rejections) {
    it(`${status} for ${name}, with a clear error and nothing of the payload`, async () => {
      const created: KubernetesObject[] = [];
      const report = await handleDelivery(asRequest(await make()), { ...deps, createResource: async (o) => (created.push(o), { outcome: 'created' }) });
      assert.equal(report.answer.status, status);
      assert.match(report.answer.body.error ?? '', error);
      assert.doesNotMatch(JSON.stringify(report.answer.body), /Codertocat|this is not json|test-webhook-secret/);
      assert.deepEqual(created, []);
    });
  }

  it('413 for a body over the limit, before anything else', async () => {
    const report = await handleDelivery(asRequest(await signedDelivery('push', { pad: 'x'.repeat(2000) })), { ...deps, maxBodyBytes: 1000 });
    assert.equal(report.answer.status, 413);
    assert.match(report.answer.body.error ?? '', /limit is 1000 bytes/);
  });

  it('parses a form-encoded delivery to the same answer as the JSON one', async () => {
    const json = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), deps);
    const form = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch(), { contentType: 'form' })), deps);
    assert.equal(form.answer.status, 202);
    assert.deepEqual(form.answer, json.answer);
  });

  it('200 with a pong body for ping', async () => {
    const ping = githubExample('ping');
    const report = await handleDelivery(asRequest(await signedDelivery('ping', ping)), deps);
    assert.equal(report.answer.status, 200);
    assert.equal(report.answer.body.pong, true);
    assert.equal(report.answer.body.zen, ping.zen);
  });

  it('200 with each skip reason when nothing matches', async () => {
    const report = await handleDelivery(asRequest(await signedDelivery('push', tagPush())), deps);
    assert.equal(report.answer.status, 200);
    assert.equal(report.answer.body.results?.[0]?.outcome, 'skipped');
    assert.match(report.answer.body.results?.[0]?.reason ?? '', /CEL filter is false/);
  });

  it('202 in dry run with the rendered resources and dryRun: true, creating nothing', async () => {
    const report = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), deps);
    assert.equal(report.answer.status, 202);
    assert.equal(report.answer.body.dryRun, true);
    assert.equal(report.answer.body.rendered?.[0]?.metadata.name, report.answer.body.results?.[0]?.resources?.[0]?.name);
  });

  it('202 created, then 200 duplicate for a redelivery, through the create function', async () => {
    const cluster = new Map<string, KubernetesObject>();
    const createResource = async (object: KubernetesObject): Promise<CreateResult> => {
      if (cluster.has(object.metadata.name)) return { outcome: 'duplicate' };
      cluster.set(object.metadata.name, object);
      return { outcome: 'created' };
    };
    const delivery = await signedDelivery('push', pushToDefaultBranch());
    const first = await handleDelivery(asRequest(delivery), { ...deps, createResource });
    const again = await handleDelivery(asRequest(delivery), { ...deps, createResource });
    assert.equal(first.answer.status, 202);
    assert.equal(first.answer.body.results?.[0]?.outcome, 'created');
    assert.equal(first.answer.body.dryRun, undefined);
    assert.equal(again.answer.status, 200);
    assert.equal(again.answer.body.results?.[0]?.outcome, 'duplicate');
    assert.equal(cluster.size, 1);
  });

  it('503 when nothing could be created, with the reason of the failure', async () => {
    const report = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), {
      ...deps,
      createResource: async () => ({ outcome: 'failed', reason: 'the API answered 500', retryable: true }),
    });
    assert.equal(report.answer.status, 503);
    assert.match(report.answer.body.results?.[0]?.reason ?? '', /^PipelineRun ci\/build-and-deploy-run-\w+ was not created: the API answered 500$/);
  });

  it('routes /webhook/<name> to that EventListener when there are several, and 404s an unknown one', async () => {
    const two = inlineConfig(
      templateYaml(['v']),
      listenerYaml('', '        - name: v\n          value: $(body.after)').replace('name: ci\n', 'name: one\n'),
      listenerYaml('', '        - name: v\n          value: $(body.ref)').replace('name: ci\n', 'name: two\n'),
    );
    const delivery = await signedDelivery('push', pushToDefaultBranch());
    assert.equal((await handleDelivery(asRequest(delivery, '/two'), { config: two, secrets: [TEST_SECRET] })).answer.body.eventListener, 'two');
    const unnamed = await handleDelivery(asRequest(delivery, ''), { config: two, secrets: [TEST_SECRET] });
    assert.equal(unnamed.answer.status, 404);
    assert.match(unnamed.answer.body.error ?? '', /several EventListeners .*one, two/);
    assert.equal((await handleDelivery(asRequest(delivery, '/three'), { config: two, secrets: [TEST_SECRET] })).answer.status, 404);
  });

  describe('with a retry queue', () => {
    const failing = (retryable: boolean) => async (): Promise<CreateResult> => ({ outcome: 'failed', reason: retryable ? 'the API answered 503' : 'forbidden', retryable });

    it('202 queued when the API fails in a way that may pass, with the rendered objects on the queue', async () => {
      const queue: PendingCreation[] = [];
      const report = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch(), { deliveryId: 'q-1' })), {
        ...deps,
        createResource: failing(true),
        enqueue: async (pending) => (queue.push(pending), { queued: true }),
      });
      assert.equal(report.answer.status, 202);
      assert.equal(report.answer.body.results?.[0]?.outcome, 'queued');
      assert.match(report.answer.body.results?.[0]?.reason ?? '', /503; queued, the bridge will retry$/);
      assert.equal(queue.length, 1);
      assert.equal(queue[0]?.deliveryId, 'q-1');
      assert.equal(queue[0]?.permanent, false);
      assert.equal(queue[0]?.objects[0]?.metadata.name, report.answer.body.results?.[0]?.resources?.[0]?.name);
    });

    it('503 failed for a permanent failure, parked for a person', async () => {
      const queue: PendingCreation[] = [];
      const report = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), {
        ...deps,
        createResource: failing(false),
        enqueue: async (pending) => (queue.push(pending), { queued: true }),
      });
      assert.equal(report.answer.status, 503);
      assert.match(report.answer.body.results?.[0]?.reason ?? '', /forbidden; kept in the dead-letter queue/);
      assert.equal(queue[0]?.permanent, true);
    });

    it("creates as the trigger's service account, and queues that account with what it could not create", async () => {
      const withAccount = inlineConfig(
        templateYaml(['v']),
        listenerYaml('', '        - name: v\n          value: $(body.after)').replace('spec:\n  triggers:', 'spec:\n  serviceAccountName: ci-bot\n  triggers:'),
      );
      const asked: unknown[] = [];
      const queue: PendingCreation[] = [];
      await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), {
        config: withAccount,
        secrets: [TEST_SECRET],
        createResource: async (_object, options) => (asked.push(options), { outcome: 'failed', reason: 'the API answered 503', retryable: true }),
        enqueue: async (pending) => (queue.push(pending), { queued: true }),
      });
      assert.deepEqual(asked, [{ impersonate: { namespace: 'ci', name: 'ci-bot' } }]);
      assert.deepEqual(queue[0]?.impersonate, { namespace: 'ci', name: 'ci-bot' });
    });

    it('503 only when the queue cannot be written either, saying both', async () => {
      const report = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), {
        ...deps,
        createResource: failing(true),
        enqueue: async () => ({ queued: false, reason: 'SQS is unavailable' }),
      });
      assert.equal(report.answer.status, 503);
      assert.match(report.answer.body.results?.[0]?.reason ?? '', /503; it could not be queued either: SQS is unavailable$/);
    });
  });
});

