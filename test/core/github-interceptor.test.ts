import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCelFeatureModules } from '../../functions/adapters/cel-feature-modules.ts';
import { runGithubInterceptor } from '../../functions/core/interceptors/github-interceptor.ts';
import { githubInterceptorLookups, lookupKey, type GithubLookupAnswer, type GithubLookups } from '../../functions/core/interceptors/github-lookups.ts';
import { decodeOwnersFile } from '../../functions/core/interceptors/github-owners.ts';
import { ownersPayload } from '../../functions/core/interceptors/github-payload.ts';
import type { GithubInterceptorConfig } from '../../functions/core/triggers-config.ts';
import { createEvaluationScope } from '../../functions/core/cel/evaluation-scope.ts';

// Rows of tektoncd/triggers v0.37.0 pkg/interceptors/github/github_test.go. The signature rows' signature part is
// the bridge's own check (verify-delivery), made before any trigger runs; only their event types are ported here.

/**
 * What GitHub holds, as the Go tests' httptest servers answer: a pull request's files, the org's public members, the
 * repository's collaborators, the OWNERS file (its text; `undefined` for none, a number for an HTTP error).
 */
interface FakeGithub {
  files?: string[];
  publicMembers?: string[];
  collaborators?: string[];
  owners?: string | number;
}

const yaml = createCelFeatureModules().yaml();

/** The answers the adapter would fetch for what the interceptor plans to ask. */
function answers(config: GithubInterceptorConfig, event: string, payload: unknown, github: FakeGithub): GithubLookups {
  const answer = (lookup: ReturnType<typeof githubInterceptorLookups>[number]): GithubLookupAnswer => {
    switch (lookup.kind) {
      case 'pull-request-files':
        return { ok: true, kind: lookup.kind, files: github.files ?? [] };
      case 'public-member':
        return { ok: true, kind: lookup.kind, member: (github.publicMembers ?? []).includes(lookup.user) };
      case 'collaborator':
        return { ok: true, kind: lookup.kind, member: (github.collaborators ?? []).includes(lookup.user) };
      case 'owners-file': {
        if (typeof github.owners === 'number') return { ok: false, reason: `GitHub answered ${github.owners} to GET /repos/{owner}/{repo}/contents/{path}: Server Error` };
        const owners = github.owners === undefined ? undefined : decodeOwnersFile(yaml, github.owners);
        return owners !== undefined && 'error' in owners ? { ok: false, reason: owners.error } : { ok: true, kind: lookup.kind, owners };
      }
    }
  };
  return new Map(githubInterceptorLookups(config, event, payload).map((lookup) => [lookupKey(lookup), answer(lookup)]));
}

