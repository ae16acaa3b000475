/**
 * Signed but odd payloads: whatever JSON and headers a holder of the secret (or GitHub on a bad day) sends, the core
 * answers with one of the contract's statuses and its body shape, and never throws. A trigger that cannot be evaluated
 * fails alone, with a reason; the others still run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { handleDelivery, type DeliveryDependencies } from '../../functions/core/handle-delivery.ts';
import type { CreateResult, KubernetesObject } from '../../functions/core/delivery-types.ts';
import { loadTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';
import { asRequest, signedDelivery, TEST_SECRET } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { inlineConfig, listenerYaml, templateYaml } from '../support/inline-config.ts';
import { assertContractAnswer } from '../support/contract-answer.ts';

const config = loadTriggersDirectory('triggers');
const corpus = loadTriggersDirectory('test/fixtures/reliability/corpus-triggers');
const deps: DeliveryDependencies = { config, secrets: [TEST_SECRET], wallClock: Date.now };

/** Two triggers of one EventListener: one binds a value the payload may nest deep, one binds a plain string. */
const twoTriggers = inlineConfig(
  templateYaml(['v']),
  listenerYaml('', '        - name: v\n          value: $(body.deep)').replace(
    '      template:\n        ref: echo\n',
    '      template:\n        ref: echo\n    - name: plain\n      bindings:\n        - name: v\n          value: $(body.after)\n      template:\n        ref: echo\n',
  ),
);

function deeplyNested(depth: number): string {
  return `${'['.repeat(depth)}1${']'.repeat(depth)}`;
}

describe('signed but odd payloads', () => {
  it('{"ref":{"toString":1},"deleted":true} is answered, not thrown', async () => {
    // Prepare: as the issue found it, and again with a pushed_at that lets it reach the push hygiene.
    const asFound = await signedDelivery('push', '{"ref":{"toString":1},"deleted":true}');
    const recent = await signedDelivery('push', JSON.stringify({ ref: { toString: 1 }, deleted: true, repository: { pushed_at: Math.floor(Date.now() / 1000) } }));
    // Act
    const first = await handleDelivery(asRequest(asFound), deps);
    const second = await handleDelivery(asRequest(recent), deps);
    // Assess
    assertContractAnswer(first.answer);
    assertContractAnswer(second.answer);
    assert.equal(second.answer.status, 200);
    assert.match(second.answer.body.results?.[0]?.reason ?? '', /^the push deletes a ref; nothing to build/);
  });

  it('a bound value nested 10,000 deep fails its trigger with a reason; the other trigger still renders', async () => {
    // Prepare
    const body = `{"after":"c0ffee","deep":${deeplyNested(10_000)}}`;
    const delivery = await signedDelivery('check_run', body);
    // Act
    const report = await handleDelivery(asRequest(delivery), { ...deps, config: twoTriggers });
    // Assess
    assertContractAnswer(report.answer);
    const [deep, plain] = report.answer.body.results ?? [];
    assert.equal(deep?.trigger, 't');
    assert.equal(deep?.outcome, 'failed');
    assert.match(deep?.reason ?? '', /^binding param "v" \(inline\) cannot be resolved: \$\(body\.deep\): the payload is nested too deeply to evaluate this expression/);
    assert.equal(plain?.outcome, 'created');
    assert.equal(report.answer.status, 202);
  });

  it('an adapter that throws fails its trigger alone', async () => {
    const report = await handleDelivery(asRequest(await signedDelivery('push', pushToDefaultBranch())), {
      ...deps,
      createResource: async () => {
        throw new TypeError('socket is not a function');
      },
    });
    assertContractAnswer(report.answer);
    assert.equal(report.answer.status, 503);
    assert.equal(report.answer.body.results?.[0]?.reason, 'creating its resources failed unexpectedly (TypeError: socket is not a function)');
  });

  it('property: arbitrary JSON and arbitrary headers, signed, never make handleDelivery throw', async () => {
    // A real push with any of its fields replaced by arbitrary JSON, or any JSON value at all, as either content type.
    const realPush = pushToDefaultBranch();
    const pushFields = fc.constantFrom('ref', 'after', 'before', 'deleted', 'repository', 'head_commit', 'commits', 'pusher', 'zen', 'pull_request', 'deep');
    const repositoryFields = fc.constantFrom('name', 'full_name', 'clone_url', 'default_branch', 'pushed_at');
    const odd = fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.constant(Number.MAX_VALUE), fc.constant('\u0000\u202e'), fc.integer().map((n) => n * 1e12));
    const payload = fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.dictionary(pushFields, odd, { maxKeys: 4 }), fc.dictionary(repositoryFields, odd, { maxKeys: 3 })).map(([top, repository]) => JSON.stringify({ ...realPush, ...top, repository: { ...realPush.repository, ...repository } })) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 8 }).map((value) => JSON.stringify(value) ?? 'null') },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    );
    const headerName = fc.oneof(fc.constantFrom('x-github-event', 'x-github-delivery', 'content-type', 'x-hub-signature', 'x-secret-token', 'user-agent'), fc.string({ maxLength: 20 }).map((s) => s.toLowerCase()));
    const headers = fc.dictionary(headerName, fc.string({ unit: 'binary', maxLength: 80 }), { maxKeys: 5 });
    const event = fc.oneof(fc.constantFrom('push', 'ping', 'pull_request', 'issues'), fc.string({ maxLength: 30 }));
    const createOutcome = fc.constantFrom<'created' | 'duplicate' | 'failed' | 'throws'>('created', 'duplicate', 'failed', 'throws');
    const form = fc.boolean();
    const listenerPath = fc.constantFrom('', '/github-push', '/nope', '//', '/github-push/');

    await fc.assert(
      fc.asyncProperty(payload, headers, event, createOutcome, form, listenerPath, fc.boolean(), async (json, extra, eventName, outcome, asForm, path, useCorpus) => {
        const text = asForm ? `payload=${encodeURIComponent(json)}` : json;
        const body = Buffer.from(text);
        const request = {
          listenerPath: path,
          body,
          headers: {
            'content-type': asForm ? 'application/x-www-form-urlencoded' : 'application/json',
            'x-github-event': eventName,
            'x-github-delivery': 'prop-delivery',
            ...extra,
            'x-hub-signature-256': `sha256=${createHmac('sha256', TEST_SECRET).update(body).digest('hex')}`,
          },
        };
        const createResource = async (_object: KubernetesObject): Promise<CreateResult> => {
          if (outcome === 'throws') throw new Error('adapter bug');
          return outcome === 'failed' ? { outcome, reason: 'the API answered 500', retryable: true } : { outcome };
        };
        const report = await handleDelivery(request, { ...deps, config: useCorpus ? corpus : config, createResource });
        assertContractAnswer(report.answer);
      }),
      { numRuns: 300 },
    );
  });
});
