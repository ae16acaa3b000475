import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '../../../functions/core/delivery-types.ts';
import { decideGroup, type GroupAction } from '../../../functions/core/concurrency/group-decision.ts';
import { readMember, type GroupMember } from '../../../functions/core/concurrency/group-members.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const TOKEN = 'mine';
const context = { token: TOKEN, nowMs: NOW, leaseMs: 30_000, awaitReports: false };

type Phase = 'pending' | 'running' | 'stopping' | 'dropped' | 'succeeded' | 'failed';

interface RunSpec {
  name: string;
  /** Push time, seconds after NOW - 1 h. */
  push: number;
  phase: Phase;
  kind?: 'PipelineRun' | 'TaskRun';
  settings?: Record<string, string>;
  /** `<token> <seconds ago>` */
  claim?: string;
  queued?: boolean;
  awaitingReport?: boolean;
}

/** A run of group "main" as the API would hold it, in the given phase. */
function run(spec: RunSpec): GroupMember {
  const kind = spec.kind ?? 'PipelineRun';
  const pending = kind === 'TaskRun' ? 'TaskRunPending' : 'PipelineRunPending';
  const specStatus = { pending, running: undefined, stopping: 'CancelledRunFinally', dropped: 'Cancelled', succeeded: undefined, failed: undefined }[spec.phase];
  const condition =
    spec.phase === 'succeeded' ? { type: 'Succeeded', status: 'True', reason: 'Succeeded' } : spec.phase === 'failed' ? { type: 'Succeeded', status: 'False', reason: 'Failed' } : undefined;
  const pushedAt = new Date(NOW - 3_600_000 + spec.push * 1000).toISOString();
  const [claimToken, claimAgo] = spec.claim?.split(' ') ?? [];
  const object: KubernetesObject = {
    apiVersion: 'tekton.dev/v1',
    kind,
    metadata: {
      name: spec.name,
      namespace: 'ci',
      resourceVersion: `rv-${spec.name}`,
      labels: { 'tekton-bridge/concurrency': 'active', ...(spec.awaitingReport && { 'tekton-bridge/report': 'open' }) },
      annotations: {
        'tekton-bridge/concurrency-group': 'main',
        'tekton-bridge/push-order': `${pushedAt} -`,
        'tekton-bridge/commit': `${spec.name.padEnd(7, '0')}${'0'.repeat(33)}`,
        ...spec.settings,
        ...(spec.phase !== 'pending' && spec.phase !== 'dropped' && { 'tekton-bridge/started': '2026-06-01T11:00:00.000Z' }),
        ...(spec.claim && { 'tekton-bridge/starting': `${new Date(NOW - Number(claimAgo) * 1000).toISOString()} ${claimToken}` }),
        ...(spec.queued && { 'tekton-bridge/queued': 'waiting' }),
      },
    },
    spec: { pipelineRef: { name: 'build' }, ...(specStatus && { status: specStatus }) },
    ...(condition && { status: { conditions: [condition] } }),
  };
  const member = readMember(object);
  if (typeof member === 'string') throw new Error(member);
  return member;
}

/** The decision as `action name [spec.status]`, in order. */
function summary(actions: readonly GroupAction[]): string[] {
  return actions.map((a) => {
    const status = 'patch' in a && a.patch.spec ? ` ${a.patch.spec.status ?? 'cleared'}` : '';
    return `${a.action} ${a.member.name}${status}`;
  });
}

const CANCEL = { 'tekton-bridge/cancel-in-progress': 'true' };
const ONE = { 'tekton-bridge/max-running': '1' };

