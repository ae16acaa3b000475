import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBridge, type RunningBridge } from '../../functions/cli/serve.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { FAILED, SUCCEEDED } from '../support/report-fixtures.ts';

const TOKEN = 'ghp_serve_reporting_token';
const quiet = { stdout: () => {}, stderr: () => {}, env: {} };

describe('serve reports the whole loop: webhook → pending, /tekton/events → result, --reconcile-every → what no event said', () => {
  let kube: KubeApiServer;
  let github: GithubApiServer;
  let bridge: RunningBridge;
  let dir: string;
  let deliveries = 0;

  before(async () => {
    [kube, github] = await Promise.all([startKubeApiServer({ token: 'kube-token' }), startGithubApiServer({ token: TOKEN })]);
    dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-serve-reporting-'));
    writeFileSync(join(dir, 'config'), JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: kube.url, 'certificate-authority-data': Buffer.from(kube.caPem).toString('base64') } }],
      users: [{ name: 'u', user: { token: 'kube-token' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    }));
    bridge = await startBridge({
      port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: 's', dryRun: false, kubeconfig: join(dir, 'config'),
      github: { token: TOKEN, apiUrl: github.url, detailsUrlTemplate: 'https://dash/{namespace}/{name}', reconcileEveryMs: 100 },
    }, quiet);
  });
  after(async () => {
    await bridge?.close();
    await Promise.all([kube?.stop(), github?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const push = async (): Promise<string> => {
    deliveries += 1;
    const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: 's', deliveryId: `serve-reporting-${deliveries}` });
    const answer = await fetch(bridge.url, { method: 'POST', headers: delivery.headers, body: delivery.body });
    assert.equal(answer.status, 202);
    return ((await answer.json()) as { results: Array<{ resources: Array<{ name: string }> }> }).results[0]?.resources[0]?.name as string;
  };
  const statesOf = (name: string) => github.statuses.filter((s) => s.target_url === `https://dash/ci/${name}`).map((s) => s.state);

  it('pending on the push, success on a structured-mode event', async () => {
    const name = await push();
    const pending = statesOf(name);
    kube.setStatus('ci', name, SUCCEEDED);
    const event = await fetch(bridge.eventsUrl as string, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({ specversion: '1.0', id: 'e1', source: `/apis///namespaces/ci//${name}`, type: 'dev.tekton.event.pipelinerun.successful.v1', subject: name, data: { pipelineRun: { metadata: { name, namespace: 'ci' } } } }),
    });

    assert.deepEqual(pending, ['pending']);
    assert.equal(event.status, 202);
    // The reconcile loop (every 100 ms) races the event: whichever comes first reports, the other finds it reported.
    assert.match(((await event.json()) as { outcome: string }).outcome, /^(reported|unchanged|waiting)$/);
    for (let waited = 0; waited < 10_000 && !statesOf(name).includes('success'); waited += 50) await sleep(50);
    assert.deepEqual(statesOf(name), ['pending', 'success']);
    assert.equal((await fetch(bridge.eventsUrl as string, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 400);
  });

  it('a run that fails with no event is reported by the reconcile loop', async () => {
    const name = await push();
    kube.setStatus('ci', name, FAILED);
    // Bounded wait for the loop (every 100 ms); the assertion is on what was reported, not on when.
    for (let waited = 0; waited < 10_000 && !statesOf(name).includes('failure'); waited += 50) await sleep(50);
    assert.deepEqual(statesOf(name), ['pending', 'failure']);
  });

  it('a dry run has no runs to report: the token only serves the github interceptor, and serve says so', async () => {
    const dry = await startBridge({ port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: 's', dryRun: true, github: { token: TOKEN, apiUrl: github.url } }, quiet);
    try {
      assert.match(dry.reporting, /asking GitHub at http:\/\/127\.0\.0\.1:\d+ for the github interceptor; not reporting runs \(a dry run has no cluster to read them from\)/);
      assert.equal(dry.eventsUrl, undefined);
    } finally {
      await dry.close();
    }
  });
});
