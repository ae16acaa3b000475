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
    // github_test.go TestInterceptor_ExecuteTrigger_owners "sender is a collaborator but PersonalAccessToken not supplied":
    // Tekton fails every pull request and issue comment of such a config.
    { name: 'githubOwners checking members without personalAccessToken', yaml: [templateYaml(['revision']), listenerYaml('        - github: {githubOwners: {enabled: true, checkType: repoMembers}}', inlineBinding)], field: /github\.githubOwners\.personalAccessToken$/, message: /needed with checkType repoMembers: Tekton Triggers fails every pull request and issue comment with "checkType is set to check org or repo members but no personalAccessToken was supplied"/ },
    { name: 'githubOwners with checkType unset and no personalAccessToken', yaml: [templateYaml(['revision']), listenerYaml('        - github: {githubOwners: {enabled: true}}', inlineBinding)], field: /githubOwners\.personalAccessToken$/, message: /needed with checkType \(unset\)/ },
    // TestInterceptor_ExecuteTrigger_owners_data_validation "personalAccessToken secretKey is empty", and
    // Test_getPersonalAccessTokenSecret / Test_getGithubTokenSecret "missing secret key, failure".
    { name: 'githubOwners personalAccessToken with an empty secretKey', yaml: [templateYaml(['revision']), listenerYaml('        - github: {githubOwners: {enabled: true, checkType: none, personalAccessToken: {secretName: mysecret, secretKey: ""}}}', inlineBinding)], field: /githubOwners\.personalAccessToken\.secretKey$/, message: /fails every event with "error getting github token: github interceptor personalAccessToken\.secretKey is empty"/ },
    { name: 'addChangedFiles personalAccessToken without a secretKey', yaml: [templateYaml(['revision']), listenerYaml('        - github: {addChangedFiles: {enabled: true, personalAccessToken: {secretName: mysecret}}}', inlineBinding)], field: /addChangedFiles\.personalAccessToken\.secretKey$/, message: /"error getting secret: github interceptor githubToken\.secretKey is empty"/ },
    { name: 'githubOwners checkType that is no string', yaml: [templateYaml(['revision']), listenerYaml('        - github: {githubOwners: {enabled: true, checkType: [all]}}', inlineBinding)], field: /githubOwners\.checkType$/, message: /expected one of orgMembers, repoMembers, all, none/ },
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

  describe('the github interceptor with GitHub API lookups (github_test.go Test_getGithubTokenSecret, Test_getPersonalAccessTokenSecret)', () => {
    const load = (params: string) => inlineConfig(templateYaml(['revision']), listenerYaml(`        - github: ${params}`, inlineBinding));
    const warningsOf = (params: string) => load(params).warnings.map((w) => `${w.field}: ${w.message}`);
    it('valid secret: a personalAccessToken is accepted, with a note that the bridge uses its own credentials', () => {
      for (const params of ['{addChangedFiles: {enabled: true, personalAccessToken: {secretName: mysecret, secretKey: token}}}', '{githubOwners: {enabled: true, checkType: all, personalAccessToken: {secretName: mysecret, secretKey: token}}}']) {
        assert.deepEqual(warningsOf(params).map((w) => w.replace(/^.*\.(\w+\.personalAccessToken)/, '$1')), [
          `${params.includes('githubOwners') ? 'githubOwners' : 'addChangedFiles'}.personalAccessToken: is not read: the bridge calls GitHub's API with its own GitHub credentials (GITHUB_CREDENTIALS_SECRET_ARN; serve --github-token)`,
        ]);
      }
    });
    it('nil secret reference: nothing to note', () => {
      assert.deepEqual(warningsOf('{eventTypes: [pull_request, push], addChangedFiles: {enabled: true}}'), []);
      assert.deepEqual(warningsOf('{githubOwners: {enabled: true, checkType: none}}'), []);
    });
    it("takes Go's case-insensitive field names, as Tekton's own github-owners example spells CheckType", () => {
      const [interceptor] = load('{githubOwners: {Enabled: true, CheckType: none}}').eventListeners[0]?.triggers[0]?.interceptors ?? [];
      assert.deepEqual(interceptor, { type: 'github', eventTypes: undefined, addChangedFiles: false, owners: { checkType: 'none' } });
    });
    it('a checkType Tekton does not know: only the OWNERS file is consulted, and check says so', () => {
      assert.match(warningsOf('{githubOwners: {enabled: true, checkType: both, personalAccessToken: {secretName: s, secretKey: k}}}').join('\n'), /"both" is not a checkType Tekton Triggers knows \(orgMembers, repoMembers, all, none\): only the OWNERS file is consulted/);
    });
    it('githubOwners beside addChangedFiles in one interceptor is never checked, as in Tekton: a warning, and no owners config', () => {
      const config = load('{addChangedFiles: {enabled: true}, githubOwners: {enabled: true, checkType: none}}');
      assert.match(config.warnings.map((w) => w.message).join('\n'), /is never checked: with addChangedFiles enabled in the same interceptor, Tekton Triggers returns after the changed files/);
      assert.equal((config.eventListeners[0]?.triggers[0]?.interceptors[0] as { owners?: unknown }).owners, undefined);
      assert.deepEqual(config.cel.features, []);
    });
    it('githubOwners ships the YAML parser, for the OWNERS file; addChangedFiles ships nothing', () => {
      assert.deepEqual(load('{githubOwners: {enabled: true, checkType: none}}').cel.features, ['yaml']);
      assert.deepEqual(load('{addChangedFiles: {enabled: true}}').cel.features, []);
    });
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
