import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { summarizeDelivery } from '../../../functions/core/delivery-summary.ts';
import { evaluateTriggers, type TriggerDecision } from '../../../functions/core/evaluate-triggers.ts';
import { handleDelivery } from '../../../functions/core/handle-delivery.ts';
import { setOverlayValue, overlayKeyProblem } from '../../../functions/core/cel/overlay-keys.ts';
import type { TriggersConfig } from '../../../functions/core/triggers-config.ts';
import { inlineConfig, listenerYaml, templateYaml, withOldEscape } from '../../support/inline-config.ts';
import { asRequest, signedDelivery, TEST_SECRET } from '../../support/deliveries.ts';
import { githubExample, pushToDefaultBranch } from '../../support/github-examples.ts';

function celConfig(interceptor: string, binding = '$(body.after)', template = templateYaml(['v'])): TriggersConfig {
  return inlineConfig(template, listenerYaml(`        - cel:\n${interceptor}`, `        - name: v\n          value: '${binding}'`));
}

function decide(config: TriggersConfig, payload: unknown, extra: Partial<Parameters<typeof evaluateTriggers>[0]> = {}): TriggerDecision {
  const listener = config.eventListeners[0];
  assert.ok(listener);
  const [decision] = evaluateTriggers({ listener, deliveryId: 'd-1', event: 'issue_comment', headers: { 'x-github-event': 'issue_comment' }, payload, summary: summarizeDelivery(payload), ...extra });
  assert.ok(decision);
  return decision;
}

const params = (decision: TriggerDecision): Record<string, unknown> => {
  assert.equal(decision.outcome, 'render', 'reason' in decision ? decision.reason : '');
  const spec = decision.outcome === 'render' ? (decision.resources[0]?.spec as { params: { name: string; value: unknown }[] }) : { params: [] };
  return Object.fromEntries(spec.params.map((p) => [p.name, p.value]));
};

describe('matches() with RE2', () => {
  it('answers at once for a 37-character comment against ^/test\\s+(\\w+\\s*)+$, which backtracks for minutes in JavaScript', () => {
    // Prepare
    const config = celConfig("            filter: \"body.comment.body.matches('^/test\\\\\\\\s+(\\\\\\\\w+\\\\\\\\s*)+$')\"");
    const comment = githubExample('issue_comment');
    comment.comment.body = `/test ${'a'.repeat(30)}!`;
    assert.equal(comment.comment.body.length, 37);
    // Act
    const decision = decide(config, comment);
    // Assess
    assert.equal(decision.outcome, 'skipped');
    assert.match('reason' in decision ? decision.reason : '', /CEL filter is false/);
    assert.deepEqual(config.cel.features, ['regex']);
  });

  it('takes Go syntax such as (?i)', () => {
    const config = celConfig("            filter: \"body.comment.body.matches('(?i)^/retest')\"", '$(body.comment.body)');
    const comment = githubExample('issue_comment');
    comment.comment.body = '/ReTest please';
    assert.equal(decide(config, comment).outcome, 'render');
  });
});

describe('payloads with keys JavaScript holds special', () => {
  for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`reads an object with a key named ${key}, and the fields around it`, () => {
      // Prepare: as GitHub would send it, parsed by JSON.parse
      const payload = JSON.parse(`{"ref": {"${key}": 1, "name": "main"}, "files": [{"${key}": {"a": 2}}], "after": "abc"}`);
      const config = celConfig(
        `            filter: "body.ref.name == 'main' && body.ref['${key}'] == 1.0 && body.files[0]['${key}'].a == 2.0"\n            overlays:\n              - {key: copy, expression: "body.ref"}`,
        '$(extensions.copy)',
        // A JSON object bound into a string, as Tekton renders it only under this annotation.
        withOldEscape(templateYaml(['v'])),
      );
      // Act
      const decision = decide(config, payload);
      // Assess
      assert.deepEqual(JSON.parse(String(params(decision).v)), JSON.parse(`{"${key}": 1, "name": "main"}`));
    });
  }

  it('fails a trigger, and never throws, for a payload nested 10,000 deep', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 10_000; i += 1) deep = { a: deep, constructor: i };
    const config = celConfig('            overlays:\n              - {key: whole, expression: "body.deep"}');
    const decision = decide(config, { deep, after: 'x' });
    assert.equal(decision.outcome, 'failed');
    assert.match('reason' in decision ? decision.reason : '', /CEL overlay "whole"/);
  });
});

