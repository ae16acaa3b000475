import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startBridge, type RunningBridge } from '../../functions/cli/serve.ts';
import { assertContractAnswer } from '../support/contract-answer.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { githubExample } from '../support/github-examples.ts';
import { startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';

const TOKEN = 'ghp_serve_lookups_token';
const quiet = { stdout: () => {}, stderr: () => {}, env: {} };
const pullRequest = () => githubExample('pull_request', (p) => p.action === 'opened' && p.installation === undefined);

describe('serve asks GitHub for the github interceptor, as the Lambda does (--github-token, a dry run)', () => {
  let github: GithubApiServer;
  let bridge: RunningBridge;
  let bare: RunningBridge;

  before(async () => {
    github = await startGithubApiServer({ token: TOKEN });
    bridge = await startBridge({ port: 0, host: '127.0.0.1', triggersDir: 'test/fixtures/triggers/github-api', secret: 's', dryRun: true, github: { token: TOKEN, apiUrl: github.url } }, quiet);
    bare = await startBridge({ port: 0, host: '127.0.0.1', triggersDir: 'test/fixtures/triggers/github-api', secret: 's', dryRun: true }, quiet);
  });
  after(async () => {
    await Promise.all([bridge?.close(), bare?.close()]);
    await github?.stop();
  });
  beforeEach(() => github.reset());

  const send = async (to: RunningBridge, event: string, payload: unknown) => {
    const delivery = await signedDelivery(event, payload, { secret: 's' });
    const answer = await fetch(to.url, { method: 'POST', headers: delivery.headers, body: delivery.body });
    const body = (await answer.json()) as { results: Array<{ trigger: string; outcome: string; reason?: string }>; rendered?: Array<{ spec: { params: Array<{ value: string }> } }> };
    assertContractAnswer({ status: answer.status, body: body as never });
    return { status: answer.status, body, outcomes: Object.fromEntries(body.results.map((r) => [r.trigger, r.outcome])) };
  };

  it("a pull request's changed files decide the CEL filter; the dry run renders them", async () => {
    github.setPullRequestFiles('Codertocat/Hello-World', 2, ['src/app.ts', 'README.md']);
    const { status, outcomes, body } = await send(bridge, 'pull_request', pullRequest());
    assert.equal(status, 202);
    assert.deepEqual(outcomes, { 'docs-changed': 'skipped', 'code-changed': 'created', 'ok-to-test': 'skipped' });
    assert.equal(body.rendered?.[0]?.spec.params[0]?.value, 'src/app.ts,README.md');
  });

  it("GitHub down: the triggers fail with the reason, and the answer is the contract's 503", async () => {
    github.setDown(true);
    const { status, body } = await send(bridge, 'pull_request', pullRequest());
    assert.equal(status, 503);
    assert.ok(body.results.every((r) => r.outcome === 'failed' && /GitHub answered 503/.test(r.reason ?? '')), JSON.stringify(body.results));
  });

  it('without --github-token those triggers fail, saying how to give one', async () => {
    const { status, body } = await send(bare, 'pull_request', pullRequest());
    assert.equal(status, 503);
    assert.match(body.results[0]?.reason ?? '', /serve has no GitHub credentials to ask GitHub's API with: pass --github-token or --github-credentials/);
    assert.equal(github.calls.length, 0);
  });
});
