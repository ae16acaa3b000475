import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../support/cli-process.ts';
import { deletedRef, githubExample, pushToDefaultBranch, tagPush } from '../support/github-examples.ts';

describe('tekton-bridge render and check', () => {
  let dir: string;
  const payload = (name: string, body: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(body));
    return file;
  };
  before(() => (dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-render-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('render prints the decision and the PipelineRun as YAML for a push to the default branch', async () => {
    const push = pushToDefaultBranch();
    const run = await runCli(['render', '--event', 'push', '--file', payload('push.json', push), '--delivery', 'd-42']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^# delivery d-42, event push\n# github-push\/default-branch: would create PipelineRun ci\/build-and-deploy-run-\w{10}\n/);
    const docs = parseAllDocuments(run.stdout).map((d) => d.toJS()).filter(Boolean);
    assert.equal(docs.length, 1);
    assert.equal(docs[0].kind, 'PipelineRun');
    assert.equal(docs[0].metadata.labels['triggers.tekton.dev/triggers-eventid'], 'd-42');
    assert.equal(docs[0].spec.params.find((p: { name: string }) => p.name === 'revision').value, push.after);
  });

  const skips: [string, string, () => unknown, RegExp][] = [
    ['a tag push', 'push', tagPush, /skipped — CEL filter is false/],
    ['a deleted branch', 'push', deletedRef, /skipped — the push deletes/],
    ['an event no trigger handles', 'star', () => githubExample('star'), /skipped — github interceptor: event "star" is not one of: push/],
  ];
  for (const [name, event, make, reason] of skips) {
    it(`render explains why ${name} creates nothing`, async () => {
      const run = await runCli(['render', '--event', event, '--file', payload(`${event}.json`, make())]);
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, reason);
      assert.doesNotMatch(run.stdout, /^---/m);
    });
  }

  it('render without --file uses the built-in sample push', async () => {
    const run = await runCli(['render']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /would create PipelineRun ci\/build-and-deploy-run-/);
  });

  it('check passes the default config and the seed figures (with warnings on stderr)', async () => {
    const ok = await runCli(['check']);
    assert.equal(ok.code, 0);
    assert.match(ok.stdout, /^ok: triggers: EventListener github-push \(default-branch\)\ncreates every resource as the bridge itself/);
    const seed = await runCli(['check', '--triggers', 'test/fixtures/seed']);
    assert.equal(seed.code, 0);
    assert.match(seed.stdout, /^impersonates system:serviceaccount:test:tekton-triggers-example-sa for github-listener-interceptor\/github-listener$/m);
    assert.match(seed.stderr, /warning: .*figures-8-9-10\.yaml: TriggerBinding\/pipeline-binding: spec\.params\[0\]\.value: .*\$\(body\.repository\.url\)/);
  });

  it('check and render exit 2 naming file, object and field of an invalid config', async () => {
    const bad = join(dir, 'bad');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(bad);
    writeFileSync(join(bad, 'listener.yaml'), 'apiVersion: triggers.tekton.dev/v1beta1\nkind: EventListener\nmetadata: {name: el}\nspec:\n  triggers:\n    - name: t\n      interceptors: [{gitlab: {}}]\n      template: {ref: missing}\n');
    for (const verb of ['check', 'render']) {
      const run = await runCli([verb, '--triggers', bad]);
      assert.equal(run.code, 2, verb);
      assert.match(run.stderr, /listener\.yaml: EventListener\/el: spec\.triggers\[0\]\.interceptors\[0\]: interceptor "gitlab" is not supported/);
      assert.match(run.stderr, /listener\.yaml: EventListener\/el: spec\.triggers\[0\]\.template\.ref: no TriggerTemplate named "missing"/);
    }
  });

  it('an unknown verb or flag exits 2 with usage', async () => {
    assert.equal((await runCli(['frobnicate'])).code, 2);
    const run = await runCli(['render', '--no-such-flag']);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /no-such-flag/);
  });
});
