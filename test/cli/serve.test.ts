import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge, type RunningBridge } from '../../functions/cli/serve.ts';
import type { CliIo } from '../../functions/cli/cli-io.ts';
import { signedDelivery, TEST_SECRET } from '../support/deliveries.ts';
import { deletedRef, githubExample, pushToDefaultBranch, tagPush } from '../support/github-examples.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { runCli, startCli } from '../support/cli-process.ts';

const quietIo = (): CliIo & { err: string[] } => {
  const err: string[] = [];
  return { stdout: () => {}, stderr: (t) => void err.push(t), env: {}, err };
};

async function post(url: string, delivery: { headers: Record<string, string>; body: Buffer }): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: 'POST', headers: delivery.headers, body: delivery.body });
  return { status: response.status, body: await response.json() };
}

describe('serve in dry run, over real HTTP on loopback', () => {
  let bridge: RunningBridge;
  before(async () => {
    bridge = await startBridge({ port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: TEST_SECRET, dryRun: true }, quietIo());
  });
  after(() => bridge.close());

  it('answers a push to the default branch with the rendered PipelineRun and dryRun: true', async () => {
    const answer = await post(bridge.url, await signedDelivery('push', pushToDefaultBranch(), { deliveryId: 'dry-1' }));
    assert.equal(answer.status, 202);
    assert.equal(answer.body.dryRun, true);
    assert.equal(answer.body.eventListener, 'github-push');
    assert.equal(answer.body.results[0].outcome, 'created');
    assert.equal(answer.body.rendered[0].kind, 'PipelineRun');
  });

  const quiet: [string, string, () => unknown, RegExp][] = [
    ['a tag push', 'push', tagPush, /CEL filter is false/],
    ['a deleted branch', 'push', deletedRef, /deletes/],
    ['an event no trigger handles', 'issues', () => githubExample('issues'), /event "issues" is not one of: push/],
  ];
  for (const [name, event, make, reason] of quiet) {
    it(`answers 200 skipped for ${name}`, async () => {
      const answer = await post(bridge.url, await signedDelivery(event, make()));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.results[0].outcome, 'skipped');
      assert.match(answer.body.results[0].reason, reason);
    });
  }

  it('answers ping with pong', async () => {
    const answer = await post(bridge.url, await signedDelivery('ping', githubExample('ping')));
    assert.equal(answer.status, 200);
    assert.equal(answer.body.pong, true);
  });

  it('answers 401 to a wrong signature and 413 to a 7 MB body, creating nothing', async () => {
    assert.equal((await post(bridge.url, await signedDelivery('push', pushToDefaultBranch(), { secret: 'wrong' }))).status, 401);
    const big = await signedDelivery('push', { pad: 'x'.repeat(7 * 1024 * 1024) });
    const answer = await post(bridge.url, big);
    assert.equal(answer.status, 413);
    assert.match(answer.body.error, /limit is 6291456 bytes/);
  });

  it('serves /healthz, 405 for GET /webhook and 404 elsewhere', async () => {
    assert.equal((await fetch(bridge.url.replace('/webhook', '/healthz'))).status, 200);
    assert.equal((await fetch(bridge.url)).status, 405);
    assert.equal((await fetch(bridge.url.replace('/webhook', '/nope'), { method: 'POST' })).status, 404);
  });
});

describe('serve against a Kubernetes API over TLS, through the current kubeconfig context', () => {
  let api: KubeApiServer;
  let bridge: RunningBridge;
  let dir: string;
  before(async () => {
    api = await startKubeApiServer({ token: 'kube-test-token' });
    dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-serve-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server: api.url, 'certificate-authority-data': Buffer.from(api.caPem).toString('base64') } }],
        users: [{ name: 'dev', user: { token: 'kube-test-token' } }],
        contexts: [{ name: 'test', context: { cluster: 'test', user: 'dev' } }],
        'current-context': 'test',
      }),
    );
    bridge = await startBridge({ port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: TEST_SECRET, dryRun: false, kubeconfig }, quietIo());
  });
  after(async () => {
    await bridge.close();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the PipelineRun with the right path, body, name and labels, then answers duplicate for the same delivery', async () => {
    // Prepare
    const push = pushToDefaultBranch();
    const delivery = await signedDelivery('push', push, { deliveryId: 'f1a2b3c4-0000-4000-8000-000000000001' });

    // Act
    const first = await post(bridge.url, delivery);
    const again = await post(bridge.url, delivery);

    // Assess
    assert.equal(first.status, 202, JSON.stringify(first.body));
    assert.equal(first.body.dryRun, undefined);
    const [ref] = first.body.results[0].resources;
    assert.equal(api.objects.length, 1);
    const [object] = api.objects;
    assert.equal(object?.metadata.name, ref.name);
    assert.equal(object?.metadata.namespace, 'ci');
    assert.equal(object?.metadata.labels?.['triggers.tekton.dev/triggers-eventid'], 'f1a2b3c4-0000-4000-8000-000000000001');
    assert.equal(object?.metadata.labels?.['triggers.tekton.dev/eventlistener'], 'github-push');
    const createRequest = api.requests.find((r) => r.method === 'POST');
    assert.equal(createRequest?.path, '/apis/tekton.dev/v1/namespaces/ci/pipelineruns');
    assert.deepEqual((createRequest?.body as any).spec.params.find((p: any) => p.name === 'revision'), { name: 'revision', value: push.after });
    assert.equal(again.status, 200);
    assert.equal(again.body.results[0].outcome, 'duplicate');
    assert.equal(api.objects.length, 1);
  });
});

