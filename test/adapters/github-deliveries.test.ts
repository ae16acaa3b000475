import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createGithubApi } from '../../functions/adapters/github-api.ts';
import { redeliverFailedDeliveries } from '../../functions/adapters/github-deliveries.ts';
import { linkTarget, nextCursor } from '../../functions/adapters/github-links.ts';
import { APP_HOOK, type HookRef } from '../../functions/core/redelivery/hook-refs.ts';
import { githubAppKeyPair } from '../support/github-app-key.ts';
import { hookKey, startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';

const TOKEN = 'ghp_redelivery_adapter_token';
const HOUR = 3_600_000;
const keys = githubAppKeyPair();
const SHOP: HookRef = { kind: 'repository', owner: 'octo-org', repo: 'shop', hookId: 11 };
const API: HookRef = { kind: 'repository', owner: 'octo-org', repo: 'api', hookId: 22 };
const policy = { windowMs: 24 * HOUR, maxRedeliveries: 3, spacingMs: [] };

describe('redeliverFailedDeliveries against the GitHub API test server', () => {
  let github: GithubApiServer;
  const now = Date.now();
  const ago = (ms: number) => now - ms;
  const token = () => createGithubApi({ credentials: { mode: 'token', token: TOKEN }, baseUrl: github.url, maxWaitMs: 0 });

  before(async () => {
    github = await startGithubApiServer({ token: TOKEN, app: { appId: '77', publicKeyPem: keys.publicKeyPem, installations: [{ id: 9001 }] } });
  });
  after(() => github?.stop());
  beforeEach(() => github.reset());

  it('follows the cursor back to the window start, redelivers exactly the events that never got a 2xx, oldest first', async () => {
    // Prepare: 250 attempts, newest first over three pages; the failures are spread over them.
    const shop = hookKey('octo-org/shop', 11);
    for (let i = 0; i < 240; i += 1) github.addDeliveries(shop, { guid: `ok-${i}`, deliveredAt: ago(20 * HOUR - i * 60_000), statusCode: 202 });
    github.addDeliveries(
      shop,
      { guid: 'older-than-window', deliveredAt: ago(30 * HOUR), statusCode: 503 },
      { guid: 'failed-early', deliveredAt: ago(22 * HOUR), statusCode: 503 },
      { guid: 'later-succeeded', deliveredAt: ago(21 * HOUR), statusCode: 0 },
      { guid: 'later-succeeded', deliveredAt: ago(20 * HOUR), statusCode: 200, redelivery: true },
      { guid: 'capped', deliveredAt: ago(19 * HOUR), statusCode: 503 },
      { guid: 'capped', deliveredAt: ago(18 * HOUR), statusCode: 503, redelivery: true },
      { guid: 'capped', deliveredAt: ago(17 * HOUR), statusCode: 502, redelivery: true },
      { guid: 'capped', deliveredAt: ago(16 * HOUR), statusCode: 0, redelivery: true },
      { guid: 'timed-out', deliveredAt: ago(2 * HOUR), statusCode: 0, event: 'pull_request', action: 'opened' },
      { guid: 'refused', deliveredAt: ago(1 * HOUR), statusCode: 401 },
    );

    // Act
    const summary = await redeliverFailedDeliveries({ api: token(), hooks: [SHOP], policy, maxCalls: 40, now: () => now });

    // Assess
    const lists = github.calls.filter((c) => c.method === 'GET');
    assert.equal(lists.length, 3, 'three pages of 100');
    assert.deepEqual(lists.map((c) => c.query.per_page), ['100', '100', '100']);
    assert.equal(lists[0]?.query.cursor, undefined);
    assert.match(lists[1]?.query.cursor ?? '', /^v1_\d+$/);
    assert.deepEqual(github.redeliveries.map((r) => r.guid), ['failed-early', 'timed-out', 'refused']);
    assert.ok(github.calls.every((c) => c.auth === 'token'));
    assert.deepEqual(github.schemaViolations, []);
    assert.equal(summary.redelivered, 3);
    assert.equal(summary.capped, 1);
    assert.equal(summary.undelivered, 4);
    assert.equal(summary.calls, 6);
    assert.deepEqual(summary.problems, []);
    const timedOut = summary.entries.find((e) => e.guid === 'timed-out');
    assert.deepEqual({ ...timedOut, firstDeliveredAt: undefined }, {
      hook: 'octo-org/shop/11', guid: 'timed-out', event: 'pull_request', action: 'opened', firstDeliveredAt: undefined,
      attempt: 1, maxAttempts: 3, lastStatusCode: 0, lastStatus: 'timed out', outcome: 'redelivered',
    });
  });

  it('a second pass counts what the first redelivered: what succeeded is done, what failed again gets its next attempt', async () => {
    const shop = hookKey('octo-org/shop', 11);
    github.addDeliveries(shop, { guid: 'will-pass', deliveredAt: ago(3 * HOUR), statusCode: 503 }, { guid: 'still-down', deliveredAt: ago(2 * HOUR), statusCode: 503 });
    github.onRedeliver((original) => ({ statusCode: original.guid === 'will-pass' ? 202 : 503 }));

    const first = await redeliverFailedDeliveries({ api: token(), hooks: [SHOP], policy, maxCalls: 40 });
    const second = await redeliverFailedDeliveries({ api: token(), hooks: [SHOP], policy, maxCalls: 40 });
    const third = await redeliverFailedDeliveries({ api: token(), hooks: [SHOP], policy: { ...policy, maxRedeliveries: 2 }, maxCalls: 40 });

    assert.deepEqual(first.entries.map((e) => [e.guid, e.outcome, e.attempt]), [['will-pass', 'redelivered', 1], ['still-down', 'redelivered', 1]]);
    assert.deepEqual(second.entries.map((e) => [e.guid, e.outcome, e.attempt]), [['still-down', 'redelivered', 2]]);
    assert.deepEqual(third.entries.map((e) => [e.guid, e.outcome, e.attempt]), [['still-down', 'capped', 2]]);
    assert.equal(github.redeliveries.length, 3);
  });

  it('holds the budget: listing at most half of it, then redeliveries oldest first, the rest left and counted', async () => {
    const shop = hookKey('octo-org/shop', 11);
    for (let i = 0; i < 6; i += 1) github.addDeliveries(shop, { guid: `f-${i}`, deliveredAt: ago(10 * HOUR - i * HOUR), statusCode: 500 });

    const summary = await redeliverFailedDeliveries({ api: token(), hooks: [SHOP], policy, maxCalls: 4 });

    assert.equal(github.calls.length, 4);
    assert.deepEqual(github.redeliveries.map((r) => r.guid), ['f-0', 'f-1', 'f-2']);
    assert.equal(summary.left, 3);
    assert.deepEqual(summary.entries.filter((e) => e.outcome === 'left').map((e) => e.guid), ['f-3', 'f-4', 'f-5']);
    assert.match(summary.entries.find((e) => e.outcome === 'left')?.reason ?? '', /4 API calls are used up: the next pass redelivers it/);
  });

  it('says so when the listing budget ends before the window does', async () => {
    const shop = hookKey('octo-org/shop', 11);
    for (let i = 0; i < 150; i += 1) github.addDeliveries(shop, { guid: `ok-${i}`, deliveredAt: ago(HOUR - i * 1000), statusCode: 200 });
    const summary = await redeliverFailedDeliveries({ api: token(), hooks: [SHOP], policy, maxCalls: 2 });
    assert.equal(github.calls.length, 1);
    assert.match(summary.problems[0] ?? '', /octo-org\/shop\/11 were listed for 1 pages without reaching the window's start/);
  });

  it('--dry-run: lists and decides, asks for nothing', async () => {
    github.addDeliveries(hookKey('octo-org/shop', 11), { guid: 'f', deliveredAt: ago(HOUR), statusCode: 503 });
    const summary = await redeliverFailedDeliveries({ api: token(), hooks: [SHOP], policy, maxCalls: 40, dryRun: true });
    assert.deepEqual(summary.entries.map((e) => [e.guid, e.outcome]), [['f', 'would-redeliver']]);
    assert.deepEqual(github.redeliveries, []);
    assert.ok(github.calls.every((c) => c.method === 'GET'));
  });

  it('several hooks: each listed, one pass over all of them; a hook GitHub does not show is a problem named, not a crash', async () => {
    github.addDeliveries(hookKey('octo-org/shop', 11), { guid: 'shop-1', deliveredAt: ago(2 * HOUR), statusCode: 503 });
    github.addDeliveries(hookKey('octo-org/api', 22), { guid: 'api-1', deliveredAt: ago(3 * HOUR), statusCode: 503 });
    const missing: HookRef = { kind: 'repository', owner: 'octo-org', repo: 'gone', hookId: 33 };

    const summary = await redeliverFailedDeliveries({ api: token(), hooks: [SHOP, missing, API], policy, maxCalls: 40 });

    assert.deepEqual(github.redeliveries.map((r) => [r.hook, r.guid]), [['octo-org/api/22', 'api-1'], ['octo-org/shop/11', 'shop-1']]);
    assert.equal(summary.problems.length, 1);
    assert.match(summary.problems[0] ?? '', /^the deliveries of octo-org\/gone\/33 could not be listed: GitHub answered 404/);
  });

  it('a redelivery GitHub refuses is counted as failed, with its reason', async () => {
    github.addDeliveries(hookKey('octo-org/shop', 11), { guid: 'f', deliveredAt: ago(HOUR), statusCode: 503 });
    const api = token();
    const real = api.request;
    api.request = (route, params, as, signal) => (route.startsWith('POST') ? real(route, { ...params, delivery_id: 1 }, as, signal) : real(route, params, as, signal));
    const summary = await redeliverFailedDeliveries({ api, hooks: [SHOP], policy, maxCalls: 40 });
    assert.equal(summary.failed, 1);
    assert.match(summary.entries[0]?.reason ?? '', /GitHub answered 404 to POST \/repos\/\{owner\}\/\{repo\}\/hooks\/\{hook_id\}\/deliveries\/\{delivery_id\}\/attempts/);
  });

  it("GitHub's rate limit on the listing: nothing is redelivered, and the problem says why", async () => {
    github.addDeliveries(hookKey('octo-org/shop', 11), { guid: 'a', deliveredAt: ago(HOUR), statusCode: 503 });
    github.injectFault({ kind: 'rate-limit', resetInSeconds: 600 });
    const summary = await redeliverFailedDeliveries({ api: token(), hooks: [SHOP, API], policy, maxCalls: 40 });
    assert.deepEqual(github.redeliveries, []);
    assert.match(summary.problems[0] ?? '', /octo-org\/shop\/11 could not be listed: GitHub's rate limit/);
    assert.match(summary.problems[1] ?? '', /octo-org\/api\/22 was not listed: GitHub's rate limit/);
  });

  it("GitHub's rate limit on a redelivery stops the pass: what is due is left for the next one", async () => {
    github.addDeliveries(hookKey('octo-org/shop', 11), { guid: 'a', deliveredAt: ago(3 * HOUR), statusCode: 503 }, { guid: 'b', deliveredAt: ago(2 * HOUR), statusCode: 503 });
    const api = token();
    const real = api.request;
    api.request = async (route, params, as, signal) => {
      if (route.startsWith('POST')) github.injectFault({ kind: 'rate-limit', resetInSeconds: 600 });
      return real(route, params, as, signal);
    };

    const summary = await redeliverFailedDeliveries({ api, hooks: [SHOP], policy, maxCalls: 40 });

    assert.deepEqual(summary.entries.map((e) => [e.guid, e.outcome]), [['a', 'failed'], ['b', 'left']]);
    assert.equal(summary.failed, 1);
    assert.equal(summary.left, 1);
    assert.match(summary.entries[1]?.reason ?? '', /GitHub's rate limit: the next pass redelivers it/);
    assert.equal(github.calls.filter((c) => c.method === 'POST').length, 1);
  });

  it("App mode: the App's own webhook, listed and redelivered with the App's JWT", async () => {
    github.addDeliveries('app', { guid: 'app-failed', deliveredAt: ago(HOUR), statusCode: 502 }, { guid: 'app-ok', deliveredAt: ago(HOUR), statusCode: 202 });
    const api = createGithubApi({ credentials: { mode: 'app', appId: '77', privateKey: keys.privateKeyPem }, baseUrl: github.url });

    const summary = await redeliverFailedDeliveries({ api, hooks: [APP_HOOK], policy, maxCalls: 40 });

    assert.deepEqual(github.redeliveries.map((r) => [r.hook, r.guid]), [['app', 'app-failed']]);
    assert.deepEqual(github.calls.map((c) => [c.method, c.path.replace(/\d+/g, 'N'), c.auth, c.status]), [
      ['GET', '/app/hook/deliveries', 'jwt', 200],
      ['POST', '/app/hook/deliveries/N/attempts', 'jwt', 202],
    ]);
    assert.equal(summary.entries[0]?.hook, "the App's webhook");
  });

  it("a token cannot list the App's webhook: GitHub wants the JWT, and the test server says so", async () => {
    const answer = await token().request('GET /app/hook/deliveries', { per_page: 100 });
    assert.equal(answer.ok, false);
    assert.equal(!answer.ok && answer.status, 401);
  });
});

describe("GitHub's Link header", () => {
  it('finds the next cursor and any relation, wherever it stands', () => {
    const link = '<https://api.github.com/repositories/1/hooks/2/deliveries?per_page=100&cursor=v1_34>; rel="next", <https://api.github.com/x?page=9>; rel="last"';
    assert.equal(nextCursor(link), 'v1_34');
    assert.equal(linkTarget(link, 'last')?.searchParams.get('page'), '9');
    assert.equal(linkTarget(link, 'prev'), undefined);
    assert.equal(nextCursor(undefined), undefined);
    assert.equal(nextCursor('<https://x/?page=2>; rel="prev"'), undefined);
    assert.equal(linkTarget('<https://x/?page=3>; title="a"; rel="first next"', 'next')?.searchParams.get('page'), '3');
  });
});
