import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CreateResult, KubernetesObject, PendingCreation } from '../../functions/core/delivery-types.ts';
import { parsePendingCreation, renderPendingCreation, retryDelaySeconds, retryPendingCreation } from '../../functions/core/retry-creation.ts';
import { evaluateTriggers } from '../../functions/core/evaluate-triggers.ts';
import { summarizeDelivery } from '../../functions/core/delivery-summary.ts';
import { loadTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { inlineConfig, listenerYaml, templateYaml } from '../support/inline-config.ts';

const run = (name: string): KubernetesObject => ({ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { name, namespace: 'ci' } });
const objects = [run('a-run-1'), run('a-run-2')];

function pending(overrides: Partial<PendingCreation> = {}): PendingCreation {
  return {
    deliveryId: 'd-1',
    event: 'push',
    eventListener: 'github-push',
    trigger: 'default-branch',
    bodyDigest: 'b'.repeat(64),
    summary: { repository: 'octocat/Hello-World', ref: 'refs/heads/main', commit: 'c0ffee' },
    params: { 'repo-url': 'https://github.com/octocat/Hello-World.git', revision: 'c0ffee', 'repo-name': 'Hello-World' },
    reason: 'the Kubernetes API answered 503 Service Unavailable',
    permanent: false,
    ...overrides,
  };
}

/** A createResource answering from a script, recording what it was asked. */
function scripted(...answers: CreateResult[]): { create: (o: KubernetesObject) => Promise<CreateResult>; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    create: async (object) => {
      asked.push(object.metadata.name);
      return answers.shift() ?? { outcome: 'created' };
    },
  };
}

describe('retryPendingCreation', () => {
  it('creates every object in order: created when any was new', async () => {
    const api = scripted({ outcome: 'duplicate' }, { outcome: 'created' });
    const decision = await retryPendingCreation(pending(), { objects, serviceAccount: undefined }, { createResource: api.create, attempt: 2, maxAttempts: 5 });
    assert.equal(decision.outcome, 'created');
    assert.deepEqual(api.asked, ['a-run-1', 'a-run-2']);
    assert.deepEqual(decision.resources.map((r) => r.name), ['a-run-1', 'a-run-2']);
  });

  it('duplicate when every object already exists (a redelivery or a slow fast path got there first)', async () => {
    const api = scripted({ outcome: 'duplicate' }, { outcome: 'duplicate' });
    assert.equal((await retryPendingCreation(pending(), { objects, serviceAccount: undefined }, { createResource: api.create, attempt: 2, maxAttempts: 5 })).outcome, 'duplicate');
  });

  it('retry on a retryable failure, saying which object, why and which attempt; stops at the failed object', async () => {
    const api = scripted({ outcome: 'failed', retryable: true, reason: 'the Kubernetes API answered 500 Internal Server Error' });
    const decision = await retryPendingCreation(pending(), { objects, serviceAccount: undefined }, { createResource: api.create, attempt: 3, maxAttempts: 5 });
    assert.deepEqual(decision, {
      outcome: 'retry',
      reason: 'PipelineRun ci/a-run-1 was not created: the Kubernetes API answered 500 Internal Server Error (attempt 3 of 5)',
      resources: decision.resources,
    });
    assert.deepEqual(api.asked, ['a-run-1']);
  });

  it('dead-letter on the last attempt, and on a failure no retry cures', async () => {
    const retryable = scripted({ outcome: 'failed', retryable: true, reason: '503' });
    const last = await retryPendingCreation(pending(), { objects, serviceAccount: undefined }, { createResource: retryable.create, attempt: 5, maxAttempts: 5 });
    assert.equal(last.outcome, 'dead-letter');
    assert.match(last.outcome === 'dead-letter' ? last.reason : '', /503 \(gave up after 5 attempts\)$/);
    const forbidden = scripted({ outcome: 'failed', retryable: false, reason: 'forbidden' });
    const permanent = await retryPendingCreation(pending(), { objects, serviceAccount: undefined }, { createResource: forbidden.create, attempt: 2, maxAttempts: 5 });
    assert.equal(permanent.outcome, 'dead-letter');
    assert.match(permanent.outcome === 'dead-letter' ? permanent.reason : '', /forbidden \(attempt 2; no retry will cure it\)$/);
  });

  it('parks a creation queued as permanent without calling the API', async () => {
    const api = scripted();
    const decision = await retryPendingCreation(pending({ permanent: true, reason: 'RBAC' }), { objects, serviceAccount: undefined }, { createResource: api.create, attempt: 2, maxAttempts: 5 });
    assert.deepEqual([decision.outcome, api.asked.length], ['dead-letter', 0]);
    assert.match(decision.outcome === 'dead-letter' ? decision.reason : '', /^not retried, no retry will cure it: RBAC$/);
  });
});