describe('decideGroup: one round of a concurrency group', () => {
  const rows: { name: string; runs: RunSpec[]; wait?: boolean; expect: string[]; options?: Partial<typeof context> }[] = [
    {
      name: 'cancel-in-progress, three pushes just created: the two older are cancelled without ever starting, the newest starts',
      runs: [
        { name: 'c', push: 3, phase: 'pending', settings: CANCEL },
        { name: 'a', push: 1, phase: 'pending', settings: CANCEL },
        { name: 'b', push: 2, phase: 'pending', settings: CANCEL },
      ],
      expect: ['cancel a Cancelled', 'cancel b Cancelled', 'start c cleared'],
    },
    {
      name: 'cancel-in-progress: a running older push is cancelled with its own cancel-status, so its finally tasks run',
      runs: [
        { name: 'a', push: 1, phase: 'running', settings: { ...CANCEL, 'tekton-bridge/cancel-status': 'CancelledRunFinally' } },
        { name: 'b', push: 2, phase: 'pending', settings: CANCEL },
      ],
      expect: ['cancel a CancelledRunFinally', 'start b cleared'],
    },
    {
      name: 'a stale push arriving after the newest finished is cancelled, never started',
      runs: [
        { name: 'new', push: 5, phase: 'succeeded', settings: CANCEL },
        { name: 'stale', push: 3, phase: 'pending', settings: CANCEL },
      ],
      expect: ['cancel stale Cancelled'],
    },
    {
      name: 'the newest push is never cancelled, whatever its state: an older run that is stopping is left to stop',
      runs: [
        { name: 'old', push: 1, phase: 'stopping', settings: CANCEL },
        { name: 'newest', push: 9, phase: 'running', settings: CANCEL },
      ],
      expect: [],
    },
    {
      name: 'cancel-in-progress with max-running 1: the newest waits while a cancelled run still stops',
      runs: [
        { name: 'old', push: 1, phase: 'stopping', settings: { ...CANCEL, ...ONE } },
        { name: 'new', push: 2, phase: 'pending', settings: { ...CANCEL, ...ONE } },
      ],
      expect: ['queue new'],
    },
    {
      name: 'a run cancelled before it ever started takes no slot: the newest starts under max-running 1',
      runs: [
        { name: 'old', push: 1, phase: 'dropped', settings: { ...CANCEL, ...ONE } },
        { name: 'new', push: 2, phase: 'pending', settings: { ...CANCEL, ...ONE } },
      ],
      expect: ['claim new'],
    },
    {
      name: 'max-running 1, nothing running: only the oldest push is claimed; the others are told why next round',
      runs: [
        { name: 'b', push: 2, phase: 'pending', settings: ONE },
        { name: 'a', push: 1, phase: 'pending', settings: ONE },
        { name: 'c', push: 3, phase: 'pending', settings: ONE },
      ],
      expect: ['claim a'],
    },
    {
      name: 'max-running 1, our claim is the only one: it starts, and the rest are queued in push order',
      runs: [
        { name: 'a', push: 1, phase: 'pending', settings: ONE, claim: `${TOKEN} 1` },
        { name: 'b', push: 2, phase: 'pending', settings: ONE },
        { name: 'c', push: 3, phase: 'pending', settings: ONE },
      ],
      expect: ['start a cleared', 'queue b', 'queue c'],
    },
    {
      name: 'max-running 1, another bridge claimed an older push too: ours is withdrawn',
      runs: [
        { name: 'a', push: 1, phase: 'pending', settings: ONE, claim: 'theirs 1' },
        { name: 'b', push: 2, phase: 'pending', settings: ONE, claim: `${TOKEN} 1` },
      ],
      expect: ['withdraw b'],
    },
    {
      name: 'max-running 1, ours is the older claim: we wait for theirs to be withdrawn, and start nothing yet',
      runs: [
        { name: 'a', push: 1, phase: 'pending', settings: ONE, claim: `${TOKEN} 1` },
        { name: 'b', push: 2, phase: 'pending', settings: ONE, claim: 'theirs 1' },
      ],
      wait: true,
      expect: [],
    },
    {
      name: 'max-running 1, another bridge holds a live claim: nothing is claimed, and that run is not marked queued',
      runs: [
        { name: 'a', push: 1, phase: 'pending', settings: ONE, claim: 'theirs 5' },
        { name: 'b', push: 2, phase: 'pending', settings: ONE },
      ],
      expect: ['queue b'],
    },
    {
      name: 'a claim older than the lease is released first, and nothing else is decided on that view',
      runs: [
        { name: 'a', push: 1, phase: 'pending', settings: ONE, claim: 'dead 31' },
        { name: 'b', push: 2, phase: 'pending', settings: ONE },
      ],
      expect: ['release a'],
    },
    {
      name: 'max-running 2 with one running: one slot, one claim',
      runs: [
        { name: 'r', push: 1, phase: 'running', settings: { 'tekton-bridge/max-running': '2' } },
        { name: 'a', push: 2, phase: 'pending', settings: { 'tekton-bridge/max-running': '2' } },
        { name: 'b', push: 3, phase: 'pending', settings: { 'tekton-bridge/max-running': '2' } },
      ],
      expect: ['claim a'],
    },
    {
      name: 'max-running 1 with one running: the waiting runs are told why once; one told already is left alone',
      runs: [
        { name: 'r', push: 1, phase: 'running', settings: ONE },
        { name: 'a', push: 2, phase: 'pending', settings: ONE, queued: true },
        { name: 'b', push: 3, phase: 'pending', settings: ONE },
      ],
      expect: ['queue b'],
    },
    {
      name: 'a started run that is stopping still counts against max-running',
      runs: [
        { name: 'r', push: 1, phase: 'stopping', settings: ONE },
        { name: 'a', push: 2, phase: 'pending', settings: ONE },
      ],
      expect: ['queue a'],
    },
    {
      name: 'the newest push rules: its max-running 1 holds, though an older run allowed 5',
      runs: [
        { name: 'r', push: 1, phase: 'running', settings: { 'tekton-bridge/max-running': '5' } },
        { name: 'a', push: 2, phase: 'pending', settings: ONE },
      ],
      expect: ['queue a'],
    },
    {
      name: 'no max-running and no cancel-in-progress: every waiting run starts',
      runs: [
        { name: 'a', push: 1, phase: 'pending', settings: { 'tekton-bridge/max-keep-runs': '9' } },
        { name: 'b', push: 2, phase: 'pending', settings: { 'tekton-bridge/max-keep-runs': '9' } },
      ],
      expect: ['start a cleared', 'start b cleared'],
    },
    {
      name: 'max-keep-runs 2: finished runs beyond the two newest are deleted, oldest first; running ones never',
      runs: [
        { name: 'f1', push: 1, phase: 'succeeded', settings: { 'tekton-bridge/max-keep-runs': '2' } },
        { name: 'f2', push: 2, phase: 'failed', settings: { 'tekton-bridge/max-keep-runs': '2' } },
        { name: 'f3', push: 3, phase: 'succeeded', settings: { 'tekton-bridge/max-keep-runs': '2' } },
        { name: 'f4', push: 4, phase: 'succeeded', settings: { 'tekton-bridge/max-keep-runs': '2' } },
        { name: 'r5', push: 5, phase: 'running', settings: { 'tekton-bridge/max-keep-runs': '2' } },
      ],
      expect: ['prune f2', 'prune f1'],
    },
    {
      name: 'max-keep-runs waits for GitHub to hear a finished run\'s final state before deleting it',
      runs: [
        { name: 'f1', push: 1, phase: 'succeeded', settings: { 'tekton-bridge/max-keep-runs': '1' }, awaitingReport: true },
        { name: 'f2', push: 2, phase: 'succeeded', settings: { 'tekton-bridge/max-keep-runs': '1' } },
        { name: 'f0', push: 0, phase: 'succeeded', settings: { 'tekton-bridge/max-keep-runs': '1' } },
      ],
      options: { awaitReports: true },
      expect: ['prune f0'],
    },
    {
      name: 'without max-keep-runs, finished runs other than the newest push leave the working set',
      runs: [
        { name: 'f1', push: 1, phase: 'succeeded', settings: ONE },
        { name: 'f2', push: 2, phase: 'succeeded', settings: ONE },
      ],
      expect: ['retire f1'],
    },
    {
      name: 'a TaskRun that never started is cancelled with TaskRunCancelled',
      runs: [
        { name: 'a', push: 1, phase: 'pending', kind: 'TaskRun', settings: CANCEL },
        { name: 'b', push: 2, phase: 'pending', kind: 'TaskRun', settings: CANCEL },
      ],
      expect: ['cancel a TaskRunCancelled', 'start b cleared'],
    },
  ];

  for (const row of rows) {
    it(row.name, () => {
      // Prepare
      const members = row.runs.map(run);

      // Act
      const decision = decideGroup(members, { ...context, ...row.options });

      // Assess
      assert.deepEqual(summary(decision.actions), row.expect);
      assert.equal(decision.wait, row.wait ?? false);
    });
  }

  it('every patch is conditional on the resourceVersion read, and says why', () => {
    const decision = decideGroup([run({ name: 'a', push: 1, phase: 'pending', settings: CANCEL }), run({ name: 'b', push: 2, phase: 'pending', settings: CANCEL })], context);
    for (const action of decision.actions) {
      assert.ok('patch' in action);
      assert.equal(action.patch.metadata.resourceVersion, `rv-${action.member.name}`);
    }
    const cancel = decision.actions.find((a) => a.action === 'cancel');
    assert.equal(cancel && 'reason' in cancel ? cancel.reason : '', 'superseded by a newer push in group main: PipelineRun b (commit b000000)');
    assert.equal(cancel && 'patch' in cancel ? cancel.patch.metadata.annotations?.['tekton-bridge/cancelled'] : '', 'superseded by a newer push in group main: PipelineRun b (commit b000000)');
    const start = decision.actions.find((a) => a.action === 'start');
    assert.equal(start && 'patch' in start ? start.patch.metadata.annotations?.['tekton-bridge/started'] : '', '2026-06-01T12:00:00.000Z');
  });

  it('a queued run is told its place and what it waits for', () => {
    const decision = decideGroup(
      [run({ name: 'r', push: 1, phase: 'running', settings: ONE }), run({ name: 'a', push: 2, phase: 'pending', settings: ONE }), run({ name: 'b', push: 3, phase: 'pending', settings: ONE })],
      context,
    );
    assert.deepEqual(
      decision.actions.map((a) => ('reason' in a ? a.reason : '')),
      ['max-running 1 reached in group main; 1st in line', 'max-running 1 reached in group main; 2nd in line'],
    );
  });
});
