import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createGithubApi } from '../../functions/adapters/github-api.ts';
import { createKubernetesClient, type KubernetesClient } from '../../functions/adapters/kubernetes-api.ts';
import { createRunReporting } from '../../functions/adapters/run-reporting.ts';
import type { ReportingAccess } from '../../functions/adapters/github-reporting.ts';
import { startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { createRunVerifier } from '../../functions/adapters/run-verifier.ts';
import { runSigningKey, signRun } from '../../functions/core/run-signature.ts';
import { TEST_SECRET } from '../support/deliveries.ts';
import { COMMIT, FAILED, RUNNING, SUCCEEDED, renderedRun, verifyTestRun } from '../support/report-fixtures.ts';

const TOKEN = 'ghp_reporting_test';
const ref = (name: string) => ({ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name });

describe('reporting runs from the Kubernetes API to GitHub (TLS Kubernetes API and GitHub API test servers)', () => {
  let kubeApi: KubeApiServer;
  let github: GithubApiServer;
  let kube: KubernetesClient;
  let access: () => Promise<ReportingAccess>;
  const reporting = () => createRunReporting({ kube, access, detailsUrlTemplate: 'https://tekton.example.com/#/namespaces/{namespace}/{kind}s/{name}', verifyRun: verifyTestRun });

  before(async () => {
    [kubeApi, github] = await Promise.all([startKubeApiServer({ token: 'kube-token' }), startGithubApiServer({ token: TOKEN, tokenRepositories: ['Codertocat/Hello-World'] })]);
    kube = createKubernetesClient({ server: kubeApi.url, ca: kubeApi.caPem, getToken: async () => 'kube-token' });
    const api = createGithubApi({ credentials: { mode: 'token', token: TOKEN }, baseUrl: github.url, sleep: async () => undefined });
    access = async () => ({ on: true, api });
  });
  after(() => Promise.all([kubeApi?.stop(), github?.stop()]));
  beforeEach(() => github.reset());

  it('reports pending, then success when Tekton says Succeeded=True; the same state twice is one call', async () => {
    // Prepare
    await kube.create(renderedRun('run-a'));

    // Act
    const first = await reporting().reportEvent(ref('run-a'));
    const again = await reporting().reportEvent(ref('run-a'));
    kubeApi.setStatus('ci', 'run-a', SUCCEEDED);
    const done = await reporting().reportEvent(ref('run-a'));
    const after = await reporting().reportEvent(ref('run-a'));

    // Assess
    assert.deepEqual(first.map((e) => [e.outcome, e.state]), [['reported', 'pending']]);
    assert.deepEqual(again.map((e) => e.outcome), ['unchanged']);
    assert.deepEqual(done.map((e) => [e.outcome, e.state]), [['reported', 'success']]);
    assert.deepEqual(after.map((e) => e.outcome), ['unchanged']);
    assert.deepEqual(github.statuses.map((s) => [s.state, s.sha, s.description]), [
      ['pending', COMMIT, 'PipelineRun created; waiting for Tekton to start it'],
      ['success', COMMIT, 'Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0'],
    ]);
    assert.equal(github.statuses[1]?.target_url, 'https://tekton.example.com/#/namespaces/ci/pipelineruns/run-a');
    const stored = kubeApi.find('ci', 'run-a');
    assert.equal(stored?.metadata.annotations?.['tekton-bridge/reported'], 'success');
    assert.equal(stored?.metadata.annotations?.['tekton-bridge/reporting'], undefined);
    assert.equal(stored?.metadata.labels?.['tekton-bridge/report'], 'done');
  });

  it('a race of the event route, the schedule and a second container ends with one report per state', async () => {
    await kube.create(renderedRun('run-race'));
    kubeApi.setStatus('ci', 'run-race', FAILED);

    const results = await Promise.all([
      reporting().reportEvent(ref('run-race')),
      reporting().reconcile(['ci'], Date.now() + 30_000),
      reporting().reportEvent(ref('run-race')),
      reporting().reportEvent(ref('run-race')),
    ]);

    const mine = github.statuses.filter((s) => s.sha === COMMIT && s.state === 'failure');
    assert.equal(mine.length, 1, JSON.stringify(results));
    assert.equal(github.statuses.length, 1, 'failure only: pending was never reported, and is not reported after the final state');
    assert.equal(kubeApi.find('ci', 'run-race')?.metadata.labels?.['tekton-bridge/report'], 'done');
  });

  it('GitHub down: nothing is recorded, the claim is released, and the next schedule reports', async () => {
    await kube.create(renderedRun('run-down'));
    kubeApi.setStatus('ci', 'run-down', RUNNING);
    github.setDown(true);

    const failed = await reporting().reportEvent(ref('run-down'));
    const afterFailure = kubeApi.find('ci', 'run-down');
    github.setDown(false);
    const summary = await reporting().reconcile(['ci'], Date.now() + 30_000);

    assert.deepEqual(failed.map((e) => [e.outcome, e.state]), [['failed', 'running']]);
    assert.match(failed[0]?.reason ?? '', /503/);
    assert.equal(afterFailure?.metadata.annotations?.['tekton-bridge/reporting'], undefined, 'claim released');
    assert.equal(afterFailure?.metadata.annotations?.['tekton-bridge/reported'], undefined);
    assert.ok(summary.entries.some((e) => e.run?.name === 'run-down' && e.outcome === 'reported' && e.state === 'running'), JSON.stringify(summary));
    assert.equal(github.statuses.filter((s) => s.state === 'pending').length, 1);
  });

  it('a run the bridge did not make for a commit is never reported, whatever an event says; a missing run is gone', async () => {
    await kube.create({ ...renderedRun('foreign'), metadata: { ...renderedRun('foreign').metadata, labels: { 'triggers.tekton.dev/eventlistener': 'github-push' } } });
    await kube.create(renderedRun('no-commit', { annotations: { 'tekton-bridge/commit': 'main' } }));

    const foreign = await reporting().reportEvent(ref('foreign'));
    const noCommit = await reporting().reportEvent(ref('no-commit'));
    const gone = await reporting().reportEvent(ref('never-created'));

    assert.deepEqual(foreign.map((e) => e.outcome), ['ignored']);
    assert.match(foreign[0]?.reason ?? '', /no tekton-bridge\/report label/);
    assert.deepEqual(noCommit.map((e) => e.outcome), ['ignored']);
    assert.match(noCommit[0]?.reason ?? '', /not a SHA/);
    assert.deepEqual(gone.map((e) => e.outcome), ['gone']);
    assert.equal(github.calls.length, 0);
  });

  it('a forged run (the labels and annotations copied, no signature), a signature copied onto another run and a commit changed after creation: never reported, never touched', async () => {
    // Prepare: what anyone who may create (or patch) runs in the namespace could do.
    const genuine = renderedRun('genuine');
    await kube.create(renderedRun('forged', { unsigned: true }));
    await kube.create({ ...genuine, metadata: { ...genuine.metadata, name: 'copied' } });
    await kube.create(renderedRun('altered'));
    const altered = kubeApi.find('ci', 'altered');
    await kube.patch(ref('altered'), { type: 'merge', patch: { metadata: { resourceVersion: altered?.metadata.resourceVersion, annotations: { 'tekton-bridge/commit': 'f'.repeat(40) } } } });
    kubeApi.setStatus('ci', 'forged', SUCCEEDED);
    const before = Object.fromEntries(['forged', 'copied', 'altered'].map((name) => [name, kubeApi.find('ci', name)?.metadata.resourceVersion]));

    // Act
    const events = await Promise.all(['forged', 'copied', 'altered'].map((name) => reporting().reportEvent(ref(name))));
    const summary = await reporting().reconcile(['ci'], Date.now() + 30_000);

    // Assess
    for (const entries of events) {
      assert.deepEqual(entries.map((e) => [e.outcome, e.unverified]), [['ignored', true]]);
    }
    assert.match(events[0]?.[0]?.reason ?? '', /no tekton-bridge\/signature annotation/);
    assert.match(events[1]?.[0]?.reason ?? '', /does not verify/);
    assert.match(events[2]?.[0]?.reason ?? '', /does not verify/);
    const scheduled = summary.entries.filter((e) => ['forged', 'copied', 'altered'].includes(e.run?.name ?? ''));
    assert.deepEqual(scheduled.map((e) => e.outcome), ['ignored', 'ignored', 'ignored']);
    assert.equal(github.calls.length, 0, 'GitHub heard nothing');
    for (const name of ['forged', 'copied', 'altered']) assert.equal(kubeApi.find('ci', name)?.metadata.resourceVersion, before[name], `${name} was not patched`);
  });

  it('a run signed with the previous webhook secret is reported while that secret is accepted, and left alone after', async () => {
    const signedWithOld = signRun(renderedRun('old-secret', { unsigned: true }), runSigningKey('the-previous-secret'));
    await kube.create(signedWithOld);
    const within = createRunVerifier({ current: async () => [TEST_SECRET], previous: async () => ['the-previous-secret'] });
    const beyond = createRunVerifier({ current: async () => [TEST_SECRET], previous: async () => [] });

    const refused = await createRunReporting({ kube, access, detailsUrlTemplate: undefined, verifyRun: beyond }).reportEvent(ref('old-secret'));
    const reported = await createRunReporting({ kube, access, detailsUrlTemplate: undefined, verifyRun: within }).reportEvent(ref('old-secret'));

    assert.deepEqual(refused.map((e) => [e.outcome, e.unverified]), [['ignored', true]]);
    assert.deepEqual(reported.map((e) => [e.outcome, e.state]), [['reported', 'pending']]);
  });

  it('a report GitHub refuses for good (no access to the repository) is recorded with the reason and not tried again', async () => {
    await kube.create(renderedRun('refused', { annotations: { 'tekton-bridge/repository': 'Codertocat/Private' } }));

    const first = await reporting().reportEvent(ref('refused'));
    const second = await reporting().reconcile(['ci'], Date.now() + 30_000);

    assert.deepEqual(first.map((e) => [e.outcome, e.state]), [['refused', 'pending']]);
    assert.match(first[0]?.reason ?? '', /404/);
    const stored = kubeApi.find('ci', 'refused');
    assert.equal(stored?.metadata.annotations?.['tekton-bridge/reported'], 'pending');
    assert.match(stored?.metadata.annotations?.['tekton-bridge/report-refused'] ?? '', /404/);
    assert.deepEqual(second.entries.filter((e) => e.run?.name === 'refused').map((e) => e.outcome), ['unchanged']);
    assert.equal(github.calls.filter((c) => c.path.includes('Private')).length, 1);
  });

  it('the schedule lists only open runs and stops at its deadline', async () => {
    await kube.create(renderedRun('late-1'));
    await kube.create(renderedRun('late-2'));
    const summary = await reporting().reconcile(['ci'], Date.now() - 1);
    assert.equal(summary.reported, 0);
    assert.ok(summary.deferred >= 2);
    assert.ok(kubeApi.requests.some((r) => r.path.includes('labelSelector=tekton-bridge%2Freport%3Dopen')));
  });
});
