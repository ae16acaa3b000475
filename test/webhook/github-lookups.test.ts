import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { buildBundle, coldStart } from '../support/built-bundle.ts';
import { assertContractAnswer } from '../support/contract-answer.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { githubExample } from '../support/github-examples.ts';
import { githubAppKeyPair } from '../support/github-app-key.ts';
import { startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { loopbackFunctionEnvironment, TEST_AWS_CREDENTIALS } from '../support/function-environment.ts';

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
interface Body {
  results: Array<{ trigger: string; outcome: string; reason?: string; resources?: Array<{ name: string }> }>;
}

const CLUSTER = 'ci-cluster';
const CREDENTIALS = TEST_AWS_CREDENTIALS;
const TOKEN = 'ghp_webhook_lookups_token';
const recordedEvent = JSON.parse(readFileSync('test/fixtures/api-gateway/http-api-v2-event.json', 'utf8')) as APIGatewayProxyEventV2;
const keys = githubAppKeyPair();
// Real payloads: a pull request opened on Codertocat/Hello-World (#2), and a comment on it by Codertocat; each made
// its own delivery (its own bytes, so its own run names).
let made = 0;
const unique = (payload: Record<string, any>) => ({ ...payload, pull_request: payload.pull_request && { ...payload.pull_request, title: `${payload.pull_request.title} (${(made += 1)})` } });
const pullRequest = () => unique(githubExample('pull_request', (p) => p.action === 'opened' && p.installation === undefined));
const appPullRequest = () => unique(githubExample('pull_request', (p) => p.action === 'opened' && p.installation !== undefined));
const comment = (body: string, login = 'Codertocat'): Record<string, any> => {
  const example = githubExample('issue_comment', (p) => p.action === 'created');
  return { ...example, comment: { ...example.comment, body, id: (made += 1) }, sender: { ...example.sender, login } };
};

describe('the built webhook bundle asks GitHub for what the github interceptor needs (GitHub API test server, moto_server, TLS Kubernetes API)', () => {
  let bundle: { dir: string; url: string };
  let moto: MotoServer;
  let kube: KubeApiServer;
  let github: GithubApiServer;
  let env: (extra?: Record<string, string | undefined>) => Record<string, string | undefined>;
  let tokenArn: string;
  let appArn: string;
  let deliveries = 0;

  const send = async (handler: Handler, event: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number | undefined; body: Body }> => {
    deliveries += 1;
    const delivery = await signedDelivery(event, payload, { secret: 'hook-secret', deliveryId: `lookups-${deliveries}`, headers });
    const answer = await handler({ ...recordedEvent, headers: delivery.headers, body: delivery.body.toString('utf8'), isBase64Encoded: false });
    const body = JSON.parse(answer.body as string);
    assertContractAnswer({ status: answer.statusCode as number, body });
    return { status: answer.statusCode, body };
  };
  const outcomes = (body: Body) => Object.fromEntries(body.results.map((r) => [r.trigger, r.outcome]));
  const reasonOf = (body: Body, trigger: string) => body.results.find((r) => r.trigger === trigger)?.reason ?? '';
  const filesParam = (name: string | undefined) => (kube.find('ci', name ?? '')?.spec as { params: Array<{ value: string }> } | undefined)?.params[0]?.value;

  before(async () => {
    [bundle, moto, kube, github] = await Promise.all([
      buildBundle('functions/webhook.ts', 'test/fixtures/triggers/github-api'),
      startMotoServer(),
      startKubeApiServer({ eks: { clusterName: CLUSTER, region: 'us-east-1', credentials: CREDENTIALS } }),
      startGithubApiServer({ token: TOKEN, app: { appId: '1717', publicKeyPem: keys.publicKeyPem, installations: [{ id: 1 }] } }),
    ]);
    const secrets = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
    const create = async (Name: string, SecretString: string) => (await secrets.send(new CreateSecretCommand({ Name, SecretString }))).ARN as string;
    const webhookArn = await create('webhook', 'hook-secret');
    tokenArn = await create('github-token', JSON.stringify({ token: TOKEN }));
    appArn = await create('github-app', JSON.stringify({ appId: '1717', privateKey: keys.privateKeyPem }));
    env = (extra = {}) => ({
      ...loopbackFunctionEnvironment({ secretsManagerEndpoint: moto.endpoint, cluster: { name: CLUSTER, url: kube.url, caPem: kube.caPem }, webhookSecretArn: webhookArn }),
      GITHUB_CREDENTIALS_SECRET_ARN: tokenArn,
      GITHUB_API_URL: github.url,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...extra,
    });
  });
  after(async () => {
    await Promise.all([moto?.stop(), kube?.stop(), github?.stop()]);
    if (bundle) rmSync(bundle.dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    github.reset();
    kube.objects.length = 0;
  });
  const cold = async (extra?: Record<string, string | undefined>) => (await coldStart<{ handler: Handler }>(bundle.url, env(extra))).handler;

  it('ships the YAML chunk for the OWNERS file beside the bundle', () => {
    assert.ok(readdirSync(bundle.dir).includes('cel-yaml.cjs'));
    assert.doesNotMatch(readFileSync(join(bundle.dir, 'index.mjs'), 'utf8'), /YAMLParseError/);
  });

  it("a pull request gets its changed files from GitHub's API, and the CEL filter on them decides", async () => {
    // Prepare
    const handler = await cold();
    github.setPullRequestFiles('Codertocat/Hello-World', 2, ['docs/index.md', 'docs/guide/setup.md']);
    github.setCollaborators('Codertocat/Hello-World', ['Codertocat']);

    // Act
    const { status, body } = await send(handler, 'pull_request', pullRequest());

    // Assess
    assert.equal(status, 202);
    assert.deepEqual(outcomes(body), { 'docs-changed': 'created', 'code-changed': 'skipped', 'ok-to-test': 'created' });
    assert.match(reasonOf(body, 'code-changed'), /^CEL filter is false: extensions\.changed_files\.split/);
    assert.equal(filesParam(body.results[0]?.resources?.[0]?.name), 'docs/index.md,docs/guide/setup.md');
    const fileCalls = github.calls.filter((c) => c.path.endsWith('/files'));
    assert.equal(fileCalls.length, 1, 'two triggers need the same files: one lookup');
    assert.ok(github.calls.every((c) => c.auth === 'token' && c.status !== undefined && c.status < 500), JSON.stringify(github.calls));
    assert.deepEqual(github.schemaViolations, []);
  });

  it('250 changed files arrive whole, in order, over GitHub\'s pages', async () => {
    const handler = await cold();
    const names = Array.from({ length: 250 }, (_, i) => (i === 249 ? 'src/last.ts' : `docs/page-${i}.md`));
    github.setPullRequestFiles('Codertocat/Hello-World', 2, names);
    const { body } = await send(handler, 'pull_request', pullRequest());
    assert.equal(outcomes(body)['code-changed'], 'created');
    assert.equal(filesParam(body.results.find((r) => r.trigger === 'code-changed')?.resources?.[0]?.name), names.join(','));
    assert.equal(github.calls.filter((c) => c.path.endsWith('/files')).length, 3);
  });

  it('GitHub down: each trigger that needed it fails with the reason, and the answer is the contract\'s 503', async () => {
    const handler = await cold();
    github.setDown(true);
    const { status, body } = await send(handler, 'pull_request', pullRequest());
    assert.equal(status, 503);
    assert.deepEqual(outcomes(body), { 'docs-changed': 'failed', 'code-changed': 'failed', 'ok-to-test': 'failed' });
    assert.equal(reasonOf(body, 'docs-changed'), 'github interceptor: error getting changed files: GitHub answered 503 to GET /repos/{owner}/{repo}/pulls/{pull_number}/files: Service Unavailable');
    assert.match(reasonOf(body, 'ok-to-test'), /^github interceptor: error checking owner verification: GitHub answered 503 to GET \/orgs\/\{org\}\/public_members\/\{username\}/);
    assert.equal(kube.objects.length, 0);
  });

  it('an issue comment with /ok-to-test from an approver in OWNERS passes githubOwners; the same from a stranger is skipped', async () => {
    const handler = await cold();
    github.setFile('Codertocat/Hello-World', 'OWNERS', 'approvers:\n- codertocat\n');

    const approved = await send(handler, 'issue_comment', comment('Looks right.\r\n/ok-to-test'));
    const stranger = await send(handler, 'issue_comment', comment('/ok-to-test', 'drive-by'));

    assert.equal(approved.status, 202);
    assert.deepEqual(outcomes(approved.body), { 'docs-changed': 'skipped', 'code-changed': 'skipped', 'ok-to-test': 'created' });
    assert.equal(stranger.status, 200);
    assert.equal(reasonOf(stranger.body, 'ok-to-test'), 'github interceptor: owners check requirements not met (sender "drive-by")');
  });

  it('without GITHUB_CREDENTIALS_SECRET_ARN those triggers fail, saying why; a push is untouched and asks GitHub nothing', async () => {
    const handler = await cold({ GITHUB_CREDENTIALS_SECRET_ARN: undefined });
    const { status, body } = await send(handler, 'pull_request', pullRequest());
    const push = await send(handler, 'push', { ...githubExample('push', (p) => p.commits.length > 0), repository: { ...githubExample('push').repository, pushed_at: Math.floor(Date.now() / 1000) } });
    assert.equal(status, 503);
    assert.match(reasonOf(body, 'docs-changed'), /error getting changed files: GITHUB_CREDENTIALS_SECRET_ARN is not set: the bridge has no GitHub credentials/);
    assert.deepEqual(outcomes(push.body), { 'docs-changed': 'skipped', 'code-changed': 'skipped', 'ok-to-test': 'skipped' });
    assert.equal(github.calls.length, 0);
  });

  it('X-GitHub-Enterprise-Host is not followed: the bridge asks only GITHUB_API_URL (github_test.go Test_makeClient, "enterprise github")', async () => {
    const handler = await cold();
    github.setPullRequestFiles('Codertocat/Hello-World', 2, ['docs/a.md']);
    const { body } = await send(handler, 'pull_request', pullRequest(), { 'x-github-enterprise-host': 'github.attacker.example' });
    assert.equal(outcomes(body)['docs-changed'], 'created');
    assert.equal(github.calls.filter((c) => c.path.endsWith('/files')).length, 1);
  });

  it("App mode: the payload's installation, with an installation token", async () => {
    const handler = await cold({ GITHUB_CREDENTIALS_SECRET_ARN: appArn });
    github.setPullRequestFiles('Codertocat/Hello-World', 2, ['src/main.go']);
    const { body } = await send(handler, 'pull_request', appPullRequest());
    assert.equal(outcomes(body)['code-changed'], 'created');
    assert.ok(github.calls.some((c) => c.path === '/app/installations/1/access_tokens' && c.auth === 'jwt'));
    assert.ok(github.calls.filter((c) => c.path.endsWith('/files')).every((c) => c.auth === 'installation'));
  });
});