describe('retryDelaySeconds', () => {
  const options = { baseSeconds: 30, maxSeconds: 900 };
  it('doubles from the base after each failed retry, capped', () => {
    const ceilings = [2, 3, 4, 5, 6, 7, 8, 20].map((attempt) => retryDelaySeconds(attempt, { ...options, jitter: 1 }));
    assert.deepEqual(ceilings, [30, 60, 120, 240, 480, 900, 900, 900]);
  });
  it('spreads the wait over the upper half with jitter, never below half', () => {
    assert.equal(retryDelaySeconds(4, { ...options, jitter: 0 }), 60);
    assert.equal(retryDelaySeconds(4, { ...options, jitter: 0.5 }), 90);
    assert.equal(retryDelaySeconds(40, { ...options, jitter: 0.999 }), 900);
  });
  it('is 0 with a base of 0 (tests, the soak)', () => {
    assert.equal(retryDelaySeconds(9, { baseSeconds: 0, maxSeconds: 0, jitter: 0.7 }), 0);
  });
});

describe('parsePendingCreation', () => {
  it('reads back what the webhook queued, and what the retry function parked (a redrive)', () => {
    const queued = pending();
    assert.deepEqual(parsePendingCreation(JSON.stringify(queued)), { ok: true, pending: queued });
    assert.deepEqual(parsePendingCreation(JSON.stringify({ ...queued, deadLetter: { reason: 'RBAC', attempts: 2 } })), { ok: true, pending: queued });
    const fromApp = pending({ summary: { ...queued.summary, installationId: '42' } });
    assert.deepEqual(parsePendingCreation(JSON.stringify(fromApp)), { ok: true, pending: fromApp });
  });
  const inlineRun = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { name: 'x', namespace: 'ci' }, spec: { pipelineSpec: { tasks: [{ name: 'own', taskSpec: { steps: [{ image: 'evil', script: 'curl …' }] } }] } } };
  const bad: [string, string, RegExp][] = [
    ['an account to impersonate (that comes from the config only)', JSON.stringify({ ...pending(), impersonate: { namespace: 'kube-system', name: 'admin' } }), /a field "impersonate" a pending creation does not have/],
    ['not JSON', 'secret-looking text {', /^the message is not JSON \(\d+ characters\)$/],
    ['not an object', '[1]', /not a JSON object/],
    ['no deliveryId', JSON.stringify({ ...pending(), deliveryId: 7 }), /no deliveryId/],
    ['no permanent flag', JSON.stringify({ ...pending(), permanent: 'yes' }), /no permanent flag/],
    ['objects to create (a run with an inline pipelineSpec)', JSON.stringify({ ...pending(), objects: [inlineRun] }), /carries objects to create; the retry function creates only what it renders/],
    ['a kind of ../../.. in objects', JSON.stringify({ ...pending(), objects: [{ ...inlineRun, kind: '../../..' }] }), /carries objects/],
    ['an unknown field', JSON.stringify({ ...pending(), spec: {} }), /a field "spec" a pending creation does not have/],
    ['a bodyDigest that is not one', JSON.stringify({ ...pending(), bodyDigest: '../x' }), /no bodyDigest/],
    ['a param that is not a string', JSON.stringify({ ...pending(), params: { revision: { $ne: 1 } } }), /param "revision" is not a string/],
    ['a summary with an extra field', JSON.stringify({ ...pending(), summary: { namespace: 'kube-system' } }), /summary has a field "namespace"/],
    ['an installation id that is not one', JSON.stringify({ ...pending(), summary: { installationId: '1/../2' } }), /summary\.installationId is not a GitHub App installation id/],
  ];
  for (const [name, text, reason] of bad) {
    it(`names what is wrong with ${name}, without echoing it`, () => {
      const parsed = parsePendingCreation(text);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.reason, reason);
      assert.doesNotMatch(parsed.ok ? '' : parsed.reason, /secret-looking/);
    });
  }
});

