import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runCli } from '../support/cli-process.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';

const template = `apiVersion: triggers.tekton.dev/v1beta1
kind: TriggerTemplate
metadata:
  name: deploy
spec:
  params:
    - name: app
  resourcetemplates:
    - apiVersion: tekton.dev/v1
      kind: PipelineRun
      metadata:
        generateName: deploy-
      spec:
        pipelineRef:
          name: deploy
        params:
          - name: app
            value: $(tt.params.app)
`;

function listener(params: string): string {
  return `apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata:
  name: manifests
  namespace: ci
spec:
  triggers:
    - name: deploy
      interceptors:
        - ref:
            name: cel
          params:
${params}
      bindings:
        - name: app
          value: $(extensions.app)
      template:
        ref: deploy
`;
}

describe('CEL in check and render', () => {
  let dir: string;
  const config = (name: string, params: string): string => {
    const folder = join(dir, name);
    mkdirSync(folder);
    writeFileSync(join(folder, 'listener.yaml'), listener(params));
    writeFileSync(join(folder, 'template.yaml'), template);
    return folder;
  };
  const push = (): string => {
    const file = join(dir, 'push.json');
    const payload = pushToDefaultBranch();
    payload.repository.name = 'shop-manifests';
    writeFileSync(file, JSON.stringify(payload));
    return file;
  };
  before(() => (dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-cel-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads and renders the overlay real configurations use: body.repository.name.replace("-manifests", "")', async () => {
    const folder = config('replace', '            - name: overlays\n              value:\n                - key: app\n                  expression: body.repository.name.replace("-manifests", "")');
    const run = await runCli(['render', '--triggers', folder, '--file', push()]);
    assert.equal(run.code, 0, run.stderr);
    const [run0] = parseAllDocuments(run.stdout).map((d) => d.toJS()).filter(Boolean);
    assert.equal(run0.spec.params[0].value, 'shop');
  });

  it('check names the field of a bad constant regular expression', async () => {
    const folder = config('bad-regex', '            - name: filter\n              value: "body.ref.matches(\'refs/(heads\')"');
    const run = await runCli(['check', '--triggers', folder]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /EventListener\/manifests.*spec\.triggers\[0\]\.interceptors\[0\]\.params\.filter: CEL: matches\(\): error parsing regexp: missing closing \)/);
  });

  it('check warns that decodeb64 is deprecated', async () => {
    const folder = config('decodeb64', '            - name: overlays\n              value:\n                - key: app\n                  expression: "\'c2hvcA==\'.decodeb64()"');
    const run = await runCli(['check', '--triggers', folder]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /warning: .*overlays\[0\]\.expression: decodeb64\(\) is deprecated/);
  });

  it('render reads compareSecret secrets from --trigger-secrets, and fails the trigger naming a missing one', async () => {
    const folder = config(
      'secret',
      "            - name: filter\n              value: \"header.canonical('X-Token').compareSecret('token', 'deploy-token')\"\n            - name: overlays\n              value:\n                - {key: app, expression: body.repository.name}",
    );
    const secrets = join(dir, 'secrets.json');
    writeFileSync(secrets, JSON.stringify({ 'deploy-token': { token: 'let-me-in' } }));
    const other = join(dir, 'other-secrets.json');
    writeFileSync(other, JSON.stringify({ other: { token: 'let-me-in' } }));
    const base = ['render', '--triggers', folder, '--file', push(), '--header', 'X-Token=let-me-in'];

    const passed = await runCli([...base, '--trigger-secrets', secrets]);
    assert.equal(passed.code, 0, passed.stderr);
    assert.match(passed.stdout, /manifests\/deploy: would create PipelineRun/);

    const missing = await runCli([...base, '--trigger-secrets', other]);
    assert.match(missing.stdout, /manifests\/deploy: failed — .*no key "token" in secret "deploy-token"/);
    assert.doesNotMatch(missing.stdout + missing.stderr, /let-me-in/);

    const none = await runCli(base);
    assert.match(none.stderr, /calls compareSecret and no --trigger-secrets file was given/);
    assert.match(none.stdout, /failed — .*no trigger secrets are configured/);
  });

  it('refuses a trigger secrets file that is not the expected JSON, without echoing it', async () => {
    const folder = config('secret-file', '            - name: filter\n              value: "true"');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ 'deploy-token': { token: 42, hidden: 'sekrit' } }));
    const run = await runCli(['render', '--triggers', folder, '--file', push(), '--trigger-secrets', bad]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /key "token" of secret "deploy-token" must be a string/);
    assert.doesNotMatch(run.stderr, /sekrit|42/);
  });
});