function run(partial: Partial<GithubInterceptorConfig>, event: string, payload: unknown = {}, github?: FakeGithub | GithubLookups) {
  const config: GithubInterceptorConfig = { type: 'github', eventTypes: undefined, addChangedFiles: false, ...partial };
  const lookups = github instanceof Map ? github : github ? answers(config, event, payload, github as FakeGithub) : undefined;
  return runGithubInterceptor(config, { event, payload, headers: {}, celHeader: {}, extensions: {}, requestURL: '', scope: createEvaluationScope(), github: lookups });
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

describe('github_test.go TestInterceptor_ExecuteTrigger_Changed_Files_Pull_Request', () => {
  const config = { eventTypes: ['pull_request', 'push'], addChangedFiles: true };
  const files = ['terraform/envs/dev/main.tf', 'terraform/envs/prod/main.tf', 'terraform/envs/qa/main.tf'];
  const pr = { action: 'opened', number: 1, pull_request: { head: { sha: '28911bbb5' } }, repository: { full_name: 'testowner/testrepo', clone_url: 'https://github.com/testowner/testrepo.git' } };
  it('changed_files', () => {
    assert.deepEqual(run(config, 'pull_request', pr, { files }), {
      continue: true,
      extensions: { changed_files: 'terraform/envs/dev/main.tf,terraform/envs/prod/main.tf,terraform/envs/qa/main.tf' },
    });
  });
  const parseRows: [name: string, body: unknown, message: string][] = [
    ["pull request, missing 'number' json field", { ...pr, number: undefined }, "pull_request body missing 'number' field"],
    ['missing repository json field, failure', { ...pr, repository: undefined }, "payload body missing 'repository' field"],
    ['missing full_name json field, failure', { ...pr, repository: { clone_url: 'https://github.com/testowner/testrepo.git' } }, "payload body missing 'repository.full_name' field"],
  ];
  for (const [name, body, message] of parseRows) {
    it(name, () => {
      assert.deepEqual(run(config, 'pull_request', body, { files }), { continue: false, failed: true, reason: `github interceptor: error parsing body: ${message}` });
    });
  }
  it('event type not push or pull_request, failure (it passes, with no changed_files)', () => {
    assert.deepEqual(run({ ...config, eventTypes: ['pull_request', 'push', 'nothing'] }, 'nothing', { ...pr, repository: { clone_url: 'x' } }, { files }), { continue: true });
  });
  // "empty body, failure" and "non json body, failure": the bridge answers such a delivery 400 before any trigger
  // runs (test/core/handle-delivery.test.ts); "invalid secret": the bridge reads no Kubernetes Secret but its own
  // GitHub credentials, and without them the trigger fails as below.

  it('what GitHub could not answer fails the trigger with the reason, never an empty list', () => {
    const down: GithubLookups = new Map([[lookupKey({ kind: 'pull-request-files', repository: { owner: 'testowner', repo: 'testrepo' }, number: 1 }), { ok: false, reason: 'GitHub answered 502 to GET /repos/{owner}/{repo}/pulls/{pull_number}/files: Bad Gateway' }]]);
    assert.deepEqual(run(config, 'pull_request', pr, down), {
      continue: false,
      failed: true,
      reason: 'github interceptor: error getting changed files: GitHub answered 502 to GET /repos/{owner}/{repo}/pulls/{pull_number}/files: Bad Gateway',
    });
    assert.match((run(config, 'pull_request', pr) as { reason: string }).reason, /error getting changed files: they were not looked up/);
  });
  it('passes other events untouched, as Tekton adds changed files to pushes and pull requests only', () => {
    assert.deepEqual(run({ addChangedFiles: true }, 'issues'), { continue: true });
  });
  it('asks for nothing on a push: its files are in the payload', () => {
    assert.deepEqual(githubInterceptorLookups({ type: 'github', eventTypes: undefined, addChangedFiles: true }, 'push', { repository: { full_name: 'o/r' }, commits: [] }), []);
  });
});

describe('github_test.go TestInterceptor_ExecuteTrigger_owners', () => {
  const OWNERS = 'approvers:\r\n- test_owner';
  const comment = (body: string, login: string) => ({ action: 'created', issue: { number: 1 }, comment: { body }, repository: { full_name: 'owner/repo' }, sender: { login } });
  const pullRequest = (login: string) => ({ action: 'opened', number: 1, repository: { full_name: 'owner/repo', clone_url: 'https://github.com/owner/repo.git' }, sender: { login } });
  const eventTypes = ['pull_request', 'issue_comment'];
  // "sender is a collaborator but PersonalAccessToken not supplied" is a check error here (test/core/load-triggers-config.test.ts).
  const rows: [name: string, checkType: string, event: string, body: unknown, github: FakeGithub, allowed: boolean][] = [
    ['owners file have sender', 'none', 'issue_comment', comment('/ok-to-test', 'test_owner'), { owners: OWNERS }, true],
    ['sender is a repository member', 'repoMembers', 'issue_comment', comment('/ok-to-test', 'test_owner'), { owners: OWNERS, collaborators: ['test_owner'] }, true],
    ['sender is a organization member', 'orgMembers', 'pull_request', pullRequest('test_owner'), { owners: OWNERS, publicMembers: ['test_owner'] }, true],
    ['owners file does not have sender', 'none', 'issue_comment', comment('/ok-to-test', 'nonowner'), { owners: OWNERS }, false],
    ['owners file have sender and sender commented /ok-to-test', 'none', 'issue_comment', comment('/ok-to-test', 'test_owner'), { owners: OWNERS }, true],
    ['owners file have sender and owner commented /random', 'none', 'issue_comment', comment('/random', 'test_owner'), { owners: OWNERS }, false],
    ['owners file does not have sender and nonowner commented /ok-to-test', 'none', 'issue_comment', comment('/ok-to-test', 'nonowner'), { owners: OWNERS }, false],
    ['pull request submitted by owner', 'none', 'pull_request', pullRequest('test_owner'), { owners: OWNERS, collaborators: ['test_owner'] }, true],
    ['sender is not a repository member', 'repoMembers', 'pull_request', pullRequest('nonowner'), { owners: OWNERS, collaborators: ['test_owner'] }, false],
    ['sender is not a organization member', 'orgMembers', 'pull_request', pullRequest('nonowner'), { owners: OWNERS, publicMembers: ['test_owner'] }, false],
    // Beyond the Go rows: the same questions, as Tekton's code asks them.
    ['all: a collaborator who is no public member passes', 'all', 'pull_request', pullRequest('dev'), { collaborators: ['dev'] }, true],
    ['all: neither, and no OWNERS file', 'all', 'pull_request', pullRequest('dev'), {}, false],
    ['an approver listed in other case passes (EqualFold)', 'none', 'pull_request', pullRequest('Test_Owner'), { owners: OWNERS }, true],
    ['a reviewer passes too', 'none', 'pull_request', pullRequest('rev'), { owners: 'approvers: [a]\nreviewers: [rev]' }, true],
    ['an issue comment from a member still needs /ok-to-test', 'orgMembers', 'issue_comment', comment('LGTM', 'test_owner'), { publicMembers: ['test_owner'] }, false],
    ['/ok-to-test must stand on a line of its own', 'none', 'issue_comment', comment('please /ok-to-test', 'test_owner'), { owners: OWNERS }, false],
    ['/ok-to-test on a later line, CRLF', 'none', 'issue_comment', comment('looks right\r\n/ok-to-test\r\nthanks', 'test_owner'), { owners: OWNERS }, true],
    ['a pull request from a non-owner passes on no comment', 'none', 'pull_request', pullRequest('nonowner'), { owners: OWNERS }, false],
    ['an unknown checkType consults only the OWNERS file', 'both', 'pull_request', pullRequest('test_owner'), { owners: OWNERS, collaborators: [] }, true],
  ];
  for (const [name, checkType, event, body, github, allowed] of rows) {
    it(name, () => {
      const outcome = run({ eventTypes, owners: { checkType } }, event, body, github);
      if (allowed) assert.deepEqual(outcome, { continue: true });
      else {
        assert.equal(outcome.continue, false);
        assert.ok(!outcome.continue && !outcome.failed, 'a sender who does not pass is skipped, not failed');
        assert.match(!outcome.continue ? outcome.reason : '', /^github interceptor: owners check requirements not met \(sender "\w+"\)$/);
      }
    });
  }
  it('asks GitHub only what the checkType names, then the OWNERS file', () => {
    const asked = (checkType: string) => githubInterceptorLookups({ type: 'github', eventTypes, addChangedFiles: false, owners: { checkType } }, 'pull_request', pullRequest('dev')).map((l) => l.kind);
    assert.deepEqual(asked('none'), ['owners-file']);
    assert.deepEqual(asked('orgMembers'), ['public-member', 'owners-file']);
    assert.deepEqual(asked('repoMembers'), ['collaborator', 'owners-file']);
    assert.deepEqual(asked('all'), ['public-member', 'collaborator', 'owners-file']);
  });
  it('other events pass untouched, and ask nothing', () => {
    assert.deepEqual(run({ owners: { checkType: 'none' } }, 'push', pullRequest('x'), {}), { continue: true });
    assert.deepEqual(githubInterceptorLookups({ type: 'github', eventTypes: undefined, addChangedFiles: false, owners: { checkType: 'all' } }, 'push', pullRequest('x')), []);
  });
});

describe('github_test.go TestInterceptor_ExecuteTrigger_owners_parseBodyForOwners', () => {
  const base = { action: 'created', issue: { number: 1 }, comment: { body: '/ok-to-test' }, repository: { full_name: 'owner/repo' }, sender: { login: 'test_owner' } };
  const without = (key: string) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key));
  const rows: [name: string, event: string, body: unknown, error: string | undefined][] = [
    // "No payload supplied": the bridge answers an empty body 400 before any trigger runs.
    ['PR number missing on the payload', 'pull_request', { action: 'opened', repository: { full_name: 'owner/repo' }, sender: { login: 'test_owner' } }, "pull_request body missing 'number' field"],
    ['Issue comment missing issue on the payload', 'issue_comment', without('issue'), "issue_comment body missing 'issue' section"],
    ['Issue comment missing issue number on the payload', 'issue_comment', { ...base, issue: {} }, "'number' field missing in the issue section of issue_comment body"],
    ['Payload body missing repository field', 'issue_comment', without('repository'), "payload body missing 'repository' field"],
    ['Payload body missing full_name in repository field', 'issue_comment', { ...base, repository: {} }, "payload body missing 'repository.full_name' field"],
    ['Payload body missing sender field', 'issue_comment', without('sender'), "payload body missing 'sender' field"],
    ["Issue_comment missing 'comment' section", 'issue_comment', without('comment'), "issue_comment body missing 'comment' section"],
    ['Issue_comment missing body field in comment section', 'issue_comment', { ...base, comment: {} }, "'body' field missing in the comment section of issue_comment body"],
    ['Payload return with all details issue_comment', 'issue_comment', base, undefined],
  ];
  for (const [name, event, body, error] of rows) {
    it(name, () => {
      const parsed = ownersPayload(body, event);
      if (error === undefined) assert.deepEqual(parsed, { ok: true, owner: 'owner', repo: 'repo', number: 1, sender: 'test_owner', commentBody: '/ok-to-test' });
      else {
        assert.deepEqual(parsed, { ok: false, error });
        assert.deepEqual(run({ owners: { checkType: 'none' } }, event, body, {}), { continue: false, failed: true, reason: `github interceptor: error parsing body: ${error}` });
      }
    });
  }
  it('where Go would panic on a field of the wrong type, says so', () => {
    assert.deepEqual(ownersPayload({ ...base, issue: { number: '1' } }, 'issue_comment'), { ok: false, error: "payload body 'number' field in the issue section is not a number" });
    assert.deepEqual(ownersPayload({ ...base, repository: { full_name: 'no-slash' } }, 'issue_comment'), { ok: false, error: 'payload body \'repository.full_name\' is not owner/name: "no-slash"' });
  });
});

