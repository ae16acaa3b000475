import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CreateResult, KubernetesObject, PendingCreation } from '../../functions/core/delivery-types.ts';
import { parsePendingCreation, retryDelaySeconds, retryPendingCreation } from '../../functions/core/retry-creation.ts';

const run = (name: string): KubernetesObject => ({ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { name, namespace: 'ci' } });

function pending(overrides: Partial<PendingCreation> = {}): PendingCreation {
  return {
    deliveryId: 'd-1',
    event: 'push',
    eventListener: 'github-push',
    trigger: 'default-branch',
    objects: [run('a-run-1'), run('a-run-2')],
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
    const decision = await retryPendingCreation(pending(), { createResource: api.create, attempt: 2, maxAttempts: 5 });
    assert.equal(decision.outcome, 'created');
    assert.deepEqual(api.asked, ['a-run-1', 'a-run-2']);
    assert.deepEqual(decision.resources.map((r) => r.name), ['a-run-1', 'a-run-2']);
  });

  it('duplicate when every object already exists (a redelivery or a slow fast path got there first)', async () => {
    const api = scripted({ outcome: 'duplicate' }, { outcome: 'duplicate' });
    assert.equal((await retryPendingCreation(pending(), { createResource: api.create, attempt: 2, maxAttempts: 5 })).outcome, 'duplicate');
  });

  it('retry on a retryable failure, saying which object, why and which attempt; stops at the failed object', async () => {
    const api = scripted({ outcome: 'failed', retryable: true, reason: 'the Kubernetes API answered 500 Internal Server Error' });
    const decision = await retryPendingCreation(pending(), { createResource: api.create, attempt: 3, maxAttempts: 5 });
    assert.deepEqual(decision, {
      outcome: 'retry',
      reason: 'PipelineRun ci/a-run-1 was not created: the Kubernetes API answered 500 Internal Server Error (attempt 3 of 5)',
      resources: decision.resources,
    });
    assert.deepEqual(api.asked, ['a-run-1']);
  });

  it('dead-letter on the last attempt, and on a failure no retry cures', async () => {
    const retryable = scripted({ outcome: 'failed', retryable: true, reason: '503' });
    const last = await retryPendingCreation(pending(), { createResource: retryable.create, attempt: 5, maxAttempts: 5 });
    assert.equal(last.outcome, 'dead-letter');
    assert.match(last.outcome === 'dead-letter' ? last.reason : '', /503 \(gave up after 5 attempts\)$/);
    const forbidden = scripted({ outcome: 'failed', retryable: false, reason: 'forbidden' });
    const permanent = await retryPendingCreation(pending(), { createResource: forbidden.create, attempt: 2, maxAttempts: 5 });
    assert.equal(permanent.outcome, 'dead-letter');
    assert.match(permanent.outcome === 'dead-letter' ? permanent.reason : '', /forbidden \(attempt 2; no retry will cure it\)$/);
  });

  it('parks a creation queued as permanent without calling the API', async () => {
    const api = scripted();
    const decision = await retryPendingCreation(pending({ permanent: true, reason: 'RBAC' }), { createResource: api.create, attempt: 2, maxAttempts: 5 });
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
  it('reads back what the webhook queued', () => {
    const queued = pending();
    assert.deepEqual(parsePendingCreation(JSON.stringify({ ...queued, extra: 1 })), { ok: true, pending: queued });
  });
  it('reads back the service account to create as, and creates as it', async () => {
    const queued = pending({ impersonate: { namespace: 'ci', name: 'ci-bot' } });
    const parsed = parsePendingCreation(JSON.stringify(queued));
    assert.deepEqual(parsed, { ok: true, pending: queued });
    const asked: unknown[] = [];
    await retryPendingCreation(queued, { createResource: async (_o, options) => (asked.push(options), { outcome: 'created' }), attempt: 2, maxAttempts: 5 });
    assert.deepEqual(asked, [{ impersonate: { namespace: 'ci', name: 'ci-bot' } }, { impersonate: { namespace: 'ci', name: 'ci-bot' } }]);
  });
  const bad: [string, string, RegExp][] = [
    ['an impersonate that is no account', JSON.stringify({ ...pending(), impersonate: { name: 'x' } }), /impersonate that is not \{namespace, name\}/],
    ['not JSON', 'secret-looking text {', /^the message is not JSON \(\d+ characters\)$/],
    ['not an object', '[1]', /not a JSON object/],
    ['no deliveryId', JSON.stringify({ ...pending(), deliveryId: 7 }), /no deliveryId/],
    ['no permanent flag', JSON.stringify({ ...pending(), permanent: 'yes' }), /no permanent flag/],
    ['no objects', JSON.stringify({ ...pending(), objects: [] }), /no objects/],
    ['an object without a namespace', JSON.stringify({ ...pending(), objects: [{ apiVersion: 'v1', kind: 'X', metadata: { name: 'x' } }] }), /objects\[0\]/],
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