describe('npm start and send, as processes', () => {
  it('serve makes a loopback secret that send finds, and send prints the answer', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'tekton-bridge-cli-'));
    const triggers = join(process.cwd(), 'triggers');
    const server = await startCli(['serve', '--port', '0', '--triggers', triggers, '--dry-run'], /listening on (http:\/\/\S+\/webhook)/, { cwd, env: { WEBHOOK_SECRET: '' } });
    try {
      assert.ok(existsSync(join(cwd, '.tekton-bridge', 'webhook-secret')));
      assert.match(server.stderr(), new RegExp(readFileSync(join(cwd, '.tekton-bridge', 'webhook-secret'), 'utf8').trim()));
      const sent = await runCli(['send', '--url', server.match[1] as string, '--delivery', 'send-1'], { cwd, env: { WEBHOOK_SECRET: '' } });
      assert.equal(sent.code, 0, sent.stderr);
      assert.match(sent.stderr, /delivery send-1 \(push\) → HTTP 202/);
      assert.equal(JSON.parse(sent.stdout).results[0].outcome, 'created');
      const wrong = await runCli(['send', '--url', server.match[1] as string, '--secret', 'nope'], { cwd });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /HTTP 401/);
    } finally {
      server.child.kill();
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('serve refuses a non-loopback host without a secret, and an invalid config', async () => {
    const exposed = await runCli(['serve', '--host', '0.0.0.0', '--port', '0'], { env: { WEBHOOK_SECRET: '' } });
    assert.equal(exposed.code, 2);
    assert.match(exposed.stderr, /refusing to listen on 0\.0\.0\.0 without a webhook secret/);
    const invalid = await runCli(['serve', '--triggers', 'test/fixtures/no-such-folder', '--port', '0', '--secret', 's']);
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /cannot read the triggers folder/);
  });
});

describe('serve refuses to run with a weak secret, and keeps the replay window', () => {
  it('off loopback, a secret shorter than 16 characters (or only whitespace anywhere) is refused', async () => {
    await assert.rejects(
      startBridge({ port: 0, host: '0.0.0.0', triggersDir: 'triggers', secret: 'short-secret', dryRun: true }, quietIo()),
      /refusing to listen on 0\.0\.0\.0 with a webhook secret of 12 characters: use at least 16/,
    );
    await assert.rejects(
      startBridge({ port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: '   ', dryRun: true }, quietIo()),
      /the webhook secret is only whitespace/,
    );
  });

  it('refuses a push older than --max-push-age (72 h by default); 0 turns the check off', async () => {
    const old = pushToDefaultBranch();
    old.repository.pushed_at = Math.floor(Date.now() / 1000) - 80 * 3600;
    const delivery = await signedDelivery('push', old);
    const strict = await startBridge({ port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: TEST_SECRET, dryRun: true }, quietIo());
    const open = await startBridge({ port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: TEST_SECRET, dryRun: true, maxPushAgeHours: 0 }, quietIo());
    try {
      const refused = await post(strict.url, delivery);
      assert.equal(refused.status, 403);
      assert.match(refused.body.error, /the push was made 80 h ago/);
      assert.equal((await post(open.url, delivery)).status, 202);
    } finally {
      await Promise.all([strict.close(), open.close()]);
    }
    const bad = await runCli(['serve', '--max-push-age', '3d', '--port', '0', '--secret', TEST_SECRET]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-push-age must be a whole number of hours from 0 \(no limit\) to 8760, got "3d"/);
  });
});
