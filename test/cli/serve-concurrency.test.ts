import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBridge, type RunningBridge } from '../../functions/cli/serve.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { phasesOf, tektonController } from '../support/tekton-controller.ts';

const quiet = { stdout: () => {}, stderr: () => {}, env: {} };
const SECONDS_NOW = Math.floor(Date.now() / 1000);

describe('serve runs the concurrency groups too, with no GitHub credentials: after each delivery, on /tekton/events and in its loop', () => {
  let kube: KubeApiServer;
  let bridge: RunningBridge;
  let dir: string;
  let tekton: ReturnType<typeof tektonController>;
  let deliveries = 0;

  const start = (reconcileEveryMs: number) =>
    startBridge(
      { port: 0, host: '127.0.0.1', triggersDir: 'test/fixtures/triggers/concurrency', secret: 'serve-secret', dryRun: false, kubeconfig: join(dir, 'config'), github: { reconcileEveryMs } },
      quiet,
    );

  before(async () => {
    kube = await startKubeApiServer({ token: 'kube-token' });
    tekton = tektonController(kube);
    dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-serve-groups-'));
    writeFileSync(join(dir, 'config'), JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority-data': Buffer.from(kube.caPem).toString('base64') } }],
      users: [{ name: 'u', user: { token: 'kube-token' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    }));
    bridge = await start(0);
  });
  after(async () => {
    await bridge?.close();
    await kube?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const push = async (target: RunningBridge, branch: string, secondsAgo: number): Promise<string> => {
    deliveries += 1;
    const payload = pushToDefaultBranch();
    payload.ref = `refs/heads/${branch}`;
    payload.repository.pushed_at = SECONDS_NOW - secondsAgo;
    payload.after = (deliveries.toString(16).padStart(7, '0') + payload.after).slice(0, 40);
    const delivery = await signedDelivery('push', payload, { secret: 'serve-secret', deliveryId: `serve-groups-${deliveries}` });
    const answer = await fetch(target.url, { method: 'POST', headers: delivery.headers, body: delivery.body });
    assert.equal(answer.status, 202);
    const body = (await answer.json()) as { results: Array<{ outcome: string; resources?: Array<{ name: string }> }> };
    return body.results.find((r) => r.outcome === 'created')?.resources?.[0]?.name as string;
  };
  const event = (name: string) =>
    fetch(bridge.eventsUrl as string, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id: `${name}-done`, source: `/apis///namespaces/ci//${name}`, type: 'dev.tekton.event.pipelinerun.successful.v1', subject: name, data: { pipelineRun: { metadata: { name, namespace: 'ci' } } } }),
    });

  it('cancel-in-progress: an older push delivered after a newer one is cancelled before it ever runs', async () => {
    const newer = await push(bridge, 'main', 10);
    const older = await push(bridge, 'main', 20);
    tekton.reconcileAll();

    assert.deepEqual(phasesOf(kube, (r) => [newer, older].includes(r.metadata.name)), { [newer]: 'running', [older]: 'cancelled' });
  });

  it('max-running 1: the second waits; the Tekton event of the first starts it', async () => {
    const first = await push(bridge, 'queue', 6);
    const second = await push(bridge, 'queue', 3);
    tekton.reconcileAll();
    const waiting = phasesOf(kube, (r) => [first, second].includes(r.metadata.name));
    tekton.finish('ci', first);
    const answer = await event(first);

    assert.equal(bridge.eventsUrl?.endsWith('/tekton/events'), true, 'the events route is served for the groups, with no GitHub reporting');
    assert.equal(answer.status, 202);
    assert.deepEqual(waiting, { [first]: 'running', [second]: 'pending' });
    assert.deepEqual(phasesOf(kube, (r) => [first, second].includes(r.metadata.name)), { [first]: 'succeeded', [second]: 'running' });
  });

  it('a lost event: the --reconcile-every loop starts the next waiting run', async () => {
    const looping = await start(100);
    try {
      const first = await push(looping, 'queue', 2);
      const second = await push(looping, 'queue', 1);
      // The run of the previous case still holds the one slot; it finishes with no event, then so does the first.
      for (const run of Object.entries(phasesOf(kube)).filter(([, phase]) => phase === 'running')) tekton.finish('ci', run[0]);
      // Bounded wait for the loop (every 100 ms); the assertion is on what it did, not on when.
      const started = () => phasesOf(kube, (r) => [first, second].includes(r.metadata.name));
      for (let waited = 0; waited < 10_000 && started()[first] !== 'running'; waited += 50) await sleep(50);
      tekton.finish('ci', first);
      for (let waited = 0; waited < 10_000 && started()[second] !== 'running'; waited += 50) await sleep(50);

      assert.deepEqual(started(), { [first]: 'succeeded', [second]: 'running' });
    } finally {
      await looping.close();
    }
  });
});