describe('the time budget of a delivery', () => {
  it('fails the trigger once CEL has taken longer than the budget, on the clock the caller hands in', () => {
    // Prepare: a clock that moves 1 ms each time it is read, and a quadratic expression over 300 labels
    let clock = 0;
    const now = () => (clock += 1);
    const config = celConfig('            filter: "body.labels.all(a, body.labels.exists(b, b == a))"');
    const labels = Array.from({ length: 300 }, (_, i) => `l${i}`);
    // Act
    const decision = decide(config, { labels, after: 'x' }, { cel: { now, budgetMs: 50 } });
    // Assess
    assert.equal(decision.outcome, 'failed');
    assert.match('reason' in decision ? decision.reason : '', /time budget of 50 ms/);
  });

  it('lets the same expression finish within a larger budget', () => {
    let clock = 0;
    const config = celConfig('            filter: "body.labels.all(a, body.labels.exists(b, b == a))"');
    const labels = Array.from({ length: 300 }, (_, i) => `l${i}`);
    assert.equal(decide(config, { labels, after: 'x' }, { cel: { now: () => (clock += 1), budgetMs: 1_000_000 } }).outcome, 'render');
  });

  it('shares one budget across the triggers of a delivery', () => {
    let clock = 0;
    const config = celConfig('            filter: "body.labels.all(a, body.labels.exists(b, b == a))"');
    const listener = config.eventListeners[0]!;
    const twice = { ...listener, triggers: [listener.triggers[0]!, { ...listener.triggers[0]!, name: 'second' }] };
    const labels = Array.from({ length: 300 }, (_, i) => `l${i}`);
    const payload = { labels, after: 'x' };
    const decisions = evaluateTriggers({ listener: twice, deliveryId: 'd', event: 'push', headers: {}, payload, summary: summarizeDelivery(payload), cel: { now: () => (clock += 1), budgetMs: 50 } });
    assert.deepEqual(decisions.map((d) => d.outcome), ['failed', 'failed']);
    assert.match('reason' in decisions[1]! ? (decisions[1] as { reason: string }).reason : '', /used up/);
  });
});

describe('requestURL', () => {
  it('is the URL the delivery was posted to', async () => {
    // Prepare
    const config = celConfig('            overlays:\n              - {key: path, expression: "requestURL.parseURL().path + \'?\' + requestURL.parseURL().query.x"}', '$(extensions.path)');
    const delivery = await signedDelivery('push', pushToDefaultBranch());
    // Act
    const report = await handleDelivery({ ...asRequest(delivery), requestURL: 'https://abc.execute-api.eu-west-1.amazonaws.com/webhook?x=1' }, { config, secrets: [TEST_SECRET], wallClock: Date.now });
    // Assess
    const rendered = report.answer.body.rendered?.[0]?.spec as { params: { value: string }[] };
    assert.equal(rendered.params[0]?.value, '/webhook?1');
  });
});

describe('overlay keys, as sjson sets them', () => {
  const cases: { key: string; want: unknown }[] = [
    { key: 'a', want: { a: 'v' } },
    { key: 'a.b', want: { a: { b: 'v' } } },
    { key: 'a\\.b', want: { 'a.b': 'v' } },
    { key: 'list.1', want: { list: [null, 'v'] } },
    { key: 'list.-1', want: { list: ['v'] } },
    { key: 'list.:1', want: { list: { '1': 'v' } } },
    { key: '__proto__.polluted', want: JSON.parse('{"__proto__": {"polluted": "v"}}') },
  ];
  for (const { key, want } of cases) {
    it(`sets ${key}`, () => {
      const extensions: Record<string, unknown> = {};
      setOverlayValue(extensions, key, 'v');
      assert.deepEqual(JSON.parse(JSON.stringify(extensions)), JSON.parse(JSON.stringify(want)));
      assert.equal(({} as { polluted?: string }).polluted, undefined);
    });
  }
  it('refuses sjson query syntax when the config loads', () => {
    assert.match(overlayKeyProblem('a.#') ?? '', /query syntax/);
    assert.equal(overlayKeyProblem('a\\#b'), undefined);
  });
});
