import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runGithubInterceptor } from '../../functions/core/interceptors/github-interceptor.ts';
import type { GithubInterceptorConfig } from '../../functions/core/triggers-config.ts';
import { createEvaluationScope } from '../../functions/core/cel/evaluation-scope.ts';

// Rows of tektoncd/triggers v0.37.0 pkg/interceptors/github/github_test.go. The signature rows' signature part is
// the bridge's own check (verify-delivery), made before any trigger runs; only their event types are ported here.

function run(config: Partial<GithubInterceptorConfig>, event: string, payload: unknown = {}) {
  return runGithubInterceptor({ type: 'github', eventTypes: undefined, addChangedFiles: false, ...config }, { event, payload, headers: {}, celHeader: {}, extensions: {}, requestURL: '', scope: createEvaluationScope() });
}

describe('github_test.go TestInterceptor_ExecuteTrigger_Signature and _ShouldNotContinue: eventTypes', () => {
  const rows: [name: string, eventTypes: string[] | undefined, event: string, passes: boolean][] = [
    ['no secret (no eventTypes: every event passes)', undefined, 'push', true],
    ['no secret, matching event', ['MY_EVENT', 'YOUR_EVENT'], 'YOUR_EVENT', true],
    ['valid header for secret and matching event', ['MY_EVENT', 'YOUR_EVENT'], 'MY_EVENT', true],
    ['no secret, failing event', ['MY_EVENT', 'YOUR_EVENT'], 'OTHER_EVENT', false],
    ['valid header for secret, failing event', ['MY_EVENT', 'YOUR_EVENT'], 'OTHER_EVENT', false],
  ];
  for (const [name, eventTypes, event, passes] of rows) {
    it(name, () => {
      const outcome = run({ eventTypes }, event);
      assert.equal(outcome.continue, passes);
      if (!outcome.continue) assert.equal(outcome.reason, `github interceptor: event "${event}" is not one of: ${eventTypes?.join(', ')}`);
    });
  }
  it('an empty eventTypes list lets nothing through, as Tekton (a non-nil empty list)', () => {
    assert.equal(run({ eventTypes: [] }, 'push').continue, false);
  });
});

describe('github_test.go TestInterceptor_ExecuteTrigger_Changed_Files_Push', () => {
  const commit = {
    added: ['api/v1beta1/tektonhelperconfig_types.go', 'config/crd/bases/tekton-helper..com_tektonhelperconfigs.yaml'],
    removed: ['config/samples/tektonhelperconfig-oomkillpipeline.yaml', 'config/samples/tektonhelperconfig-timeout.yaml'],
    modified: ['controllers/tektonhelperconfig_controller.go'],
  };
  const body = (edit: Record<string, unknown> = {}) => ({
    repository: { full_name: 'testowner/testrepo', clone_url: 'https://github.com/testowner/testrepo.git' },
    commits: [{ ...commit, ...edit }],
  });
  const config = { eventTypes: ['pull_request', 'push'], addChangedFiles: true };
  it('changed_files', () => {
    assert.deepEqual(run(config, 'push', body()), {
      continue: true,
      extensions: {
        changed_files:
          'api/v1beta1/tektonhelperconfig_types.go,config/crd/bases/tekton-helper..com_tektonhelperconfigs.yaml,controllers/tektonhelperconfig_controller.go,config/samples/tektonhelperconfig-oomkillpipeline.yaml,config/samples/tektonhelperconfig-timeout.yaml',
      },
    });
  });
  for (const missing of ['added', 'removed', 'modified']) {
    it(`missing commits ${missing} json field, failure`, () => {
      assert.deepEqual(run(config, 'push', body({ [missing]: undefined })), {
        continue: false,
        failed: true,
        reason: `github interceptor: error parsing body: payload body missing 'commits.*.${missing}' field`,
      });
    });
  }
  // Not ported: "no context" and "no context with secretRef" (the bridge always has the delivery's context) and
  // "invalid secret" (the bridge reads no personalAccessToken for a push; check says so).
});

describe('github interceptor addChangedFiles for a pull request', () => {
  it('fails the trigger, saying the GitHub API is needed, until the bridge has GitHub credentials', () => {
    const outcome = run({ addChangedFiles: true }, 'pull_request', { number: 1, repository: { full_name: 'o/r' } });
    assert.equal(outcome.continue, false);
    assert.ok(!outcome.continue && outcome.failed);
    assert.match(!outcome.continue ? outcome.reason : '', /needs the GitHub API, which the bridge does not call yet/);
  });
  it('passes other events untouched, as Tekton adds changed files to pushes and pull requests only', () => {
    assert.deepEqual(run({ addChangedFiles: true }, 'issues'), { continue: true });
  });
});