describe("renderPendingCreation: only what the retry function's own config renders", () => {
  const config = loadTriggersDirectory('triggers');

  it('renders exactly what the webhook rendered, from the params the webhook queued', () => {
    // Prepare: the webhook's own decision for a push.
    const push = pushToDefaultBranch();
    const [decision] = evaluateTriggers({ listener: config.eventListeners[0]!, deliveryId: 'd-1', event: 'push', headers: {}, payload: push, summary: summarizeDelivery(push), bodyDigest: 'c'.repeat(64) });
    assert.equal(decision?.outcome, 'render');
    if (decision?.outcome !== 'render') return;
    // Act
    const rendered = renderPendingCreation(pending({ bodyDigest: 'c'.repeat(64), params: decision.params, summary: summarizeDelivery(push) }), config);
    // Assess
    assert.deepEqual(rendered, { ok: true, objects: decision.resources, serviceAccount: undefined });
  });

  const refused: [string, Partial<PendingCreation>, RegExp][] = [
    ['an unknown EventListener', { eventListener: 'other' }, /^no EventListener named "other" in the retry function's config$/],
    ['an unknown trigger', { trigger: 'deploy-anything' }, /^EventListener github-push has no trigger named "deploy-anything"$/],
    ['a param the template does not have', { params: { ...pending().params, namespace: 'kube-system' } }, /param "namespace" is not a param of TriggerTemplate\/build-and-deploy/],
    ['a param left out that has no default', { params: { revision: 'c0ffee' } }, /param "repo-url" .* has no value and no default/],
  ];
  for (const [name, overrides, reason] of refused) {
    it(`refuses ${name}`, () => {
      const rendered = renderPendingCreation(pending(overrides), config);
      assert.equal(rendered.ok, false);
      assert.match(rendered.ok ? '' : rendered.reason, reason);
    });
  }

  it("creates as the trigger's serviceAccountName from its own config, on every object", async () => {
    // Prepare
    const withAccount = inlineConfig(templateYaml(['revision']), listenerYaml('', '        - name: revision\n          value: $(body.after)').replace('    - name: t\n', '    - name: t\n      serviceAccountName: ci-bot\n'));
    const rendered = renderPendingCreation(pending({ eventListener: 'ci', trigger: 't', params: { revision: 'c0ffee' } }), withAccount);
    assert.equal(rendered.ok, true);
    if (!rendered.ok) return;
    const asked: unknown[] = [];
    // Act
    await retryPendingCreation(pending({ eventListener: 'ci', trigger: 't' }), rendered, {
      createResource: async (_object, options) => (asked.push(options), { outcome: 'created' }),
      attempt: 2,
      maxAttempts: 5,
    });
    // Assess
    assert.deepEqual(rendered.serviceAccount, { namespace: 'ci', name: 'ci-bot' });
    assert.deepEqual(asked, [{ impersonate: { namespace: 'ci', name: 'ci-bot' } }]);
  });

  it('refuses params that aim the run at a namespace the EventListener does not allow', () => {
    const aimed = inlineConfig(templateYaml(['ns'], '        namespace: $(tt.params.ns)'), listenerYaml('', '        - name: ns\n          value: $(body.ns)'));
    const ok = renderPendingCreation(pending({ eventListener: 'ci', trigger: 't', params: { ns: 'ci' } }), aimed);
    const away = renderPendingCreation(pending({ eventListener: 'ci', trigger: 't', params: { ns: 'kube-system' } }), aimed);
    assert.equal(ok.ok, true);
    assert.equal(away.ok, false);
    assert.match(away.ok ? '' : away.reason, /rendered for namespace "kube-system", which EventListener ci does not allow \(allowed: ci;/);
  });
});