describe('github_test.go TestInterceptor_ExecuteTrigger_owners_data_validation', () => {
  const comment = { action: 'created', issue: { number: 1 }, comment: { body: '/ok-to-test' }, repository: { full_name: 'owner/repo' }, sender: { login: 'test_owner' } };
  const owners = { eventTypes: ['pull_request', 'issue_comment'], owners: { checkType: 'none' } };
  // "personalAccessToken secretKey is empty" is a check error (test/core/load-triggers-config.test.ts); "no context"
  // cannot happen (the bridge always has the delivery).
  it('error parsing payload body', () => {
    assert.deepEqual(run(owners, 'pull_request', { action: 'opened', repository: { full_name: 'owner/repo' }, sender: { login: 'test_owner' } }, {}), {
      continue: false,
      failed: true,
      reason: "github interceptor: error parsing body: pull_request body missing 'number' field",
    });
  });
  it('no owners file', () => {
    const outcome = run(owners, 'issue_comment', comment, {});
    assert.equal(outcome.continue, false);
    assert.ok(!outcome.continue && !outcome.failed);
  });
  it('error checking owner file validation (GitHub answered 500)', () => {
    assert.deepEqual(run(owners, 'issue_comment', comment, { owners: 500 }), {
      continue: false,
      failed: true,
      reason: 'github interceptor: error checking owner verification: GitHub answered 500 to GET /repos/{owner}/{repo}/contents/{path}: Server Error',
    });
  });
  it('an OWNERS file that is no mapping of lists is an error, as yaml.v2 would make it', () => {
    assert.match((run(owners, 'issue_comment', comment, { owners: 'approvers: test_owner' }) as { reason: string }).reason, /error checking owner verification: yaml: OWNERS approvers is not a list/);
    assert.match((run(owners, 'issue_comment', comment, { owners: '- test_owner' }) as { reason: string }).reason, /yaml: the OWNERS file is not a mapping/);
  });
  it('a member answer that lets the sender pass makes a later failure moot, as Tekton stops asking', () => {
    const partial: GithubLookups = new Map([
      [lookupKey({ kind: 'public-member', repository: { owner: 'owner', repo: 'repo' }, org: 'owner', user: 'test_owner' }), { ok: true, kind: 'public-member', member: true }],
      [lookupKey({ kind: 'owners-file', repository: { owner: 'owner', repo: 'repo' } }), { ok: false, reason: 'GitHub answered 500' }],
    ]);
    assert.deepEqual(run({ owners: { checkType: 'orgMembers' } }, 'issue_comment', comment, partial), { continue: true });
  });
});

