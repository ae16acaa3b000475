import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../functions/core/errors.ts';
import { loadTriggersConfig } from '../../functions/core/load-triggers-config.ts';
import { loadTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';
import { inlineConfig, listenerYaml, templateYaml } from '../support/inline-config.ts';

const inlineBinding = '        - name: revision\n          value: $(body.after)';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

describe('loadTriggersConfig', () => {
  it("loads the seed's figures 8, 9 and 10 and warns about what a current cluster no longer accepts", () => {
    // Act
    const config = loadTriggersDirectory('test/fixtures/seed');

    // Assess
    const [listener] = config.eventListeners;
    assert.equal(listener?.name, 'github-listener-interceptor');
    assert.equal(listener?.namespace, 'test');
    assert.equal(listener?.triggers[0]?.name, 'github-listener');
    assert.deepEqual(listener?.triggers[0]?.interceptors, [{ type: 'github', eventTypes: ['push'], addChangedFiles: false }]);
    assert.equal(listener?.triggers[0]?.template.name, 'test-pipeline-template');
    const warnings = config.warnings.map((w) => `${w.object} ${w.field}: ${w.message}`).join('\n');
    assert.match(warnings, /TriggerBinding\/pipeline-binding spec\.params\[0\]\.value: .*\$\(body\.repository\.url\)/);
    assert.match(warnings, /spec\.resources: PipelineResources were removed/);
  });

  it('loads the default triggers/ config with no warnings', () => {
    const config = loadTriggersDirectory('triggers');
    assert.deepEqual(config.warnings, []);
    assert.deepEqual(config.eventListeners.map((l) => l.name), ['github-push']);
  });

  it('reads several EventListeners from one multi-document file, and a Trigger by triggerRef', () => {
    const config = inlineConfig(
      templateYaml(['revision']),
      listenerYaml('', inlineBinding).replace('name: ci\n', 'name: first\n'),
      `apiVersion: triggers.tekton.dev/v1beta1
kind: Trigger
metadata:
  name: shared
spec:
  bindings:
    - name: revision
      value: $(body.after)
  template:
    ref: echo`,
      `apiVersion: triggers.tekton.dev/v1beta1
kind: EventListener
metadata:
  name: second
spec:
  triggers:
    - triggerRef: shared`,
    );
    assert.deepEqual(config.eventListeners.map((l) => [l.name, l.triggers.map((t) => t.name)]), [['first', ['t']], ['second', ['shared']]]);
  });

  it('accepts the v1alpha1 interceptor spellings and the v1beta1 ref form alike', () => {
    const v1alpha1 = inlineConfig(templateYaml(['revision']), listenerYaml("        - github:\n            eventTypes: [push]\n        - cel:\n            filter: \"body.ref == 'x'\"", inlineBinding));
    const v1beta1 = inlineConfig(
      templateYaml(['revision']),
      listenerYaml(
        "        - ref: {name: github, kind: ClusterInterceptor}\n          params:\n            - {name: eventTypes, value: [push]}\n        - ref: {name: cel}\n          params:\n            - {name: filter, value: \"body.ref == 'x'\"}",
        inlineBinding,
      ),
    );
    const shape = (c: typeof v1beta1) => c.eventListeners[0]?.triggers[0]?.interceptors.map((i) => (i.type === 'cel' ? ['cel', i.filter?.source] : ['github', i.eventTypes]));
    assert.deepEqual(shape(v1alpha1), shape(v1beta1));
  });

  const invalid: { name: string; yaml: string[]; field: RegExp; message: RegExp; object?: RegExp }[] = [
    { name: 'YAML syntax', yaml: ['kind: [unclosed'], field: /line 1/, message: /.+/ },
    { name: 'unknown kind', yaml: ['apiVersion: triggers.tekton.dev/v1beta1\nkind: Pipeline\nmetadata: {name: x}'], field: /^kind$/, message: /expected one of/ },
    { name: 'wrong apiVersion', yaml: ['apiVersion: tekton.dev/v1\nkind: EventListener\nmetadata: {name: x}'], field: /^apiVersion$/, message: /triggers\.tekton\.dev/ },
    { name: 'invalid name', yaml: ['apiVersion: triggers.tekton.dev/v1beta1\nkind: EventListener\nmetadata: {name: Bad_Name}'], field: /metadata\.name/, message: /DNS-1123/ },
    { name: 'gitlab interceptor', yaml: [templateYaml(['revision']), listenerYaml('        - ref: {name: gitlab}', inlineBinding)], field: /interceptors\[0\]\.ref\.name/, message: /"gitlab" is not supported/ },
    { name: 'bitbucket interceptor (v1alpha1)', yaml: [templateYaml(['revision']), listenerYaml('        - bitbucket: {}', inlineBinding)], field: /interceptors\[0\]$/, message: /"bitbucket" is not supported/ },
    { name: 'webhook interceptor', yaml: [templateYaml(['revision']), listenerYaml('        - webhook: {objectRef: {kind: Service, name: x}}', inlineBinding)], field: /interceptors\[0\]\.webhook$/, message: /webhook interceptors are not supported/ },
    { name: 'CEL syntax', yaml: [templateYaml(['revision']), listenerYaml('        - cel: {filter: "body.ref =="}', inlineBinding)], field: /interceptors\[0\]\.cel\.filter/, message: /^CEL: / },
    { name: 'CEL unknown function', yaml: [templateYaml(['revision']), listenerYaml('        - cel: {filter: "nosuch(body)"}', inlineBinding)], field: /cel\.filter/, message: /CEL/ },
    { name: 'CEL overlay without key', yaml: [templateYaml(['revision']), listenerYaml('        - cel: {overlays: [{expression: "1"}]}', inlineBinding)], field: /overlays\[0\]/, message: /key/ },
    { name: 'unknown github param', yaml: [templateYaml(['revision']), listenerYaml('        - github: {eventType: [push]}', inlineBinding)], field: /github\.eventType$/, message: /unknown github interceptor param/ },
    { name: 'missing TriggerBinding', yaml: [templateYaml(['revision']), listenerYaml('', '        - ref: nowhere')], field: /bindings\[0\]\.ref/, message: /no TriggerBinding named "nowhere"/ },
    { name: 'missing TriggerTemplate', yaml: [listenerYaml('', inlineBinding)], field: /template\.ref/, message: /no TriggerTemplate named "echo"/ },
    { name: 'bad binding expression', yaml: [templateYaml(['revision']), listenerYaml('', '        - name: revision\n          value: $(bodyy.after)')], field: /bindings\[0\]\.value/, message: /the event has header, body, extensions and context, not "bodyy"/ },
    { name: 'undeclared template param', yaml: [templateYaml(['revision']).replace('$(tt.params.revision)', '$(tt.params.revison)'), listenerYaml('', inlineBinding)], field: /resourcetemplates\[0\]$/, message: /\$\(tt\.params\.revison\)/ },
    { name: 'resource of another kind', yaml: [templateYaml(['revision']).replace('kind: PipelineRun', 'kind: ConfigMap'), listenerYaml('', inlineBinding)], field: /resourcetemplates\[0\]\.kind/, message: /only Tekton PipelineRuns and TaskRuns/ },
    { name: 'a custom interceptor by ref.kind', yaml: [templateYaml(['revision']), listenerYaml('        - ref: {name: mine, kind: NamespacedInterceptor}', inlineBinding)], field: /interceptors\[0\]\.ref\.kind/, message: /only Tekton's github and cel/ },
    { name: 'an empty secretRef.secretKey', yaml: [templateYaml(['revision']), listenerYaml('        - github: {secretRef: {secretName: s, secretKey: ""}}', inlineBinding)], field: /secretRef\.secretKey/, message: /fails every event/ },
    { name: 'githubOwners', yaml: [templateYaml(['revision']), listenerYaml('        - github: {githubOwners: {enabled: true}}', inlineBinding)], field: /github\.githubOwners/, message: /needs the GitHub API/ },
    { name: 'cloudEventURI', yaml: [templateYaml(['revision']), listenerYaml('', inlineBinding).replace('spec:\n  triggers:', 'spec:\n  cloudEventURI: http://x\n  triggers:')], field: /^spec\.cloudEventURI$/, message: /does not send CloudEvents/ },
    { name: 'an EventListener with nothing to run', yaml: ['apiVersion: triggers.tekton.dev/v1beta1\nkind: EventListener\nmetadata: {name: x}\nspec: {serviceAccountName: sa}'], field: /^spec$/, message: /needs triggers, triggerGroups, labelSelector or namespaceSelector/ },
    { name: 'resource without a name', yaml: [templateYaml(['revision']).replace('generateName: echo-run-', 'labels: {}'), listenerYaml('', inlineBinding)], field: /metadata$/, message: /generateName/ },
    { name: 'unknown tekton-bridge annotation', yaml: [templateYaml(['revision']), listenerYaml('', inlineBinding, '    tekton-bridge/skip-deleted: "false"')], field: /annotations\.tekton-bridge\/skip-deleted/, message: /unknown tekton-bridge annotation/ },
    { name: 'bad annotation value', yaml: [templateYaml(['revision']), listenerYaml('', inlineBinding, '    tekton-bridge/skip-ci-messages: "no"')], field: /skip-ci-messages/, message: /"true" or "false"/ },
    { name: 'an allowed namespace that is not one', yaml: [templateYaml(['revision']), listenerYaml('', inlineBinding, '    tekton-bridge/allowed-namespaces: "apps, ../kube-system"')], field: /annotations\.tekton-bridge\/allowed-namespaces/, message: /"\.\.\/kube-system" is not a namespace name/ },
    { name: 'no EventListener', yaml: [templateYaml(['revision'])], field: /kind/, message: /no EventListener/ },
    { name: 'duplicate object', yaml: [templateYaml(['revision']), templateYaml(['revision']), listenerYaml('', inlineBinding)], field: /metadata\.name/, message: /defined twice/, object: /TriggerTemplate\/echo/ },
  ];
  for (const { name, yaml, field, message, object } of invalid) {
    it(`names file, object and field of an invalid config: ${name}`, () => {
      const error = configError(() => inlineConfig(...yaml));
      const issue = error.issues[0];
      assert.ok(issue, 'at least one issue');
      assert.equal(issue.file, 'inline.yaml');
      assert.match(issue.field, field);
      assert.match(issue.message, message);
      if (object) assert.match(issue.object, object);
      assert.match(error.message, /inline\.yaml: /);
    });
  }

  it('warns about a template with a fixed metadata.name: every later delivery would answer duplicate', () => {
    const fixed = inlineConfig(templateYaml(['revision']).replace('generateName: echo-run-', 'name: echo-run'), listenerYaml('', inlineBinding));
    const [warning] = fixed.warnings;
    assert.match(warning?.field ?? '', /resourcetemplates\[0\]\.metadata\.name$/);
    assert.match(warning?.message ?? '', /is fixed \("echo-run"\): the first delivery creates it and every later one answers duplicate; use generateName/);
    const varying = inlineConfig(templateYaml(['revision']).replace('generateName: echo-run-', 'name: echo-$(tt.params.revision)'), listenerYaml('', inlineBinding));
    assert.deepEqual(varying.warnings, []);
  });

  it('reads the namespaces an EventListener allows beyond its own', () => {
    const config = inlineConfig(templateYaml(['revision']), listenerYaml('', inlineBinding, '    tekton-bridge/allowed-namespaces: " apps ,staging,"'));
    assert.deepEqual(config.eventListeners[0]?.allowedNamespaces, ['apps', 'staging']);
  });

  it('warns, as Tekton renders it, of a template param with no default and no binding, and of ${…}', () => {
    const config = inlineConfig(templateYaml(['revision', 'url']), listenerYaml('', '        - name: revision\n          value: ${body.after}'));
    const warnings = config.warnings.map((w) => `${w.field}: ${w.message}`).join('\n');
    assert.match(warnings, /bindings: TriggerTemplate\/echo param "url" has no default and no binding of trigger "t" sets it: \$\(tt\.params\.url\) stays in the resource as written/);
    assert.match(warnings, /\$\{body\.after\} is no Tekton Triggers expression and stays as written; write \$\(body\.after\)/);
  });

  it('reports every problem at once, not just the first', () => {
    const error = configError(() =>
      loadTriggersConfig([
        { file: 'a.yaml', text: listenerYaml('        - gitlab: {}', '        - ref: nowhere') },
        { file: 'b.yaml', text: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}' },
      ]),
    );
    assert.deepEqual(new Set(error.issues.map((i) => i.file)), new Set(['a.yaml', 'b.yaml']));
    assert.ok(error.issues.length >= 3);
  });

  it('fails on an empty or missing folder with a clear message', () => {
    assert.match(configError(() => loadTriggersDirectory('test/fixtures/no-such-folder')).message, /cannot read the triggers folder/);
    assert.match(configError(() => loadTriggersDirectory('test/support')).message, /no \.yaml files/);
  });

  it('keeps the seed fixture byte-for-byte the figures as printed (indentation mended)', () => {
    const text = readFileSync('test/fixtures/seed/figures-8-9-10.yaml', 'utf8');
    for (const line of ['generateName: test-pipeline-run-', 'value: ${body.repository.url}', 'secretName: github-secret', 'ref: test-pipeline-template']) {
      assert.ok(text.includes(line), line);
    }
  });
});
