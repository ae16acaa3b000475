import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pageReachesWindowStart, planRedeliveries, SCHEDULE_SPACING_MS, type HookDelivery } from '../../../functions/core/redelivery/redelivery-plan.ts';
import { parseHookRefs, hookName } from '../../../functions/core/redelivery/hook-refs.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
let ids = 100;

/** One attempt `ago` ms before NOW, answered `code` (0: none). */
function attempt(guid: string, ago: number, code: number, redelivery = false, extra: Partial<HookDelivery> = {}): HookDelivery {
  ids += 1;
  return { id: ids, guid, delivered_at: new Date(NOW - ago).toISOString().replace(/\.\d{3}Z$/, 'Z'), redelivery, status_code: code, status: code === 0 ? 'timed out' : code < 300 ? 'OK' : `Invalid HTTP Response: ${code}`, event: 'push', action: null, ...extra };
}

const policy = { now: NOW, windowMs: 24 * HOUR, maxRedeliveries: 3, spacingMs: SCHEDULE_SPACING_MS };
const decide = (deliveries: HookDelivery[], overrides: Partial<typeof policy> = {}) =>
  planRedeliveries(deliveries, { ...policy, ...overrides }).map((v) => [v.guid, v.verdict.action, 'attempt' in v.verdict ? v.verdict.attempt : v.redeliveries] as const);

describe('planRedeliveries: which events are redelivered, and as which attempt', () => {
  const rows: [name: string, deliveries: HookDelivery[], expected: ReturnType<typeof decide>, overrides?: Partial<typeof policy>][] = [
    ['a delivery answered 503 is redelivered, as its first redelivery', [attempt('a', 2 * HOUR, 503)], [['a', 'redeliver', 1]]],
    ['one that timed out (no HTTP answer) likewise', [attempt('a', 2 * HOUR, 0)], [['a', 'redeliver', 1]]],
    ['a 4xx is not a 2xx either', [attempt('a', 2 * HOUR, 401)], [['a', 'redeliver', 1]]],
    ['a 2xx first time: nothing to do', [attempt('a', 2 * HOUR, 202)], [['a', 'delivered', 0]]],
    ['a 3xx is not a 2xx', [attempt('a', 2 * HOUR, 302)], [['a', 'redeliver', 1]]],
    ['failed, then a person redelivered it and it got a 2xx: not again', [attempt('a', 3 * HOUR, 503), attempt('a', 2 * HOUR, 200, true)], [['a', 'delivered', 1]]],
    ['failed twice: the second redelivery', [attempt('a', 3 * HOUR, 503), attempt('a', 2 * HOUR, 502, true)], [['a', 'redeliver', 2]]],
    ['three redeliveries already: capped', [attempt('a', 5 * HOUR, 503), attempt('a', 4 * HOUR, 503, true), attempt('a', 3 * HOUR, 0, true), attempt('a', 2 * HOUR, 500, true)], [['a', 'capped', 3]]],
    ['a cap of 1 after one redelivery', [attempt('a', 3 * HOUR, 503), attempt('a', 2 * HOUR, 503, true)], [['a', 'capped', 1]], { maxRedeliveries: 1 }],
    ['a cap of 0 redelivers nothing', [attempt('a', 3 * HOUR, 503)], [['a', 'capped', 0]], { maxRedeliveries: 0 }],
    ['failed 30 s ago: waits for the first minute', [attempt('a', 30_000, 503)], [['a', 'waiting', 0]]],
    ['redelivered 2 minutes ago and failed: waits for 5 minutes', [attempt('a', 10 * MIN, 503), attempt('a', 2 * MIN, 503, true)], [['a', 'waiting', 1]]],
    ['redelivered 6 minutes ago and failed: the second redelivery', [attempt('a', 10 * MIN, 503), attempt('a', 6 * MIN, 503, true)], [['a', 'redeliver', 2]]],
    ['no spacing (by hand): at once', [attempt('a', 1000, 503)], [['a', 'redeliver', 1]], { spacingMs: [] }],
    ['first delivered before the window: left alone', [attempt('a', 25 * HOUR, 503)], []],
    ['only redeliveries listed (the first delivery is older than the listing): left alone', [attempt('a', 2 * HOUR, 503, true)], []],
    ['a shorter window', [attempt('old', 7 * HOUR, 503), attempt('new', 5 * HOUR, 503)], [['new', 'redeliver', 1]], { windowMs: 6 * HOUR }],
    [
      'several events, oldest first, whatever order GitHub listed them in',
      [attempt('late', 1 * HOUR, 503), attempt('ok', 3 * HOUR, 200), attempt('early', 5 * HOUR, 0), attempt('mid', 3 * HOUR, 500)],
      [['early', 'redeliver', 1], ['mid', 'redeliver', 1], ['ok', 'delivered', 0], ['late', 'redeliver', 1]],
    ],
    ['the same attempt listed twice (pages overlapping) counts once', (() => { const a = attempt('a', 3 * HOUR, 503); const b = attempt('a', 2 * HOUR, 503, true); return [a, b, { ...b }]; })(), [['a', 'redeliver', 2]]],
    ['items that are no attempts are ignored', [attempt('a', 2 * HOUR, 503), { ...attempt('', HOUR, 503) }, { ...attempt('b', HOUR, 503), delivered_at: 'yesterday' }, null as unknown as HookDelivery], [['a', 'redeliver', 1]]],
  ];
  for (const [name, deliveries, expected, overrides] of rows) {
    it(name, () => assert.deepEqual(decide(deliveries, overrides), expected));
  }

  it('redelivers through the latest attempt, and says what it last got', () => {
    const first = attempt('a', 3 * HOUR, 503, false, { event: 'pull_request', action: 'opened' });
    const latest = attempt('a', 2 * HOUR, 0, true);
    const [verdict] = planRedeliveries([latest, first], policy);
    assert.deepEqual(verdict, {
      guid: 'a',
      event: 'pull_request',
      action: 'opened',
      firstDeliveredAt: first.delivered_at,
      redeliveries: 1,
      lastStatusCode: 0,
      lastStatus: 'timed out',
      verdict: { action: 'redeliver', deliveryId: latest.id, attempt: 2 },
    });
  });

  it('a waiting event says when it is due', () => {
    const failed = attempt('a', 30_000, 503);
    assert.deepEqual(planRedeliveries([failed], policy)[0]?.verdict, { action: 'waiting', dueAt: Date.parse(failed.delivered_at) + MIN });
  });
});

