import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkRunBody,
  clipDescription,
  commitStatusBody,
  contextName,
  detailsUrlOf,
  detailsUrlTemplateProblem,
  reportTargetOf,
  type GithubReport,
} from '../../../functions/core/reporting/github-report.ts';

const SHA = '6113728f27ae82c7b1a177c8d03f9e96e0adf246';
const run = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name: 'build-run-7k2qx' };
const report = (state: GithubReport['state']): GithubReport => ({
  target: { owner: 'o', repo: 'r', commit: SHA, context: 'tekton-bridge/l/t', installationId: undefined },
  state,
  description: 'said',
  detailsUrl: 'https://d/x',
  run,
  checkRunId: undefined,
});

describe('what a report says', () => {
  it('names the context after the EventListener and trigger, numbering the second run of one trigger on', () => {
    assert.equal(contextName('github-push', 'default-branch'), 'tekton-bridge/github-push/default-branch');
    assert.equal(contextName('github-push', 'default-branch', 1), 'tekton-bridge/github-push/default-branch/2');
  });

  it('clips a description to 140 characters on a character boundary, on one line', () => {
    assert.equal(clipDescription('a\n b'), 'a b');
    const clipped = clipDescription('é'.repeat(139) + '🙂🙂');
    assert.equal(Array.from(clipped).length, 140);
    assert.ok(clipped.endsWith('…'));
    assert.equal(clipDescription('x'.repeat(140)), 'x'.repeat(140));
  });

  it('fills the details URL template, encoding each value, and refuses templates it cannot fill', () => {
    assert.equal(detailsUrlOf('https://tekton.example.com/#/namespaces/{namespace}/{kind}s/{name}', run), 'https://tekton.example.com/#/namespaces/ci/pipelineruns/build-run-7k2qx');
    assert.equal(detailsUrlOf('https://x/{name}', { ...run, name: 'a/b' }), 'https://x/a%2Fb');
    assert.equal(detailsUrlOf(undefined, run), undefined);
    assert.equal(detailsUrlOf('https://x/{name}', undefined), undefined);
    assert.equal(detailsUrlTemplateProblem('https://x/{namespace}/{name}'), undefined);
    assert.match(detailsUrlTemplateProblem('https://x/{pipeline}') ?? '', /unknown placeholder \{pipeline\}/);
    assert.match(detailsUrlTemplateProblem('ftp://x/{name}') ?? '', /http/);
    assert.match(detailsUrlTemplateProblem('not a url') ?? '', /not a URL/);
  });

  it('checks every part of a target before it goes into a GitHub path', () => {
    const ok = { repository: 'octo-org/hello.world', commit: SHA, context: 'c' };
    assert.deepEqual(reportTargetOf({ ...ok, installationId: '42' }), { owner: 'octo-org', repo: 'hello.world', commit: SHA, context: 'c', installationId: '42' });
    for (const [facts, reason] of [
      [{ ...ok, repository: 'octo-org/../admin' }, /not owner\/name/],
      [{ ...ok, repository: 'a/b/c' }, /not owner\/name/],
      [{ ...ok, repository: 'a/..' }, /not owner\/name/],
      [{ ...ok, repository: undefined }, /no repository/],
      [{ ...ok, commit: 'main' }, /not a SHA/],
      [{ ...ok, commit: '0'.repeat(40) }, /all zeros/],
      [{ ...ok, context: '' }, /no context/],
      [{ ...ok, installationId: '42; rm' }, /not a number/],
    ] as const) {
      assert.match(String(reportTargetOf(facts)), reason, JSON.stringify(facts));
    }
  });

  it('maps each state to a commit status and a check run as the contract says', () => {
    const rows: Array<[GithubReport['state'], string, string, string | undefined]> = [
      ['pending', 'pending', 'queued', undefined],
      ['running', 'pending', 'in_progress', undefined],
      ['success', 'success', 'completed', 'success'],
      ['failure', 'failure', 'completed', 'failure'],
      ['cancelled', 'error', 'completed', 'cancelled'],
      ['timed-out', 'error', 'completed', 'timed_out'],
      ['error', 'error', 'completed', 'failure'],
    ];
    for (const [state, status, checkStatus, conclusion] of rows) {
      assert.deepEqual(commitStatusBody(report(state)), { state: status, context: 'tekton-bridge/l/t', description: 'said', target_url: 'https://d/x' });
      const created = checkRunBody(report(state), '2026-01-01T00:00:00Z', true);
      assert.equal(created.status, checkStatus, state);
      assert.equal(created.conclusion, conclusion, state);
      assert.equal(created.name, 'tekton-bridge/l/t');
      assert.equal(created.head_sha, SHA);
      assert.equal(created.external_id, 'ci/build-run-7k2qx');
      assert.equal(created.completed_at, conclusion ? '2026-01-01T00:00:00Z' : undefined);
      const updated = checkRunBody(report(state), '2026-01-01T00:00:00Z', false);
      assert.equal(updated.name, undefined);
      assert.equal(updated.head_sha, undefined);
    }
  });
});
