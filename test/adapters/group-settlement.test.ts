import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createGroupSettlement, type GroupEntry } from '../../functions/adapters/group-settlement.ts';
import { createKubernetesClient, type KubernetesClient } from '../../functions/adapters/kubernetes-api.ts';
import { groupLabelValue, groupOf, type GroupRef } from '../../functions/core/concurrency/group-annotations.ts';
import type { KubernetesObject } from '../../functions/core/delivery-types.ts';
import { groupRun, isRunning, runningIn } from '../support/group-fixtures.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { verifyTestRun } from '../support/report-fixtures.ts';
import { phasesOf, tektonController } from '../support/tekton-controller.ts';

const GROUP: GroupRef = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', group: 'app-main', label: groupLabelValue('app-main') };
const ONE = { 'tekton-bridge/max-running': '1' };
const CANCEL = { 'tekton-bridge/cancel-in-progress': 'true' };

/** A deterministic source of numbers in [0, 1), so a failing interleaving can be replayed by its seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

/** The client with a random wait of 0–4 ms before each call: one Lambda container among several, racing the others. */
function racing(kube: KubernetesClient, random: () => number): KubernetesClient {
  const delayed =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 5)));
      return call(...args);
    };
  return { create: delayed(kube.create), get: delayed(kube.get), list: delayed(kube.list), patch: delayed(kube.patch), delete: delayed(kube.delete) };
}

/**
 * A client whose every call waits until the test lets it go: two containers' calls are then interleaved in exactly
 * the order a test names, the worst one for the protocol included.
 */
function stepped(kube: KubernetesClient) {
  const waiting: Array<{ method: string; go: () => void }> = [];
  const arrived: Array<() => void> = [];
  const gate =
    <A extends unknown[], R>(method: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await new Promise<void>((go) => {
        waiting.push({ method, go });
        arrived.splice(0).forEach((wake) => wake());
      });
      return call(...args);
    };
  const client: KubernetesClient = { create: gate('create', kube.create), get: gate('get', kube.get), list: gate('list', kube.list), patch: gate('patch', kube.patch), delete: gate('delete', kube.delete) };
  return {
    client,
    /** Lets the next call through once it is `method`, and waits for its answer to be taken. */
    async step(method: string): Promise<void> {
      const giveUp = Date.now() + 2000;
      while (waiting.length === 0) {
        assert.ok(Date.now() < giveUp, `no ${method} call came`);
        await new Promise<void>((wake) => {
          arrived.push(wake);
          setTimeout(wake, 100);
        });
      }
      const next = waiting.shift() as { method: string; go: () => void };
      assert.equal(next.method, method, `the next call is ${next.method}, not ${method}`);
      next.go();
      // The call goes to the server and its answer comes back before the next step.
      await new Promise((resolve) => setTimeout(resolve, 30));
    },
    pending: () => waiting.map((w) => w.method),
  };
}