describe('pageReachesWindowStart: when to stop following the cursor', () => {
  it('stops at a page holding a delivery from before the window, and not before', () => {
    assert.equal(pageReachesWindowStart([attempt('a', HOUR, 200), attempt('b', 23 * HOUR, 200)], policy), false);
    assert.equal(pageReachesWindowStart([attempt('a', HOUR, 200), attempt('b', 25 * HOUR, 200)], policy), true);
    assert.equal(pageReachesWindowStart([], policy), false);
  });
});

describe('parseHookRefs: REDELIVER_HOOKS and --hooks', () => {
  it('takes owner/repo/hookId, comma separated, spaces and repeats forgiven', () => {
    assert.deepEqual(parseHookRefs(' octo-org/shop.web/123456789, octo_org/api/42 ,octo-org/shop.web/123456789,'), {
      ok: true,
      hooks: [
        { kind: 'repository', owner: 'octo-org', repo: 'shop.web', hookId: 123456789 },
        { kind: 'repository', owner: 'octo_org', repo: 'api', hookId: 42 },
      ],
    });
    assert.deepEqual(parseHookRefs(''), { ok: true, hooks: [] });
  });
  for (const bad of ['octo-org/shop', 'octo-org/shop/abc', 'octo-org/shop/0', 'octo-org/shop/1/2', '../shop/1', 'octo org/shop/1', 'o/r/99999999999999999999', 'https://github.com/o/r/1']) {
    it(`refuses ${JSON.stringify(bad)}, naming it`, () => {
      const parsed = parseHookRefs(bad);
      assert.equal(parsed.ok, false);
      assert.match(!parsed.ok ? parsed.reason : '', /is not owner\/repo\/hookId/);
    });
  }
  it('names hooks for logs', () => {
    assert.equal(hookName({ kind: 'repository', owner: 'o', repo: 'r', hookId: 7 }), 'o/r/7');
    assert.equal(hookName({ kind: 'app' }), "the App's webhook");
  });
});
