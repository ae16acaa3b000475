import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli-process.ts';
import { githubAppKeyPair } from '../support/github-app-key.ts';
import { hookKey, startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';

const TOKEN = 'ghp_redeliver_cli_token';
const HOUR = 3_600_000;
const keys = githubAppKeyPair();
const GUID = /[0-9a-f-]{36}/;

describe('tekton-bridge redeliver, by hand from a laptop, against the GitHub API test server', () => {
  let github: GithubApiServer;
  let dir: string;
  const env = () => ({ GITHUB_TOKEN: '', REDELIVER_HOOKS: '', REDELIVER_MAX_ATTEMPTS: '', GITHUB_API_URL: '' });

  before(async () => {
    github = await startGithubApiServer({ token: TOKEN, app: { appId: '555', publicKeyPem: keys.publicKeyPem, installations: [{ id: 1 }] } });
    dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-redeliver-'));
  });
  after(async () => {
    await github?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    github.reset();
    github.addDeliveries(
      hookKey('octo-org/shop', 11),
      { guid: 'c0a80101-0000-4000-8000-00000000000a', deliveredAt: Date.now() - 8 * HOUR, statusCode: 503 },
      { guid: 'c0a80101-0000-4000-8000-00000000000b', deliveredAt: Date.now() - 2 * HOUR, statusCode: 0, event: 'pull_request', action: 'synchronize' },
      { guid: 'c0a80101-0000-4000-8000-00000000000c', deliveredAt: Date.now() - HOUR, statusCode: 202 },
      { guid: 'c0a80101-0000-4000-8000-00000000000d', deliveredAt: Date.now() - 60_000, statusCode: 502 },
    );
  });

  it('--dry-run lists what it would redeliver within --since, and changes nothing', async () => {
    const run = await runCli(['redeliver', '--since', '6h', '--dry-run', '--hooks', 'octo-org/shop/11', '--github-token', TOKEN, '--github-api-url', github.url], { env: env() });

    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^would redeliver c0a80101-0000-4000-8000-00000000000b pull_request\.synchronize, first delivered \S+Z, last answer no answer timed out \(octo-org\/shop\/11, redelivery 1 of 3\)$/);
    assert.match(lines[1] ?? '', /^would redeliver c0a80101-0000-4000-8000-00000000000d push, first delivered \S+Z, last answer 502 Invalid HTTP Response: 502/);
    assert.match(lines[2] ?? '', /^4 attempts listed on octo-org\/shop\/11 over the last 6h; 2 events never got a 2xx: 2 would be redelivered, 0 at the cap of 3$/);
    assert.deepEqual(github.redeliveries, []);
  });

  it('redelivers with the token from GITHUB_TOKEN and the hooks from REDELIVER_HOOKS, at once (no spacing by hand); exit 0', async () => {
    const run = await runCli(['redeliver', '--since', '12h'], { env: { ...env(), GITHUB_TOKEN: TOKEN, REDELIVER_HOOKS: 'octo-org/shop/11', GITHUB_API_URL: github.url } });

    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(github.redeliveries.map((r) => r.guid.slice(-1)), ['a', 'b', 'd']);
    assert.equal(run.stdout.split('\n').filter((line) => line.startsWith('redelivered ')).length, 3);
    assert.match(run.stdout, /3 redelivered, 0 refused, 0 at the cap of 3/);
    assert.doesNotMatch(run.stdout + run.stderr, new RegExp(TOKEN));
  });

  it('--max-attempts 0 redelivers nothing and lists them at the cap', async () => {
    const run = await runCli(['redeliver', '--max-attempts', '0', '--hooks', 'octo-org/shop/11', '--github-token', TOKEN, '--github-api-url', github.url], { env: env() });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(github.redeliveries, []);
    assert.match(run.stdout, new RegExp(`^at the cap ${GUID.source} pull_request`, 'm'));
  });

  it("an App's credentials file and no --hooks: the App's own webhook", async () => {
    github.addDeliveries('app', { guid: 'c0a80101-0000-4000-8000-0000000000ff', deliveredAt: Date.now() - HOUR, statusCode: 500 });
    const file = join(dir, 'app.json');
    writeFileSync(file, JSON.stringify({ appId: '555', privateKey: keys.privateKeyPem }), { mode: 0o600 });

    const run = await runCli(['redeliver', '--github-credentials', file, '--github-api-url', github.url], { env: env() });

    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(github.redeliveries.map((r) => [r.hook, r.guid]), [['app', 'c0a80101-0000-4000-8000-0000000000ff']]);
    assert.match(run.stdout, /on the App's webhook over the last 6h/);
  });

  it('a hook GitHub does not show: the problem on stderr, exit 1', async () => {
    const run = await runCli(['redeliver', '--hooks', 'octo-org/gone/99', '--github-token', TOKEN, '--github-api-url', github.url], { env: env() });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /redeliver: the deliveries of octo-org\/gone\/99 could not be listed: GitHub answered 404/);
  });

  const usage: [name: string, args: string[], message: RegExp][] = [
    ['no credentials', ['--hooks', 'o/r/1'], /needs GitHub credentials: --github-token T \(or GITHUB_TOKEN\), a token with Webhooks: read and write/],
    ['a token and no hooks', ['--github-token', TOKEN], /name the webhooks with --hooks owner\/repo\/hookId/],
    ['a hook that is no hook', ['--github-token', TOKEN, '--hooks', 'o/r'], /--hooks \(or REDELIVER_HOOKS\): "o\/r" is not owner\/repo\/hookId/],
    ['a window GitHub does not keep', ['--github-token', TOKEN, '--hooks', 'o/r/1', '--since', '4d'], /--since must be a duration like 30m, 6h or 3d, at most 72h/],
    ['plain http off loopback', ['--github-token', TOKEN, '--hooks', 'o/r/1', '--github-api-url', 'http://github.example.com/api/v3'], /--github-api-url must be https:\/\//],
  ];
  for (const [name, args, message] of usage) {
    it(`exit 2 for ${name}, saying what to do`, async () => {
      const run = await runCli(['redeliver', ...args], { env: env() });
      assert.equal(run.code, 2, run.stdout);
      assert.match(run.stderr, message);
      assert.equal(github.calls.length, 0);
    });
  }
});

describe("serve's loop redelivers what failed, as the reporter's schedule does (--redeliver-hooks)", () => {
  it('redelivers a failed delivery of the hook once, and not again after it got a 2xx', async () => {
    // Prepare
    const github = await startGithubApiServer({ token: TOKEN });
    const { startBridge } = await import('../../functions/cli/serve.ts');
    github.addDeliveries(hookKey('octo-org/shop', 11), { guid: 'c0a80101-0000-4000-8000-0000000000aa', deliveredAt: Date.now() - HOUR, statusCode: 503 });
    const bridge = await startBridge(
      { port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: 's', dryRun: true, github: { token: TOKEN, apiUrl: github.url, reconcileEveryMs: 50, redeliverHooks: 'octo-org/shop/11' } },
      { stdout: () => {}, stderr: () => {}, env: {} },
    );
    try {
      // Act: a bounded wait for a few turns of the loop; the assertion is on what was asked, not on when.
      for (let waited = 0; waited < 10_000 && github.calls.filter((c) => c.method === 'GET').length < 3; waited += 25) await new Promise((resolve) => setTimeout(resolve, 25));

      // Assess
      assert.match(bridge.reporting, /redelivering the failed deliveries of octo-org\/shop\/11/);
      assert.deepEqual(github.redeliveries.map((r) => r.guid), ['c0a80101-0000-4000-8000-0000000000aa']);
    } finally {
      await bridge.close();
      await github.stop();
    }
  });

  it('reads REDELIVER_HOOKS when --redeliver-hooks is not given; a window GitHub does not keep is refused, naming it', async () => {
    const { startBridge } = await import('../../functions/cli/serve.ts');
    const { UsageError } = await import('../../functions/cli/cli-io.ts');
    const options = { port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: 's', dryRun: true, github: { token: TOKEN, apiUrl: 'http://127.0.0.1:9', reconcileEveryMs: 0 } };

    const bridge = await startBridge(options, { stdout: () => {}, stderr: () => {}, env: { REDELIVER_HOOKS: 'octo-org/shop/11,octo-org/web/12' } });
    await bridge.close();

    assert.match(bridge.reporting, /redelivering the failed deliveries of octo-org\/shop\/11, octo-org\/web\/12$/);
    await assert.rejects(startBridge(options, { stdout: () => {}, stderr: () => {}, env: { REDELIVER_WINDOW_HOURS: '96' } }), (error: Error) => error instanceof UsageError && /REDELIVER_WINDOW_HOURS must be a whole number from 1 to 72/.test(error.message));
    await assert.rejects(startBridge(options, { stdout: () => {}, stderr: () => {}, env: { REDELIVER_HOOKS: 'octo-org/shop' } }), /--redeliver-hooks \(or REDELIVER_HOOKS\): "octo-org\/shop" is not owner\/repo\/hookId/);
  });
});