describe('settling concurrency groups against the Kubernetes API (TLS test server, resourceVersion conflicts)', () => {
  let api: KubeApiServer;
  let kube: KubernetesClient;
  let tekton: ReturnType<typeof tektonController>;
  const settlement = (client: KubernetesClient = kube, awaitReports = false) =>
    createGroupSettlement({ kube: client, verifyRun: verifyTestRun, awaitReports, pause: () => new Promise((resolve) => setTimeout(resolve, 1)) });
  const inGroup = (group = 'app-main') => (run: { metadata: { annotations?: Record<string, string> } }) => run.metadata.annotations?.['tekton-bridge/concurrency-group'] === group;

  before(async () => {
    api = await startKubeApiServer({ token: 'kube-token' });
    kube = createKubernetesClient({ server: api.url, ca: api.caPem, getToken: async () => 'kube-token' });
    tekton = tektonController(api);
  });
  after(() => api?.stop());
  beforeEach(async () => {
    for (const run of api.live()) await kube.delete({ apiVersion: run.apiVersion, kind: run.kind, namespace: run.metadata.namespace, name: run.metadata.name });
    api.requests.length = 0;
  });

  it('cancel-in-progress: three pushes arriving out of order leave the newest running and the two older cancelled, never started', async () => {
    // Prepare: the newest push arrives second, the oldest last.
    const arrivals = [groupRun('push-2', { push: 2, settings: CANCEL }), groupRun('push-3', { push: 3, settings: CANCEL }), groupRun('push-1', { push: 1, settings: CANCEL })];
    const started: string[] = [];
    const stop = api.onChange(({ object }) => {
      if (inGroup()(object) && isRunning(object) && !started.includes(object.metadata.name)) started.push(object.metadata.name);
    });

    // Act: each delivery creates its run and settles the group, as the webhook does.
    const entries: GroupEntry[] = [];
    for (const run of arrivals) {
      await kube.create(run);
      entries.push(...(await settlement().settle(GROUP)));
    }
    tekton.reconcileAll();
    stop();

    // Assess
    assert.deepEqual(phasesOf(api, inGroup()), { 'push-1': 'cancelled', 'push-2': 'cancelled', 'push-3': 'running' });
    assert.deepEqual(started, ['push-2', 'push-3'], 'push-1 arrived after a newer push: it never ran');
    assert.deepEqual(
      entries.map((e) => `${e.action} ${e.run?.name}`),
      ['started push-2', 'cancelled push-2', 'started push-3', 'cancelled push-1'],
    );
    assert.match(api.find('ci', 'push-1')?.metadata.annotations?.['tekton-bridge/cancelled'] ?? '', /^superseded by a newer push in group app-main: PipelineRun push-3/);
    assert.equal((api.find('ci', 'push-2')?.spec as { status?: string }).status, 'Cancelled');
  });

  it('forged runs in the group (labels and annotations copied, no signature) are never started or cancelled, and never cancel the real one', async () => {
    // Prepare: a forged "newer push" would cancel the real run, a forged waiting one would be started.
    await kube.create(groupRun('real', { push: 1, settings: CANCEL }));
    await kube.create(groupRun('forged-newer', { push: 9, settings: CANCEL, unsigned: true }));
    const copied = groupRun('real-copy', { push: 1, settings: CANCEL });
    await kube.create({ ...groupRun('real', { push: 1, settings: CANCEL }), metadata: { ...groupRun('real', { push: 1, settings: CANCEL }).metadata, name: 'real-copy' } });

    // Act
    const entries = await settlement().settle(GROUP);

    // Assess
    assert.deepEqual(phasesOf(api, inGroup()), { real: 'running', 'forged-newer': 'pending', 'real-copy': 'pending' });
    assert.deepEqual(entries.filter((e) => e.action === 'ignored').map((e) => e.run?.name).sort(), ['forged-newer', 'real-copy']);
    assert.match(entries.find((e) => e.run?.name === 'forged-newer')?.reason ?? '', /no tekton-bridge\/signature annotation/);
    assert.ok(copied, 'the copy carries a signature made for another name');
    for (const name of ['forged-newer', 'real-copy']) {
      assert.equal(api.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith(`/${name}`)).length, 0, `${name} was not touched`);
    }
  });

  it('max-running 1, five deliveries racing in five containers (many interleavings): never two running; one runs, four wait, then each starts in push order', async () => {
    for (let seed = 1; seed <= 12; seed += 1) {
      // Prepare
      for (const run of api.live()) await kube.delete({ apiVersion: run.apiVersion, kind: run.kind, namespace: run.metadata.namespace, name: run.metadata.name });
      const random = seeded(seed);
      let most = 0;
      const stop = api.onChange(() => (most = Math.max(most, runningIn(api).length)));
      const runs = [3, 1, 5, 2, 4].map((push) => groupRun(`s${seed}-push-${push}`, { push, settings: ONE }));

      // Act: each container creates its run (never conditional) and settles the group, all at once, each delivery
      // arriving a few milliseconds apart so that containers list the group at different moments.
      await Promise.all(
        runs.map(async (run) => {
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 15)));
          const client = racing(kube, random);
          await client.create(run);
          await settlement(client).settle(GROUP);
        }),
      );
      const afterRace = phasesOf(api, inGroup());
      const order: string[] = [];
      for (let finished = 0; finished < 5; finished += 1) {
        const [current] = runningIn(api);
        if (!current) break;
        order.push(current.metadata.name);
        tekton.finish('ci', current.metadata.name);
        // The Tekton event of the finished run (or the schedule, had it been lost), from two reporters at once.
        await Promise.all([settlement(racing(kube, random)).settle(GROUP), settlement(racing(kube, random)).settle(GROUP)]);
      }
      stop();

      // Assess
      assert.equal(most, 1, `seed ${seed}: at most one running at any moment`);
      const phases = Object.values(afterRace);
      assert.deepEqual([phases.filter((p) => p === 'running').length, phases.filter((p) => p === 'pending').length], [1, 4], `seed ${seed}: ${JSON.stringify(afterRace)}`);
      assert.equal(order.length, 5, `seed ${seed}: every run ran: ${order.join(', ')}`);
      // The first to start is whichever won the race; after it, the queue goes in push order.
      const rest = order.slice(1).map((name) => Number(name.split('-').pop()));
      assert.deepEqual(rest, [...rest].sort((a, b) => a - b), `seed ${seed}: started in push order: ${order.join(', ')}`);
      for (const run of api.live().filter(inGroup())) {
        assert.equal(run.metadata.annotations?.['tekton-bridge/starting'], undefined, `seed ${seed}: no claim is left behind on ${run.metadata.name}`);
      }
    }
  });

  it('max-running 1, the worst interleaving: two containers see different oldest pushes and claim both; the second view shows both claims, so only one starts', async () => {
    // Prepare: push 3 is created; container X lists it; push 1 (older) is created; container Y lists both.
    await kube.create(groupRun('late-3', { push: 3, settings: ONE }));
    const x = stepped(kube);
    const y = stepped(kube);
    const settledX = settlement(x.client).settle(GROUP);
    await x.step('list');
    await kube.create(groupRun('late-1', { push: 1, settings: ONE }));
    const settledY = settlement(y.client).settle(GROUP);
    await y.step('list');

    // Act: both claim (different runs, so no conflict), then both read the group again, then both decide.
    await x.step('patch');
    await y.step('patch');
    await x.step('list');
    await y.step('list');
    const claims = phasesOf(api, inGroup());
    while (x.pending().length > 0 || y.pending().length > 0) {
      if (x.pending().length > 0) await x.step(x.pending()[0] as string);
      if (y.pending().length > 0) await y.step(y.pending()[0] as string);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all([settledX, settledY]);
    const afterBoth = phasesOf(api, inGroup());
    await settlement().settle(GROUP);

    // Assess
    assert.deepEqual(claims, { 'late-3': 'pending', 'late-1': 'pending' });
    assert.equal(Object.values(afterBoth).filter((p) => p === 'running').length, 1, JSON.stringify(afterBoth));
    assert.deepEqual(afterBoth, { 'late-3': 'pending', 'late-1': 'running' }, 'the older push wins: the newer claim is withdrawn');
    assert.equal(api.find('ci', 'late-3')?.metadata.annotations?.['tekton-bridge/starting'], undefined);
  });

  it('a container frozen between its claim and its start: another releases the stale claim and starts; the frozen start then fails on the resourceVersion', async () => {
    // Prepare
    await kube.create(groupRun('frozen-1', { push: 1, settings: ONE }));
    await kube.create(groupRun('frozen-2', { push: 2, settings: ONE }));
    const x = stepped(kube);
    const settledX = settlement(x.client).settle(GROUP);
    await x.step('list');
    await x.step('patch');
    await x.step('list');
    // X has decided to start frozen-1 and is frozen before its patch goes out.

    // Act: a minute later another container finds X's claim stale.
    const later = createGroupSettlement({ kube, verifyRun: verifyTestRun, awaitReports: false, now: () => Date.now() + 60_000, pause: async () => undefined });
    const entries = await later.settle(GROUP);
    const running = runningIn(api).map((r) => r.metadata.name);
    await x.step('patch');
    while (x.pending().length > 0) await x.step(x.pending()[0] as string);
    await settledX;

    // Assess
    assert.deepEqual(entries.map((e) => `${e.action} ${e.run?.name}`), ['released frozen-1', 'started frozen-1', 'queued frozen-2']);
    assert.deepEqual(running, ['frozen-1']);
    assert.deepEqual(runningIn(api).map((r) => r.metadata.name), ['frozen-1'], 'one running, started once');
    assert.equal(api.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/frozen-1') && r.status === 409).length >= 1, true, "X's start was refused");
  });

  it('cancel-in-progress with max-running 1, pushes and settlements racing: the newest push alone is ever left, never cancelled, and no two run at once', async () => {
    for (let seed = 100; seed < 108; seed += 1) {
      for (const run of api.live()) await kube.delete({ apiVersion: run.apiVersion, kind: run.kind, namespace: run.metadata.namespace, name: run.metadata.name });
      const random = seeded(seed);
      let most = 0;
      let newestCancelled = false;
      const newest = `c${seed}-push-6`;
      const stop = api.onChange(({ object }) => {
        most = Math.max(most, runningIn(api).length);
        if (object.metadata.name === newest && (object.spec as { status?: string } | undefined)?.status?.startsWith('Cancel')) newestCancelled = true;
      });
      const runs = [4, 6, 1, 5, 2, 3].map((push) => groupRun(`c${seed}-push-${push}`, { push, settings: { ...CANCEL, ...ONE } }));

      await Promise.all(
        runs.map(async (run) => {
          await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 15)));
          const client = racing(kube, random);
          await client.create(run);
          await settlement(client).settle(GROUP);
          // Tekton catches up at random moments in between.
          if (random() < 0.5) tekton.reconcileAll();
        }),
      );
      tekton.reconcileAll();
      await settlement().settle(GROUP);
      stop();

      const phases = phasesOf(api, inGroup());
      assert.equal(most <= 1, true, `seed ${seed}: at most one running at any moment (${most})`);
      assert.equal(newestCancelled, false, `seed ${seed}: the newest push was never cancelled`);
      assert.equal(phases[newest], 'running', `seed ${seed}: ${JSON.stringify(phases)}`);
      assert.deepEqual(Object.entries(phases).filter(([name]) => name !== newest).map(([, phase]) => phase), ['cancelled', 'cancelled', 'cancelled', 'cancelled', 'cancelled'], `seed ${seed}: ${JSON.stringify(phases)}`);
    }
  });

  it('a start claim left by a bridge that died is released by the next settlement, and the run starts', async () => {
    const waiting = groupRun('orphan', { push: 1, settings: ONE });
    waiting.metadata.annotations = { ...waiting.metadata.annotations, 'tekton-bridge/starting': '2026-01-01T00:00:00.000Z dead-bridge' };
    await kube.create(waiting);

    const entries = await settlement().settle(GROUP);

    assert.deepEqual(entries.map((e) => e.action), ['released', 'started']);
    assert.deepEqual(phasesOf(api, inGroup()), { orphan: 'running' });
  });

  it('max-keep-runs 2 over ten runs: two finished runs are left, deleted only once GitHub heard their final state', async () => {
    const keep = { 'tekton-bridge/max-keep-runs': '2' };
    const pruned: string[] = [];
    for (let push = 1; push <= 10; push += 1) {
      await kube.create(groupRun(`keep-${push}`, { push, settings: keep }));
      pruned.push(...(await settlement(kube, true).settle(GROUP)).filter((e) => e.action === 'pruned').map((e) => e.run?.name ?? ''));
      tekton.finish('ci', `keep-${push}`);
      // The reporter tells GitHub, then closes the report label; all but the last two runs.
      if (push <= 8) await markReported(`keep-${push}`);
    }
    pruned.push(...(await settlement(kube, true).settle(GROUP)).filter((e) => e.action === 'pruned').map((e) => e.run?.name ?? ''));
    const beforeReport = api.live().filter(inGroup()).map((r) => r.metadata.name);
    await markReported('keep-9');
    await markReported('keep-10');
    await settlement(kube, true).settle(GROUP);

    assert.deepEqual(beforeReport, ['keep-9', 'keep-10'], 'keep-8 and older are gone; 9 and 10 are the two newest');
    assert.deepEqual(pruned, ['keep-1', 'keep-2', 'keep-3', 'keep-4', 'keep-5', 'keep-6', 'keep-7', 'keep-8']);
    assert.deepEqual(api.live().filter(inGroup()).map((r) => r.metadata.name), ['keep-9', 'keep-10']);
  });

  it('what the API refuses (no delete in the Role) is named once per settlement, not tried again at once', async () => {
    const keep = { 'tekton-bridge/max-keep-runs': '1' };
    for (const push of [1, 2]) {
      await kube.create(groupRun(`refused-${push}`, { push, settings: keep }));
      tekton.finish('ci', `refused-${push}`);
    }
    let deletes = 0;
    const noDelete: KubernetesClient = { ...kube, delete: async () => (deletes += 1, { outcome: 'failed', retryable: false, reason: 'the bridge\'s role lacks RBAC: delete pipelineruns.tekton.dev in namespace ci' }) };

    const entries = await settlement(noDelete).settle(GROUP);

    assert.deepEqual(entries.map((e) => `${e.action} ${e.run?.name}`), ['failed refused-1']);
    assert.match(entries[0]?.reason ?? '', /^could not prune the run: the bridge's role lacks RBAC: delete/);
    assert.equal(deletes, 1);
  });

  it('the schedule settles every group with an active run from one list, and a group of another namespace is its own', async () => {
    await kube.create(groupRun('a-1', { push: 1, settings: ONE, group: 'a' }));
    await kube.create(groupRun('b-1', { push: 1, settings: ONE, group: 'b' }));
    await kube.create(groupRun('b-2', { push: 2, settings: ONE, group: 'b' }));

    const summary = await settlement().settleActive(['ci'], Date.now() + 30_000);

    assert.equal(summary.groups, 2);
    assert.deepEqual(phasesOf(api), { 'a-1': 'running', 'b-1': 'running', 'b-2': 'pending' });
    assert.ok(api.requests.some((r) => r.method === 'GET' && r.path.includes('labelSelector=tekton-bridge%2Fconcurrency%3Dactive')));
  });

  it('without max-keep-runs, finished runs other than the newest leave the active set, so the schedule does not list them for ever', async () => {
    for (let push = 1; push <= 3; push += 1) {
      await kube.create(groupRun(`retire-${push}`, { push, settings: ONE }));
      await settlement().settle(GROUP);
      tekton.finish('ci', `retire-${push}`);
    }
    await settlement().settle(GROUP);

    const labels = Object.fromEntries(api.live().map((r) => [r.metadata.name, r.metadata.labels?.['tekton-bridge/concurrency']]));
    assert.deepEqual(labels, { 'retire-1': 'retired', 'retire-2': 'retired', 'retire-3': 'active' });
  });

  it('a run named by an event is settled in its own group; a run of no group, or not the bridge\'s, changes nothing', async () => {
    await kube.create(groupRun('evented', { push: 1, settings: ONE }));
    await kube.create(groupRun('forged', { push: 2, settings: ONE, unsigned: true }));

    const settled = await settlement().settleGroupOf({ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name: 'evented' });
    const forged = await settlement().settleGroupOf({ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name: 'forged' });
    const missing = await settlement().settleGroupOf({ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name: 'nothing' });

    assert.deepEqual(settled.map((e) => e.action), ['ignored', 'started'], 'the forged one is named, and left alone');
    assert.deepEqual(forged.map((e) => e.action), ['ignored']);
    assert.deepEqual(missing, []);
    assert.deepEqual(phasesOf(api), { evented: 'running', forged: 'pending' });
  });

  async function markReported(name: string): Promise<void> {
    const run = api.find('ci', name) as KubernetesObject;
    assert.ok(groupOf(run));
    await kube.patch({ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name }, { type: 'merge', patch: { metadata: { resourceVersion: run.metadata.resourceVersion, labels: { 'tekton-bridge/report': 'done' } } } });
  }
});
