import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubernetesObject } from '../../../functions/core/delivery-types.ts';
import { documentsUseGroups, groupLabelValue, groupOf, joinGroup, readGroupSettings } from '../../../functions/core/concurrency/group-annotations.ts';
import { comparePushOrder, pushOrderOf, readPushOrder } from '../../../functions/core/concurrency/push-order.ts';
import { githubExample, pushToDefaultBranch } from '../../support/github-examples.ts';

function runWith(annotations: Record<string, string>, kind = 'PipelineRun', spec: Record<string, unknown> = {}): KubernetesObject {
  return { apiVersion: 'tekton.dev/v1', kind, metadata: { name: 'r', namespace: 'ci', annotations }, spec: { pipelineRef: { name: 'p' }, ...spec } };
}

describe('concurrency group annotations', () => {
  it('read with defaults: no limit, no pruning, cancel with Cancelled (TaskRunCancelled for a TaskRun)', () => {
    assert.deepEqual(readGroupSettings('PipelineRun', { 'tekton-bridge/concurrency-group': 'repo-main' }), {
      settings: { group: 'repo-main', cancelInProgress: false, maxRunning: undefined, maxKeepRuns: undefined, cancelStatus: 'Cancelled' },
      problems: [],
    });
    assert.equal(readGroupSettings('TaskRun', { 'tekton-bridge/concurrency-group': 'g' }).settings?.cancelStatus, 'TaskRunCancelled');
    assert.deepEqual(readGroupSettings('PipelineRun', { other: 'x' }), { settings: undefined, problems: [] });
  });

  const bad: { name: string; kind?: string; annotations: Record<string, unknown>; annotation: string; message: RegExp }[] = [
    { name: 'cancel-in-progress not a boolean', annotations: { 'tekton-bridge/concurrency-group': 'g', 'tekton-bridge/cancel-in-progress': 'yes' }, annotation: 'tekton-bridge/cancel-in-progress', message: /expected "true" or "false", got "yes"/ },
    { name: 'max-running 0', annotations: { 'tekton-bridge/concurrency-group': 'g', 'tekton-bridge/max-running': '0' }, annotation: 'tekton-bridge/max-running', message: /whole number from 1 to 9999, got "0"/ },
    { name: 'max-keep-runs not a number', annotations: { 'tekton-bridge/concurrency-group': 'g', 'tekton-bridge/max-keep-runs': 'five' }, annotation: 'tekton-bridge/max-keep-runs', message: /got "five"/ },
    { name: 'a number, not a string, in YAML', annotations: { 'tekton-bridge/concurrency-group': 'g', 'tekton-bridge/max-running': 1 }, annotation: 'tekton-bridge/max-running', message: /expected a string \(quote it in YAML\)/ },
    { name: 'a PipelineRun cancel status on a TaskRun', kind: 'TaskRun', annotations: { 'tekton-bridge/concurrency-group': 'g', 'tekton-bridge/cancel-status': 'CancelledRunFinally' }, annotation: 'tekton-bridge/cancel-status', message: /a TaskRun is cancelled with "TaskRunCancelled"/ },
    { name: 'an unknown cancel status', annotations: { 'tekton-bridge/concurrency-group': 'g', 'tekton-bridge/cancel-status': 'Stop' }, annotation: 'tekton-bridge/cancel-status', message: /"Cancelled", "CancelledRunFinally", "StoppedRunFinally"; got "Stop"/ },
    { name: 'an empty group', annotations: { 'tekton-bridge/concurrency-group': ' ' }, annotation: 'tekton-bridge/concurrency-group', message: /1 to 256 characters/ },
    { name: 'a setting without a group', annotations: { 'tekton-bridge/max-running': '1' }, annotation: 'tekton-bridge/max-running', message: /needs tekton-bridge\/concurrency-group/ },
  ];
  for (const row of bad) {
    it(`names the annotation: ${row.name}`, () => {
      const { settings, problems } = readGroupSettings(row.kind ?? 'PipelineRun', row.annotations);
      assert.equal(settings, undefined);
      assert.equal(problems[0]?.annotation, row.annotation);
      assert.match(problems[0]?.message ?? '', row.message);
    });
  }

  it('check skips values made from params; they are judged once rendered', () => {
    assert.deepEqual(readGroupSettings('PipelineRun', { 'tekton-bridge/concurrency-group': '$(tt.params.repo)', 'tekton-bridge/max-running': '$(tt.params.n)' }, { skipTemplated: true }).problems, []);
  });

  it('a run joins its group waiting, labelled for the list, with its push order; a run with no group is left as it is', () => {
    const joined = joinGroup(runWith({ 'tekton-bridge/concurrency-group': 'repo-main', 'tekton-bridge/push-order': 'forged' }), '2026-06-01T12:00:00.000Z -');
    assert.ok(joined.ok);
    assert.equal((joined.object.spec as { status?: string }).status, 'PipelineRunPending');
    assert.deepEqual(joined.object.metadata.labels, { 'tekton-bridge/concurrency-group': groupLabelValue('repo-main'), 'tekton-bridge/concurrency': 'active' });
    assert.equal(joined.object.metadata.annotations?.['tekton-bridge/push-order'], '2026-06-01T12:00:00.000Z -', 'the template cannot choose its place');
    assert.match(groupLabelValue('repo-main'), /^[0-9a-f]{40}$/);
    assert.deepEqual(groupOf(joined.object), { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', group: 'repo-main', label: groupLabelValue('repo-main') });
    const task = joinGroup(runWith({ 'tekton-bridge/concurrency-group': 'g' }, 'TaskRun'), undefined);
    assert.ok(task.ok);
    assert.equal((task.object.spec as { status?: string }).status, 'TaskRunPending');
    assert.equal(task.object.metadata.annotations?.['tekton-bridge/push-order'], undefined);
    const plain = runWith({});
    assert.ok(joinGroup(plain, 'x').ok && (joinGroup(plain, 'x') as { object: KubernetesObject }).object === plain);
  });

  it('a run of a group may not set spec.status itself; a bad rendered value fails with the annotation named', () => {
    const withStatus = joinGroup(runWith({ 'tekton-bridge/concurrency-group': 'g' }, 'PipelineRun', { status: 'PipelineRunPending' }), undefined);
    assert.equal(withStatus.ok, false);
    assert.match(withStatus.ok ? '' : withStatus.reason, /spec.status is set .* the concurrency group "g" decides when its runs start/);
    const bad = joinGroup(runWith({ 'tekton-bridge/concurrency-group': 'g', 'tekton-bridge/max-running': '-1' }), undefined);
    assert.match(bad.ok ? '' : bad.reason, /annotation tekton-bridge\/max-running expected a whole number/);
  });

  it('a label that does not match its group name is no group at all', () => {
    const joined = joinGroup(runWith({ 'tekton-bridge/concurrency-group': 'g' }), undefined);
    assert.ok(joined.ok);
    joined.object.metadata.labels = { ...joined.object.metadata.labels, 'tekton-bridge/concurrency-group': groupLabelValue('other') };
    assert.equal(groupOf(joined.object), undefined);
  });

  it('tells a config that uses groups from one that does not', () => {
    const template = (annotations: Record<string, string>) => ({ value: { kind: 'TriggerTemplate', spec: { resourcetemplates: [{ metadata: { annotations } }] } } });
    assert.equal(documentsUseGroups([template({ 'tekton-bridge/concurrency-group': 'g' })]), true);
    assert.equal(documentsUseGroups([template({}), { value: { kind: 'EventListener' } }]), false);
  });
});

describe('push order', () => {
  it('a push is ordered by its signed repository.pushed_at, then its head commit time', () => {
    const push = pushToDefaultBranch();
    push.repository.pushed_at = 1764072000;
    push.head_commit.timestamp = '2025-11-25T12:00:00+01:00';
    assert.equal(pushOrderOf(push), '2025-11-25T12:00:00.000Z 2025-11-25T11:00:00.000Z');
  });

  it('a pull request by pull_request.updated_at; a payload with no time has no order (it sorts oldest)', () => {
    const pull = githubExample('pull_request', (p) => p.action === 'synchronize');
    assert.equal(pushOrderOf(pull), `${new Date(pull.pull_request.updated_at).toISOString()} -`);
    assert.equal(pushOrderOf({ repository: {} }), undefined);
    assert.deepEqual(readPushOrder(undefined), { pushedMs: -Infinity, committedMs: -Infinity });
  });

  it('sorts older first, the commit time and then the name breaking ties', () => {
    const at = (order: string, name: string) => ({ order: readPushOrder(order), name });
    const runs = [at('2026-01-01T00:00:02.000Z -', 'b'), at('2026-01-01T00:00:01.000Z 2026-01-01T00:00:00.000Z', 'z'), at('2026-01-01T00:00:01.000Z -', 'y'), at('2026-01-01T00:00:02.000Z -', 'a'), at('', 'none')];
    assert.deepEqual(runs.sort(comparePushOrder).map((r) => r.name), ['none', 'y', 'z', 'a', 'b']);
  });
});
