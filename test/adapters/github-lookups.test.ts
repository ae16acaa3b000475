import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createCelFeatureModules } from '../../functions/adapters/cel-feature-modules.ts';
import { credentialsFromFlags } from '../../functions/adapters/github-credentials-source.ts';
import { createGithubLookups } from '../../functions/adapters/github-lookups.ts';
import { createGithubReporting } from '../../functions/adapters/github-reporting.ts';
import { lookupKey, type GithubLookup } from '../../functions/core/interceptors/github-lookups.ts';
import { githubAppKeyPair } from '../support/github-app-key.ts';
import { startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';

const TOKEN = 'ghp_lookups_adapter_token';
const keys = githubAppKeyPair();
const repository = { owner: 'octo-org', repo: 'shop' };
const files: GithubLookup = { kind: 'pull-request-files', repository, number: 7 };
const member: GithubLookup = { kind: 'public-member', repository, org: 'octo-org', user: 'mona' };
const collaborator: GithubLookup = { kind: 'collaborator', repository, user: 'mona' };
const owners: GithubLookup = { kind: 'owners-file', repository };

describe('the github interceptor lookups against the GitHub API test server', () => {
  let github: GithubApiServer;
  const lookups = (options: { token?: string; file?: string; budgetMs?: number } = { token: TOKEN }) =>
    createGithubLookups({
      access: createGithubReporting({ readCredentials: credentialsFromFlags(options), apiUrl: github.url, maxWaitMs: 0 }),
      yaml: createCelFeatureModules().yaml,
      budgetMs: options.budgetMs,
    });

  before(async () => {
    github = await startGithubApiServer({ token: TOKEN, app: { appId: '88', publicKeyPem: keys.publicKeyPem, installations: [{ id: 31 }] } });
  });
  after(() => github?.stop());
  beforeEach(() => github.reset());

  it("a pull request's files, every page in order: the first, then the rest by its Link rel=\"last\"", async () => {
    const names = Array.from({ length: 250 }, (_, i) => `src/file-${String(i).padStart(3, '0')}.ts`);
    github.setPullRequestFiles('octo-org/shop', 7, names);

    const answers = await lookups()({ lookups: [files], installationId: undefined });

    assert.deepEqual(answers.get(lookupKey(files)), { ok: true, kind: 'pull-request-files', files: names });
    assert.deepEqual(github.calls.map((c) => [c.path, c.query.page, c.query.per_page, c.auth]), [
      ['/repos/octo-org/shop/pulls/7/files', '1', '100', 'token'],
      ['/repos/octo-org/shop/pulls/7/files', '2', '100', 'token'],
      ['/repos/octo-org/shop/pulls/7/files', '3', '100', 'token'],
    ]);
    assert.deepEqual(github.schemaViolations, []);
  });

  it('at most the 3000 files GitHub lists, in 30 pages', async () => {
    github.setPullRequestFiles('octo-org/shop', 7, Array.from({ length: 3500 }, (_, i) => `f${i}`));
    const answer = (await lookups()({ lookups: [files], installationId: undefined })).get(lookupKey(files));
    assert.equal(answer?.ok && answer.kind === 'pull-request-files' && answer.files.length, 3000);
    assert.equal(github.calls.length, 30);
  });

  it('membership: 204 is a yes, 404 a no; the OWNERS file decoded from base64', async () => {
    github.setPublicMembers('octo-org', ['mona']);
    github.setCollaborators('octo-org/shop', ['hubot']);
    github.setFile('octo-org/shop', 'OWNERS', 'approvers:\r\n- mona\nreviewers:\n- hubot\n');

    const answers = await lookups()({ lookups: [member, collaborator, owners], installationId: undefined });

    assert.deepEqual(answers.get(lookupKey(member)), { ok: true, kind: 'public-member', member: true });
    assert.deepEqual(answers.get(lookupKey(collaborator)), { ok: true, kind: 'collaborator', member: false });
    assert.deepEqual(answers.get(lookupKey(owners)), { ok: true, kind: 'owners-file', owners: { approvers: ['mona'], reviewers: ['hubot'] } });
    assert.deepEqual(github.calls.map((c) => [c.path, c.status]).sort(), [
      ['/orgs/octo-org/public_members/mona', 204],
      ['/repos/octo-org/shop/collaborators/mona', 404],
      ['/repos/octo-org/shop/contents/OWNERS', 200],
    ]);
    assert.deepEqual(github.schemaViolations, []);
  });

  it('no OWNERS file is an answer (no owners); an OWNERS directory is an error, as go-github makes it', async () => {
    const none = await lookups()({ lookups: [owners], installationId: undefined });
    github.setDirectory('octo-org/shop', 'OWNERS', ['a', 'b']);
    const directory = await lookups()({ lookups: [owners], installationId: undefined });
    assert.deepEqual(none.get(lookupKey(owners)), { ok: true, kind: 'owners-file', owners: undefined });
    assert.deepEqual(directory.get(lookupKey(owners)), { ok: false, reason: 'referenced file inside the Github Repository OWNERS is a directory' });
  });

  it('GitHub down: every lookup fails with the reason, never an empty answer', async () => {
    github.setDown(true);
    const answers = await lookups()({ lookups: [files, owners], installationId: undefined });
    assert.deepEqual(answers.get(lookupKey(files)), { ok: false, reason: 'GitHub answered 503 to GET /repos/{owner}/{repo}/pulls/{pull_number}/files: Service Unavailable' });
    assert.match((answers.get(lookupKey(owners)) as { reason: string }).reason, /^GitHub answered 503 to GET \/repos\/\{owner\}\/\{repo\}\/contents\/\{path\}/);
  });

  it('a pull request GitHub does not show (deleted, or the token cannot see it) fails with the 404', async () => {
    const answer = (await lookups()({ lookups: [files], installationId: undefined })).get(lookupKey(files));
    assert.deepEqual(answer, { ok: false, reason: 'GitHub answered 404 to GET /repos/{owner}/{repo}/pulls/{pull_number}/files: Not Found' });
  });

  it('what is not answered within the budget fails, saying so', async () => {
    github.setPullRequestFiles('octo-org/shop', 7, ['a']);
    const answer = (await lookups({ token: TOKEN, budgetMs: 0 })({ lookups: [files], installationId: undefined })).get(lookupKey(files));
    assert.deepEqual(answer, { ok: false, reason: "GitHub did not answer within the delivery's 0 ms" });
    // The abandoned request may still reach the server: let it land here, not in the next test (bounded).
    for (let waited = 0; waited < 1000 && github.calls.length === 0; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  });

  it("App mode: the installation the payload names, with an installation token from the App's JWT", async () => {
    github.setPullRequestFiles('octo-org/shop', 7, ['README.md']);
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-lookups-'));
    try {
      writeFileSync(join(dir, 'app.json'), JSON.stringify({ appId: '88', privateKey: keys.privateKeyPem }));
      const answers = await lookups({ file: join(dir, 'app.json') })({ lookups: [files], installationId: '31' });
      assert.deepEqual(answers.get(lookupKey(files)), { ok: true, kind: 'pull-request-files', files: ['README.md'] });
      assert.deepEqual(github.calls.map((c) => [c.method, c.path, c.auth]), [
        ['POST', '/app/installations/31/access_tokens', 'jwt'],
        ['GET', '/repos/octo-org/shop/pulls/7/files', 'installation'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('credentials not filled in yet: each lookup fails with that reason, and GitHub hears nothing', async () => {
    const answers = await lookups({})({ lookups: [files], installationId: undefined });
    assert.deepEqual(answers.get(lookupKey(files)), { ok: false, reason: 'the bridge has no usable GitHub credentials: the GitHub credentials are not filled in yet: nothing is reported' });
    assert.equal(github.calls.length, 0);
  });
});
