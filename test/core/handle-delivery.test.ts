import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { handleDelivery } from '../../functions/core/handle-delivery.ts';
import { lookupKey, unavailableLookups, type GithubLookups, type PlannedLookups } from '../../functions/core/interceptors/github-lookups.ts';
import type { CreateResult, KubernetesObject, PendingCreation } from '../../functions/core/delivery-types.ts';
import { loadTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';
import { inlineConfig, listenerYaml, templateYaml } from '../support/inline-config.ts';
import { asRequest, signedDelivery, TEST_SECRET } from '../support/deliveries.ts';
import { githubExample, pushToDefaultBranch, tagPush } from '../support/github-examples.ts';

const config = loadTriggersDirectory('triggers');
const deps = { config, secrets: [TEST_SECRET], wallClock: Date.now };

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
    const push = pushToDefaultBranch();
    const json = await handleDelivery(asRequest(await signedDelivery('push', push)), deps);
    const form = await handleDelivery(asRequest(await signedDelivery('push', push, { contentType: 'form' })), deps);
    assert.equal(form.answer.status, 202);
    // The same payload in other bytes: the same decisions, under names of its own (they derive from the signed bytes).
    const withoutNames = (answer: typeof json.answer) => JSON.stringify(answer).replace(/build-and-deploy-run-[a-z0-9]{10}/g, 'NAME').replace(/"[0-9a-f]{64}"/g, 'DIGEST').replace(/"v1=[0-9a-f]{64}"/g, 'SIGNATURE');
    assert.equal(withoutNames(form.answer), withoutNames(json.answer));
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
    assert.equal((await handleDelivery(asRequest(delivery, '/two'), { config: two, secrets: [TEST_SECRET], wallClock: Date.now })).answer.body.eventListener, 'two');
    const unnamed = await handleDelivery(asRequest(delivery, ''), { config: two, secrets: [TEST_SECRET], wallClock: Date.now });
    assert.equal(unnamed.answer.status, 404);
    assert.match(unnamed.answer.body.error ?? '', /several EventListeners .*one, two/);
    assert.equal((await handleDelivery(asRequest(delivery, '/three'), { config: two, secrets: [TEST_SECRET], wallClock: Date.now })).answer.status, 404);
  });

  describe('with a retry queue', () => {
    const failing = (retryable: boolean) => async (): Promise<CreateResult> => ({ outcome: 'failed', reason: retryable ? 'the API answered 503' : 'forbidden', retryable });

    it('202 queued when the API fails in a way that may pass, with what renders the objects (not the objects) on the queue', async () => {
      const queue: PendingCreation[] = [];
      const delivery = await signedDelivery('push', pushToDefaultBranch(), { deliveryId: 'q-1' });
      const report = await handleDelivery(asRequest(delivery), {
        ...deps,
        createResource: failing(true),
        enqueue: async (pending) => (queue.push(pending), { queued: true }),
      });
      const rendered = (await handleDelivery(asRequest(delivery), deps)).answer.body.rendered ?? [];
      assert.equal(report.answer.status, 202);
      assert.equal(report.answer.body.results?.[0]?.outcome, 'queued');
      assert.match(report.answer.body.results?.[0]?.reason ?? '', /503; queued, the bridge will retry$/);
      assert.equal(queue.length, 1);
      assert.equal(queue[0]?.deliveryId, 'q-1');
      assert.equal(queue[0]?.permanent, false);
      const push = pushToDefaultBranch();
      assert.deepEqual(Object.keys(queue[0] ?? {}).sort(), ['bodyDigest', 'deliveryId', 'event', 'eventListener', 'params', 'permanent', 'reason', 'signatures', 'summary', 'trigger']);
      // The signatures of the objects it rendered, which the retry function (holding no webhook secret) puts back.
      assert.deepEqual(queue[0]?.signatures, rendered.map((object) => object.metadata.annotations?.['tekton-bridge/signature']));
      assert.match(queue[0]?.signatures?.[0] ?? '', /^v1=[0-9a-f]{64}$/);
      assert.deepEqual(queue[0]?.params, { 'repo-url': push.repository.clone_url, revision: push.after, 'repo-name': push.repository.name });
      assert.match(queue[0]?.bodyDigest ?? '', /^[0-9a-f]{64}$/);
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

    it("creates as the trigger's service account, and queues no account: the retry takes it from its own config", async () => {
      const withAccount = inlineConfig(
        templateYaml(['v']),
        listenerYaml('', '        - name: v\n          value: $(body.after)').replace('spec:\n  triggers:', 'spec:\n  serviceAccountName: ci-bot\n  triggers:'),
      );
      const asked: unknown[] = [];
      const queue: PendingCreation[] = [];
      await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), {
        config: withAccount,
        secrets: [TEST_SECRET],
        wallClock: Date.now,
        createResource: async (_object, options) => (asked.push(options), { outcome: 'failed', reason: 'the API answered 503', retryable: true }),
        enqueue: async (pending) => (queue.push(pending), { queued: true }),
      });
      assert.deepEqual(asked, [{ impersonate: { namespace: 'ci', name: 'ci-bot' } }]);
      assert.equal(queue.length, 1);
      assert.equal(Object.hasOwn(queue[0] ?? {}, 'impersonate'), false);
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


describe('handleDelivery defends against', () => {
  it('an empty or whitespace secret: never verifies a signature made with it (anyone can), answers 503', async () => {
    for (const secret of ['', '   ', '\n\t']) {
      // Anyone can sign with the empty key; a whitespace one is as guessable.
      const forged = await signedDelivery('push', pushToDefaultBranch());
      forged.headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', secret).update(forged.body).digest('hex')}`;
      const report = await handleDelivery(asRequest(forged), { ...deps, secrets: [secret] });
      assert.equal(report.answer.status, 503, JSON.stringify(secret));
      assert.match(report.answer.body.error ?? '', /webhook secret is empty or whitespace, which would accept anyone's signature/);
      assert.equal(report.signatureVerified, false);
    }
    // Beside a real one, a blank secret is simply not used.
    const report = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch(), { secret: ' ' })), { ...deps, secrets: [TEST_SECRET, ' '] });
    assert.equal(report.answer.status, 401);
  });

  it('asks for the previous secret only when the current one does not verify a well-formed signature', async () => {
    const asked: string[] = [];
    const previousSecrets = async () => (asked.push('previous'), ['old-secret']);
    const current = await handleDelivery(asRequest(await signedDelivery('push', tagPush())), { ...deps, previousSecrets });
    assert.deepEqual([current.answer.status, asked.length], [200, 0], 'the common path reads no previous secret');
    const unsigned = await handleDelivery(asRequest({ ...(await signedDelivery('push', tagPush())), headers: { 'x-github-event': 'push', 'x-github-delivery': 'd' } }), { ...deps, previousSecrets });
    assert.deepEqual([unsigned.answer.status, asked.length], [401, 0], 'nor does a request without a signature');
    const old = await handleDelivery(asRequest(await signedDelivery('push', tagPush(), { secret: 'old-secret' })), { ...deps, previousSecrets });
    assert.deepEqual([old.answer.status, asked.length], [200, 1]);
  });

  it('a push older than the window by its signed pushed_at: 403 with the reason; the window is the clock\'s, injected', async () => {
    const push = pushToDefaultBranch();
    const pushedAtMs = push.repository.pushed_at * 1000;
    const delivery = await signedDelivery('push', push);
    const at = (ms: number, maxPushAgeMs?: number) => handleDelivery(asRequest(delivery), { ...deps, wallClock: () => ms, ...(maxPushAgeMs !== undefined && { maxPushAgeMs }) });
    assert.equal((await at(pushedAtMs + 72 * 3_600_000)).answer.status, 202, 'exactly 72 h: still accepted');
    const late = await at(pushedAtMs + 72 * 3_600_000 + 1000);
    assert.equal(late.answer.status, 403);
    assert.match(late.answer.body.error ?? '', /^the push was made 72 h ago .* longer than the 72 h the bridge accepts/);
    assert.equal((await at(pushedAtMs + 2 * 3_600_000, 3_600_000)).answer.status, 403, 'a narrower window');
    assert.equal((await at(pushedAtMs + 1000 * 3_600_000, 0)).answer.status, 202, '0 turns the check off');
    const noTime = pushToDefaultBranch();
    delete noTime.repository.pushed_at;
    const unknown = await handleDelivery(asRequest(await signedDelivery('push', noTime)), deps);
    assert.equal(unknown.answer.status, 403);
    assert.match(unknown.answer.body.error ?? '', /has no repository\.pushed_at/);
    assert.equal((await handleDelivery(asRequest(await signedDelivery('ping', githubExample('ping'))), { ...deps, wallClock: () => 8.64e15 })).answer.status, 200, 'only pushes are judged');
  });

  it("asks GitHub's API only for what a github interceptor needs: nothing for a config without addChangedFiles or githubOwners, nor for a push", async () => {
    // Prepare
    const asked: string[][] = [];
    const lookupGithub = async (planned: PlannedLookups): Promise<GithubLookups> => {
      asked.push(planned.lookups.map(lookupKey));
      return unavailableLookups(planned.lookups, 'not asked in this test');
    };
    const pullRequest = githubExample('pull_request', (p) => p.action === 'opened' && p.installation === undefined);
    const usingApi = loadTriggersDirectory('test/fixtures/triggers/github-api');

    // Act
    const plain = await handleDelivery(asRequest(await signedDelivery('pull_request', pullRequest)), { ...deps, lookupGithub });
    const push = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), { ...deps, config: usingApi, lookupGithub });
    const needing = await handleDelivery(asRequest(await signedDelivery('pull_request', pullRequest)), { ...deps, config: usingApi, lookupGithub });

    // Assess
    assert.equal(plain.answer.status, 200);
    assert.equal(push.answer.status, 200);
    assert.deepEqual(asked, [['files Codertocat/Hello-World#2', 'public-member Codertocat Codertocat', 'collaborator Codertocat/Hello-World Codertocat', 'owners Codertocat/Hello-World']], 'one call for the delivery that needs GitHub, each lookup once');
    assert.equal(needing.answer.status, 503);
    assert.ok(needing.answer.body.results?.every((r) => r.outcome === 'failed' && /not asked in this test/.test(r.reason ?? '')));
  });

  it('a template that takes metadata.namespace from the payload: only the EventListener\'s namespaces', async () => {
    const aimed = (annotations = '') =>
      inlineConfig(templateYaml(['ns'], '        namespace: $(tt.params.ns)'), listenerYaml('', '        - name: ns\n          value: $(body.target)', annotations));
    const deliver = async (config: ReturnType<typeof aimed>, target: string) =>
      (await handleDelivery(asRequest(await signedDelivery('check_run', { target })), { ...deps, config })).answer;
    const away = await deliver(aimed(), 'kube-system');
    assert.equal(away.status, 503);
    assert.match(away.body.results?.[0]?.reason ?? '', /rendered for namespace "kube-system", which EventListener ci does not allow \(allowed: ci; the annotation tekton-bridge\/allowed-namespaces adds more\)/);
    assert.equal((await deliver(aimed(), 'ci')).status, 202);
    const allowing = aimed('    tekton-bridge/allowed-namespaces: "apps, staging"\n');
    assert.equal((await deliver(allowing, 'staging')).status, 202);
    assert.equal((await deliver(allowing, 'kube-system')).status, 503);
  });
});
