import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '../../../functions/core/delivery-types.ts';
import type { GithubReport } from '../../../functions/core/reporting/github-report.ts';
import { reportRun, type PublishResult, type RunReporterPorts } from '../../../functions/core/reporting/report-run.ts';
import type { MetadataPatch } from '../../../functions/core/reporting/run-annotations.ts';
import { RUNNING, SUCCEEDED, renderedRun, verifyTestRun } from '../../support/report-fixtures.ts';

/** One run kept as the API server keeps it: a resourceVersion per write, a patch on an old one is a conflict. */
function storeOf(run: KubernetesObject) {
  let current: KubernetesObject = { ...structuredClone(run), metadata: { ...structuredClone(run.metadata), resourceVersion: '1' } };
  let version = 1;
  const write = (next: KubernetesObject) => {
    version += 1;
    current = { ...next, metadata: { ...next.metadata, resourceVersion: String(version) } };
  };
  return {
    get: () => structuredClone(current),
    /** What Tekton's controller does: a new status, a new resourceVersion. */
    setStatus: (status: unknown) => write({ ...structuredClone(current), status }),
    patch: (patch: MetadataPatch) => {
      if (patch.metadata.resourceVersion !== current.metadata.resourceVersion) return false;
      const annotations = { ...current.metadata.annotations };
      for (const [key, value] of Object.entries(patch.metadata.annotations ?? {})) {
        if (value === null) delete annotations[key];
        else annotations[key] = value;
      }
      write({ ...current, metadata: { ...current.metadata, annotations, labels: { ...current.metadata.labels, ...patch.metadata.labels } } });
      return true;
    },
  };
}

function portsFor(store: ReturnType<typeof storeOf>, publish: (report: GithubReport) => Promise<PublishResult>, nowMs = Date.parse('2026-06-01T12:00:00Z')): RunReporterPorts & { published: GithubReport[] } {
  const published: GithubReport[] = [];
  return {
    published,
    getRun: async () => ({ outcome: 'found', object: store.get() }),
    patchRun: async (_ref, patch) => (store.patch(patch) ? { outcome: 'patched', object: store.get() } : { outcome: 'conflict', reason: 'the object has been modified' }),
    publish: async (report) => {
      published.push(report);
      return publish(report);
    },
    verifyRun: verifyTestRun,
    now: () => nowMs,
    leaseMs: 60_000,
    detailsUrlTemplate: undefined,
  };
}

const ref = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name: 'run-a' };

describe('reportRun', () => {
  it('waits while another reporter holds a fresh claim, and takes over a claim older than the lease', async () => {
    const claimedAt = (iso: string) => storeOf(renderedRun('run-a', { annotations: { 'tekton-bridge/reporting': `pending ${iso}` } }));
    const fresh = portsFor(claimedAt('2026-06-01T11:59:30.000Z'), async () => ({ outcome: 'published' }));
    const stale = portsFor(claimedAt('2026-06-01T11:58:00.000Z'), async () => ({ outcome: 'published' }));

    const waiting = await reportRun(ref, fresh);
    const taken = await reportRun(ref, stale);

    assert.deepEqual(waiting.map((o) => o.outcome), ['waiting']);
    assert.equal(fresh.published.length, 0);
    assert.deepEqual(taken.map((o) => o.outcome), ['reported']);
  });

  it('reports the newer state in the same call when the run moves on while GitHub hears the older one', async () => {
    const store = storeOf(renderedRun('run-a'));
    const ports = portsFor(store, async (report) => {
      // Tekton starts and finishes the run while the pending report is in flight.
      if (report.state === 'pending') store.setStatus(SUCCEEDED);
      return { outcome: 'published' };
    });

    const outcomes = await reportRun(ref, ports);

    assert.deepEqual(outcomes.map((o) => (o.outcome === 'reported' ? o.state : o.outcome)), ['pending', 'success']);
    assert.deepEqual(ports.published.map((r) => r.state), ['pending', 'success']);
    assert.equal(store.get().metadata.annotations?.['tekton-bridge/reported'], 'success');
    assert.equal(store.get().metadata.labels?.['tekton-bridge/report'], 'done');
  });

  it('a conflict on the claim re-reads the run and reports what it is now', async () => {
    const store = storeOf(renderedRun('run-a'));
    const stale = store.get();
    store.setStatus(RUNNING);
    const ports = portsFor(store, async () => ({ outcome: 'published' }));

    const outcomes = await reportRun(stale, ports);

    assert.deepEqual(ports.published.map((r) => r.state), ['running']);
    assert.deepEqual(outcomes.map((o) => o.outcome), ['reported']);
  });

  it('keeps the check run id GitHub gave, and sends it with the next report', async () => {
    const store = storeOf(renderedRun('run-a'));
    const ports = portsFor(store, async () => ({ outcome: 'published', checkRunId: '4711' }));
    await reportRun(ref, ports);
    store.setStatus(RUNNING);
    await reportRun(ref, ports);
    assert.deepEqual(ports.published.map((r) => r.checkRunId), [undefined, '4711']);
    assert.equal(store.get().metadata.annotations?.['tekton-bridge/check-run-id'], '4711');
  });

  it('gives up after repeated conflicts without reporting, and says the schedule will', async () => {
    const store = storeOf(renderedRun('run-a'));
    const ports = portsFor(store, async () => ({ outcome: 'published' }));
    ports.patchRun = async () => ({ outcome: 'conflict', reason: 'modified' });
    const outcomes = await reportRun(ref, ports);
    assert.equal(ports.published.length, 0);
    assert.match(outcomes.at(-1)?.reason ?? '', /kept changing/);
  });
});