describe('decodeOwnersFile: OWNERS as gopkg.in/yaml.v2 decodes it into approvers and reviewers', () => {
  const rows: [name: string, text: string, expected: ReturnType<typeof decodeOwnersFile>][] = [
    ["Tekton's test file", 'approvers:\r\n- test_owner', { approvers: ['test_owner'], reviewers: [] }],
    ['both lists, flow style', 'approvers: [a, b]\nreviewers: [c]', { approvers: ['a', 'b'], reviewers: ['c'] }],
    ['a login that YAML 1.1 would read as a boolean stays a login', 'approvers:\n- yes\n- 0x10', { approvers: ['yes', '0x10'], reviewers: [] }],
    ['an empty file', '', { approvers: [], reviewers: [] }],
    ['an empty list', 'approvers:\nreviewers: [x]', { approvers: [], reviewers: ['x'] }],
    ['other keys are ignored', 'options:\n  no_parent_owners: true\napprovers: [a]', { approvers: ['a'], reviewers: [] }],
    ['an item that is a mapping', 'approvers:\n- name: a', { error: 'yaml: an item of OWNERS approvers is not a name' }],
  ];
  for (const [name, text, expected] of rows) it(name, () => assert.deepEqual(decodeOwnersFile(yaml, text), expected));
  it('YAML that does not parse', () => assert.match((decodeOwnersFile(yaml, 'approvers: [a') as { error: string }).error, /^yaml: /));
});
