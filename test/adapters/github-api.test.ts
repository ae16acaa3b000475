import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createGithubApi } from '../../functions/adapters/github-api.ts';
import { createGithubPublisher } from '../../functions/adapters/github-publisher.ts';
import type { GithubReport } from '../../functions/core/reporting/github-report.ts';
import { githubAppKeyPair } from '../support/github-app-key.ts';
import { startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';

const SHA = '0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c';
const TOKEN = 'ghp_testtoken0123456789';
const keys = githubAppKeyPair();
const other = githubAppKeyPair();

function report(overrides: Partial<GithubReport> = {}): GithubReport {
  return {
    target: { owner: 'Codertocat', repo: 'Hello-World', commit: SHA, context: 'tekton-bridge/github-push/default-branch', installationId: '42' },
    state: 'pending',
    description: 'PipelineRun created; waiting for Tekton to start it',
    detailsUrl: 'https://dashboard.example.com/#/namespaces/ci/pipelineruns/build-run-x',
    run: { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name: 'build-run-x' },
    checkRunId: undefined,
    ...overrides,
  };
}

describe('the GitHub API client, against the GitHub API test server', () => {
  let github: GithubApiServer;
  // The client's clock moves on in some tests; GitHub's stays real unless a test moves it.
  let clock = Date.now();
  let serverClock = Date.now();
  const now = () => clock;
  before(async () => {
    github = await startGithubApiServer({ token: TOKEN, app: { appId: '123', publicKeyPem: keys.publicKeyPem, installations: [{ id: 42, repositories: ['Codertocat/Hello-World'] }, { id: 7, repositories: ['octo-org/other'] }] }, now: () => serverClock });
  });
  after(() => github?.stop());
  beforeEach(() => {
    github.reset();
    clock = Date.now();
    serverClock = clock;
  });

  it('token mode: posts a commit status GitHub accepts, with the token', async () => {
    // Prepare
    const api = createGithubApi({ credentials: { mode: 'token', token: TOKEN }, baseUrl: github.url, now });

    // Act
    const result = await createGithubPublisher(api)(report({ state: 'success', description: 'Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0' }));

    // Assess
    assert.deepEqual(result, { outcome: 'published' });
    assert.equal(github.calls[0]?.auth, 'token');
    assert.equal(github.calls[0]?.path, `/repos/Codertocat/Hello-World/statuses/${SHA}`);
    assert.deepEqual(github.statuses.map((s) => [s.state, s.context, s.target_url]), [['success', 'tekton-bridge/github-push/default-branch', 'https://dashboard.example.com/#/namespaces/ci/pipelineruns/build-run-x']]);
  });

  it('App mode: signs a JWT GitHub verifies, takes one installation token and reuses it until shortly before it expires', async () => {
    const api = createGithubApi({ credentials: { mode: 'app', appId: '123', privateKey: keys.privateKeyPem }, baseUrl: github.url, now });
    const publish = createGithubPublisher(api, { now });

    const first = await publish(report());
    const second = await publish(report({ state: 'running', checkRunId: first.outcome === 'published' ? first.checkRunId : undefined }));
    clock += 54 * 60_000; // 6 minutes before the token's hour is up: outside the 5-minute margin
    await publish(report({ state: 'running' }));
    clock += 2 * 60_000; // now within 5 minutes of expiry
    await publish(report({ state: 'success' }));

    assert.equal(first.outcome, 'published');
    assert.ok(first.outcome === 'published' && first.checkRunId);
    assert.equal(second.outcome, 'published');
    const tokenCalls = github.calls.filter((c) => c.path === '/app/installations/42/access_tokens');
    assert.equal(tokenCalls.length, 2, 'one token for the first 55 minutes, a fresh one near expiry');
    assert.ok(tokenCalls.every((c) => c.auth === 'jwt' && c.status === 201), JSON.stringify(tokenCalls));
    const [created] = github.checkRuns;
    assert.equal(created?.name, 'tekton-bridge/github-push/default-branch');
    assert.equal(created?.external_id, 'ci/build-run-x');
    assert.equal(github.checkRuns.length, 3, 'created twice without a known id, updated once with it');
    assert.ok(github.calls.filter((c) => c.path.includes('check-runs')).every((c) => c.auth === 'installation' && c.status! < 300), JSON.stringify(github.calls));
  });

  it('App mode: finds the installation from the repository when the payload named none, and finds an existing check run by its external id', async () => {
    const api = createGithubApi({ credentials: { mode: 'app', appId: '123', privateKey: keys.privateKeyPem }, baseUrl: github.url, now });
    const target = { ...report().target, owner: 'octo-org', repo: 'other', installationId: undefined };
    await createGithubPublisher(api, { now })(report({ target }));

    const result = await createGithubPublisher(api, { now, findExisting: true })(report({ target, state: 'failure', description: 'Tasks Completed: 1 (Failed: 1, Cancelled 0), Skipped: 0' }));

    assert.equal(result.outcome, 'published');
    assert.equal(github.calls.filter((c) => c.path === '/repos/octo-org/other/installation').length, 1, 'looked up once, then kept');
    assert.equal(github.checkRuns.length, 1);
    assert.equal(github.checkRuns[0]?.conclusion, 'failure');
    assert.equal(github.checkRuns[0]?.installationId, 7);
  });

  it('a JWT signed with another key is refused: the report fails and says why', async () => {
    const api = createGithubApi({ credentials: { mode: 'app', appId: '123', privateKey: other.privateKeyPem }, baseUrl: github.url, now });
    const result = await createGithubPublisher(api)(report());
    assert.equal(result.outcome, 'unavailable', 'bad credentials are fixed in the secret; the report waits for them');
    assert.match(result.outcome === 'unavailable' ? result.reason : '', /installation token.*401/);
    assert.match(github.calls[0]?.authError ?? '', /signature does not verify/);
  });

  it('a clock far ahead of GitHub makes a JWT GitHub refuses (iat in the future)', async () => {
    const api = createGithubApi({ credentials: { mode: 'app', appId: '123', privateKey: keys.privateKeyPem }, baseUrl: github.url, now });
    serverClock -= 10 * 60_000; // GitHub's clock is 10 minutes behind the bridge's
    const result = await createGithubPublisher(api)(report());
    assert.notEqual(result.outcome, 'published');
    assert.match(github.calls[0]?.authError ?? '', /iat/);
  });

  it('a personal token cannot make check runs, and a bad state is a 422 that is not tried again', async () => {
    const api = createGithubApi({ credentials: { mode: 'token', token: TOKEN }, baseUrl: github.url, now });
    const answer = await api.request('POST /repos/{owner}/{repo}/check-runs', { owner: 'o', repo: 'r', name: 'x', head_sha: SHA });
    const bad = await api.request('POST /repos/{owner}/{repo}/statuses/{sha}', { owner: 'o', repo: 'r', sha: SHA, state: 'passed', context: 'c' });
    const long = await createGithubPublisher(api)(report({ description: 'x'.repeat(141) }));

    assert.equal(answer.ok, false);
    assert.equal(!answer.ok && answer.status, 403);
    assert.equal(!bad.ok && bad.status, 422);
    assert.equal(!bad.ok && bad.retryable, false);
    assert.match(!bad.ok ? bad.reason : '', /state/);
    assert.equal(long.outcome, 'refused');
    assert.equal(github.calls.filter((c) => c.path.includes('/statuses/')).length, 2, 'one call each: a 422 is not retried');
  });

  it('tries a 5xx and a dropped connection again, and gives up after three attempts as retryable', async () => {
    const api = createGithubApi({ credentials: { mode: 'token', token: TOKEN }, baseUrl: github.url, now, sleep: async () => undefined });
    github.injectFault({ kind: 'status', code: 502 }, { kind: 'reset' });
    const recovered = await createGithubPublisher(api)(report());
    github.injectFault({ kind: 'status', code: 500 }, { kind: 'status', code: 503 }, { kind: 'status', code: 500 });
    const failed = await createGithubPublisher(api)(report());

    assert.deepEqual(recovered, { outcome: 'published' });
    assert.equal(failed.outcome, 'unavailable');
    assert.match(failed.outcome === 'unavailable' ? failed.reason : '', /500/);
    assert.equal(github.calls.length, 6);
  });

  it('waits out a short rate limit (429 retry-after, 403 with x-ratelimit-reset) and pauses every call on a long one', async () => {
    const slept: number[] = [];
    const api = createGithubApi({ credentials: { mode: 'token', token: TOKEN }, baseUrl: github.url, now, maxWaitMs: 2000, sleep: async (ms) => void slept.push(ms) });
    const publish = createGithubPublisher(api);

    github.injectFault({ kind: 'retry-after', code: 429, seconds: 1 });
    const afterShortWait = await publish(report());
    github.injectFault({ kind: 'rate-limit', resetInSeconds: 600 });
    const limited = await publish(report());
    const callsWhileLimited = github.calls.length;
    const paused = await publish(report());
    const callsAfterPause = github.calls.length;
    github.injectFault({ kind: 'retry-after', code: 403, seconds: 120 });
    clock += 601_000;
    serverClock += 601_000;
    const secondary = await publish(report());

    assert.deepEqual(afterShortWait, { outcome: 'published' });
    assert.ok(slept.includes(1000), `waited the retry-after: ${slept}`);
    assert.equal(limited.outcome, 'unavailable');
    assert.equal(limited.outcome === 'unavailable' && limited.rateLimited, true);
    assert.match(limited.outcome === 'unavailable' ? limited.reason : '', /rate limit \(403\).*600 s/);
    assert.equal(paused.outcome, 'unavailable');
    assert.equal(callsAfterPause, callsWhileLimited, 'no call while GitHub says to wait');
    assert.equal(secondary.outcome === 'unavailable' && secondary.rateLimited, true);
    assert.match(secondary.outcome === 'unavailable' ? secondary.reason : '', /secondary rate limit \(403\).*120 s/);
  });

  it('refreshes an installation token GitHub no longer takes (401), once', async () => {
    const api = createGithubApi({ credentials: { mode: 'app', appId: '123', privateKey: keys.privateKeyPem }, baseUrl: github.url, now });
    await createGithubPublisher(api)(report());
    // The server forgets its tokens, as when an installation token is revoked.
    github.issuedTokens.length = 0;
    const result = await createGithubPublisher(api)(report({ state: 'running' }));
    assert.equal(result.outcome, 'published');
    assert.equal(github.calls.filter((c) => c.path.endsWith('/access_tokens')).length, 2);
  });

  it('answers within the caller\'s deadline when GitHub does not answer at all', async () => {
    const api = createGithubApi({ credentials: { mode: 'token', token: TOKEN }, baseUrl: 'http://127.0.0.1:9', now, sleep: async () => undefined });
    const result = await createGithubPublisher(api, { signal: AbortSignal.abort() })(report());
    assert.equal(result.outcome, 'unavailable');
  });
});
