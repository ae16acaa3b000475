import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../functions/core/errors.ts';
import { evaluateTriggers, type TriggerDecision } from '../../functions/core/evaluate-triggers.ts';
import { summarizeDelivery } from '../../functions/core/delivery-summary.ts';
import type { KubernetesObject } from '../../functions/core/delivery-types.ts';
import { loadTriggersConfig } from '../../functions/core/load-triggers-config.ts';
import { toLabelValue } from '../../functions/core/resource-names.ts';
import { impersonatedAccounts, listenerTriggers, type TriggersConfig } from '../../functions/core/triggers-config.ts';

// Rows of tektoncd/triggers v0.37.0 pkg/sink/sink_test.go (TestHandleEvent, the parts that select triggers) and
// pkg/template/resource_test.go (Test_ResolveTrigger, Test_ResolveTrigger_error), written as the YAML they stand for.

const api = 'apiVersion: triggers.tekton.dev/v1beta1';
const eventBody = { head_commit: { id: 'testrevision' }, repository: { url: 'testurl' }, foo: 'bar\t\r\nbaz昨' };

/** sink_test.go's makeGitCloneTTSpec and trResourceTemplate: a TaskRun named by a param, in namespace foo. */
function gitCloneTemplateSpec(name: string, indent: string): string {
  return `params:
  - name: url
  - name: revision
  - name: name
    default: ${name}
  - name: app
    default: triggers
  - name: type
    default: bar
resourcetemplates:
  - apiVersion: tekton.dev/v1
    kind: TaskRun
    metadata:
      name: $(tt.params.name)
      namespace: foo
      labels:
        app: $(tt.params.app)
        type: $(tt.params.type)
    spec:
      params:
        - name: url
          value: $(tt.params.url)
        - name: git-revision
          value: $(tt.params.revision)
      taskRef:
        name: git-clone`
    .split('\n')
    .map((line) => indent + line)
    .join('\n');
}

const gitCloneBindingParams = (name = 'git-clone-run') => `- {name: url, value: $(body.repository.url)}
- {name: revision, value: $(body.head_commit.id)}
- {name: name, value: ${name}}
- {name: app, value: $(body.foo)}
- {name: type, value: $(header.Content-Type)}`;

const indent = (text: string, by: string) => text.split('\n').map((line) => by + line).join('\n');

const gitCloneTT = (namespace: string) => `${api}\nkind: TriggerTemplate\nmetadata: {name: git-clone, namespace: ${namespace}}\nspec:\n${gitCloneTemplateSpec('git-clone-test-run', '  ')}`;
const gitCloneTB = (namespace: string) => `${api}\nkind: TriggerBinding\nmetadata: {name: git-clone, namespace: ${namespace}}\nspec:\n  params:\n${indent(gitCloneBindingParams(), '    ')}`;
const trigger = (name: string, namespace: string, labels: Record<string, string>, spec: string) =>
  `${api}\nkind: Trigger\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n  labels: ${JSON.stringify(labels)}\nspec:\n${spec}`;
const refTriggerSpec = '  bindings: [{ref: git-clone}]\n  template: {ref: git-clone}';
const listener = (spec: string) => `${api}\nkind: EventListener\nmetadata: {name: my-el, namespace: foo}\nspec:\n${spec}`;

function load(...documents: string[]): TriggersConfig {
  return loadTriggersConfig([{ file: 'sink.yaml', text: documents.join('\n---\n') }]);
}

function evaluate(config: TriggersConfig, headers: Record<string, string> = {}): TriggerDecision[] {
  const [el] = config.eventListeners;
  assert.ok(el);
  return evaluateTriggers({
    listener: el,
    deliveryId: '12345',
    event: headers['x-github-event'] ?? 'push',
    headers: { 'content-type': 'application/json', ...headers },
    payload: eventBody,
    summary: summarizeDelivery(eventBody),
  });
}

/** sink_test.go's gitCloneTaskRun, as the bridge renders it: its label values made valid for Kubernetes. */
function expectTaskRun(run: KubernetesObject | undefined, name: string, triggerName: string): void {
  assert.equal(run?.kind, 'TaskRun');
  assert.equal(run?.metadata.name, name);
  assert.equal(run?.metadata.namespace, 'foo');
  assert.deepEqual(run?.metadata.labels, {
    // Tekton sets these verbatim (a tab and newlines, and "/"), which the API server would refuse.
    app: toLabelValue('bar\t\r\nbaz昨'),
    type: toLabelValue('application/json'),
    'triggers.tekton.dev/eventlistener': 'my-el',
    'triggers.tekton.dev/trigger': triggerName,
    'triggers.tekton.dev/triggers-eventid': '12345',
  });
  assert.deepEqual(run?.spec, {
    params: [
      { name: 'url', value: 'testurl' },
      { name: 'git-revision', value: 'testrevision' },
    ],
    taskRef: { name: 'git-clone' },
  });
}

function created(decisions: TriggerDecision[]): { trigger: string; resources: KubernetesObject[] }[] {
  for (const decision of decisions) assert.equal(decision.outcome, 'render', 'reason' in decision ? decision.reason : '');
  return decisions.flatMap((decision) => (decision.outcome === 'render' ? [{ trigger: decision.trigger, resources: decision.resources }] : []));
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

describe('sink_test.go TestHandleEvent: which triggers an EventListener runs', () => {
  it('single trigger embedded within EventListener', () => {
    const config = load(gitCloneTB('foo'), gitCloneTT('foo'), listener('  triggers:\n    - name: git-clone-trigger\n      bindings: [{ref: git-clone, kind: TriggerBinding}]\n      template: {ref: git-clone}'));
    const [run] = created(evaluate(config));
    expectTaskRun(run?.resources[0], 'git-clone-run', 'git-clone-trigger');
  });

  it('namespace selector match names', () => {
    const config = load(gitCloneTB('bar'), gitCloneTT('bar'), trigger('git-clone-trigger', 'bar', {}, refTriggerSpec), listener('  namespaceSelector:\n    matchNames: [bar]'));
    const runs = created(evaluate(config));
    assert.equal(runs.length, 1);
    expectTaskRun(runs[0]?.resources[0], 'git-clone-run', 'git-clone-trigger');
  });

  it('label selector match expressions (with a namespace selector): only the matching Trigger runs', () => {
    const config = load(
      gitCloneTB('bar'),
      gitCloneTT('bar'),
      trigger('git-clone-trigger', 'bar', { foo: 'bar' }, refTriggerSpec),
      trigger('second-not-invoked-trigger', 'bar', { foo: 'notbar' }, refTriggerSpec),
      listener('  namespaceSelector: {matchNames: [bar]}\n  labelSelector: {matchLabels: {foo: bar}}'),
    );
    assert.deepEqual(created(evaluate(config)).map((r) => r.trigger), ['git-clone-trigger']);
  });

  it("label selector match expressions without namespace selector: the EventListener's namespace", () => {
    const config = load(
      gitCloneTB('foo'),
      gitCloneTT('foo'),
      trigger('git-clone-trigger', 'foo', { foo: 'bar' }, refTriggerSpec),
      trigger('second-not-invoked-trigger', 'foo', { foo: 'notbar' }, refTriggerSpec),
      listener('  labelSelector: {matchLabels: {foo: bar}}'),
    );
    const runs = created(evaluate(config));
    assert.deepEqual(runs.map((r) => r.trigger), ['git-clone-trigger']);
    expectTaskRun(runs[0]?.resources[0], 'git-clone-run', 'git-clone-trigger');
  });

  it('eventlistener with a trigger ref', () => {
    const config = load(gitCloneTB('foo'), gitCloneTT('foo'), trigger('git-clone-trigger', 'foo', {}, refTriggerSpec), listener('  triggers:\n    - triggerRef: git-clone-trigger'));
    expectTaskRun(created(evaluate(config))[0]?.resources[0], 'git-clone-run', 'git-clone-trigger');
  });

  it('eventlistener with ref to trigger with embedded spec', () => {
    const spec = `  bindings:\n${indent(gitCloneBindingParams(), '    ')}\n  template:\n    spec:\n${gitCloneTemplateSpec('git-clone-test-run', '      ')}`;
    const config = load(trigger('git-clone-trigger', 'foo', {}, spec), listener('  triggers:\n    - triggerRef: git-clone-trigger'));
    expectTaskRun(created(evaluate(config))[0]?.resources[0], 'git-clone-run', 'git-clone-trigger');
  });

  it('with GitHub and CEL interceptors (the signature is the bridge\'s own check, before any trigger)', () => {
    const spec = `  interceptors:
    - ref: {name: github, kind: ClusterInterceptor}
      params:
        - {name: secretRef, value: {secretKey: secretKey, secretName: secret}}
        - {name: eventTypes, value: [pull_request]}
  bindings:
${indent(gitCloneBindingParams(), '    ')}
  template:
    spec:
${gitCloneTemplateSpec('git-clone-test-run', '      ')}`;
    const config = load(trigger('git-clone-trigger', 'foo', {}, spec), listener('  triggers:\n    - triggerRef: git-clone-trigger'));
    expectTaskRun(created(evaluate(config, { 'x-github-event': 'pull_request' }))[0]?.resources[0], 'git-clone-run', 'git-clone-trigger');
    assert.equal(evaluate(config, { 'x-github-event': 'push' })[0]?.outcome, 'skipped');
  });

  it('eventListener with multiple triggers: ten Triggers by namespace selector', () => {
    const triggers = Array.from({ length: 10 }, (_, i) =>
      trigger(`git-clone-trigger-${i}`, 'foo', {}, `  bindings:\n${indent(gitCloneBindingParams(`git-clone-run-${i}`), '    ')}\n  template:\n    spec:\n${gitCloneTemplateSpec(`git-clone-run-${i}`, '      ')}`),
    );
    const config = load(...triggers, listener('  namespaceSelector: {matchNames: [foo]}'));
    const runs = created(evaluate(config));
    assert.equal(runs.length, 10);
    for (const [i, run] of runs.entries()) expectTaskRun(run.resources[0], `git-clone-run-${i}`, `git-clone-trigger-${i}`);
  });

  it('single trigger within EventListener triggerGroup', () => {
    const config = load(
      gitCloneTB('foo'),
      gitCloneTT('foo'),
      trigger('git-clone-trigger', 'foo', { foo: 'bar' }, refTriggerSpec),
      listener(`  triggerGroups:
    - name: filter-event
      interceptors:
        - ref: {name: cel, kind: ClusterInterceptor}
          params: [{name: filter, value: has(body.head_commit)}]
      triggerSelector:
        labelSelector: {matchLabels: {foo: bar}}`),
    );
    expectTaskRun(created(evaluate(config))[0]?.resources[0], 'git-clone-run', 'git-clone-trigger');
  });

  it('with TriggerGroups and CEL interceptors - multiple triggers with extensions', () => {
    const groupTrigger = (n: number) =>
      trigger(
        `trigger-${n}`,
        'foo',
        { group: 'race-test' },
        `  interceptors:
    - ref: {name: cel, kind: ClusterInterceptor}
      params: [{name: overlays, value: [{key: extensions.trigger${n}_ext, expression: "'value${n}'"}]}]
  bindings:
${indent(gitCloneBindingParams(`git-clone-run-trigger${n}`), '    ')}
  template: {ref: git-clone}`,
      );
    const config = load(
      gitCloneTB('foo'),
      gitCloneTT('foo'),
      groupTrigger(1),
      groupTrigger(2),
      listener(`  triggerGroups:
    - name: race-test-group
      interceptors:
        - ref: {name: cel, kind: ClusterInterceptor}
          params:
            - {name: filter, value: has(body.head_commit)}
            - {name: overlays, value: [{key: extensions.group_ext, expression: "'group_value'"}]}
      triggerSelector:
        labelSelector: {matchLabels: {group: race-test}}`),
    );
    const runs = created(evaluate(config));
    expectTaskRun(runs[0]?.resources[0], 'git-clone-run-trigger1', 'trigger-1');
    expectTaskRun(runs[1]?.resources[0], 'git-clone-run-trigger2', 'trigger-2');
  });

  const refused: [name: string, interceptor: string, message: RegExp][] = [
    ['with BitBucket interceptor', '{name: bitbucket, kind: ClusterInterceptor}', /interceptor "bitbucket" is not supported/],
    ['with namespaced interceptor', '{name: bitbucket, kind: NamespacedInterceptor}', /"NamespacedInterceptor" interceptors are not supported/],
  ];
  for (const [name, ref, message] of refused) {
    it(`${name}: refused by check`, () => {
      const spec = `  interceptors:\n    - ref: ${ref}\n  bindings: [{ref: git-clone}]\n  template: {ref: git-clone}`;
      const error = configError(() => load(gitCloneTB('foo'), gitCloneTT('foo'), trigger('git-clone-trigger', 'foo', {}, spec), listener('  triggers: [{triggerRef: git-clone-trigger}]')));
      assert.match(error.message, message);
    });
  }
  it('with webhook interceptors: refused by check', () => {
    const spec = '  interceptors:\n    - webhook: {objectRef: {kind: Service, name: foo, apiVersion: v1}}\n  bindings: [{ref: git-clone}]\n  template: {ref: git-clone}';
    const error = configError(() => load(gitCloneTB('foo'), gitCloneTT('foo'), trigger('git-clone-trigger', 'foo', {}, spec), listener('  triggers: [{triggerRef: git-clone-trigger}]')));
    assert.match(error.message, /webhook interceptors are not supported/);
  });
  it('with interceptors overlays race: interceptors next to a triggerRef are refused, as Tekton\'s admission refuses them', () => {
    const error = configError(() =>
      load(
        gitCloneTB('foo'),
        gitCloneTT('foo'),
        trigger('git-clone-trigger', 'foo', {}, refTriggerSpec),
        listener('  triggers:\n    - triggerRef: git-clone-trigger\n      interceptors: [{ref: {name: cel}, params: [{name: filter, value: has(body.head_commit)}]}]'),
      ),
    );
    assert.match(error.message, /spec\.triggers\[0\]\.interceptors: give triggerRef or template, bindings and interceptors, not both/);
  });
});

describe('resource_test.go Test_ResolveTrigger: the params a trigger binds', () => {
  const objects = [
    `${api}\nkind: TriggerBinding\nmetadata: {name: my-triggerbinding}\nspec: {}`,
    `${api}\nkind: TriggerBinding\nmetadata: {name: tb-params}\nspec:\n  params: [{name: foo, value: bar}]`,
    `${api}\nkind: ClusterTriggerBinding\nmetadata: {name: my-clustertriggerbinding}\nspec: {}`,
    `${api}\nkind: ClusterTriggerBinding\nmetadata: {name: ctb-params}\nspec:\n  params: [{name: foo-ctb, value: bar-ctb}]`,
    `${api}\nkind: TriggerTemplate\nmetadata: {name: my-triggertemplate}\nspec:\n  resourcetemplates:\n    - {apiVersion: tekton.dev/v1, kind: PipelineRun, metadata: {generateName: run-}}`,
  ];
  const bound = (bindings: string) => {
    const config = load(...objects, listener(`  triggers:\n    - name: t\n      bindings: ${bindings}\n      template: {ref: my-triggertemplate}`));
    const [only] = listenerTriggers(config.eventListeners[0]!);
    assert.equal(only?.template.name, 'my-triggertemplate');
    return only?.bindings.map((b) => [b.name, b.value.text]);
  };
  const rows: [name: string, bindings: string, want: string[][]][] = [
    ['1 binding', '[{ref: my-triggerbinding, kind: TriggerBinding}]', []],
    ['1 clustertype binding', '[{ref: my-clustertriggerbinding, kind: ClusterTriggerBinding}]', []],
    ['1 embed binding', '[{name: key, value: value}]', [['key', 'value']]],
    ['no binding', '[]', []],
    ['concise bindings', '[{name: p1, value: v1}, {name: p2, value: v2}]', [['p1', 'v1'], ['p2', 'v2']]],
    [
      'multiple binding params are merged',
      '[{kind: TriggerBinding, ref: my-triggerbinding}, {kind: TriggerBinding, ref: tb-params}, {kind: ClusterTriggerBinding, ref: my-clustertriggerbinding}, {kind: ClusterTriggerBinding, ref: ctb-params}, {name: p1, value: v1}, {name: p2, value: v2}]',
      [['foo', 'bar'], ['foo-ctb', 'bar-ctb'], ['p1', 'v1'], ['p2', 'v2']],
    ],
  ];
  for (const [name, bindings, want] of rows) it(name, () => assert.deepEqual(bound(bindings), want));
  it("missing kind implies namespacedTriggerBinding (written with ref alone: ref and name together are refused, as Tekton's admission does)", () => {
    assert.deepEqual(bound('[{ref: my-triggerbinding}]'), []);
    assert.match(configError(() => bound('[{name: my-triggerbinding, ref: my-triggerbinding}]')).message, /give ref \(a binding object\) or name and value/);
  });
  it('a param bound twice across the bindings is an error, as ResolveTrigger reports it', () => {
    assert.match(configError(() => bound('[{ref: tb-params}, {name: foo, value: again}]')).message, /param "foo" is bound twice \(TriggerBinding\/tb-params and inline\)/);
  });

  describe('Test_ResolveTrigger_error', () => {
    const rows: [name: string, bindings: string, template: string, messages: RegExp[]][] = [
      ['triggerbinding not found', '[{ref: invalid-tb-name, kind: TriggerBinding}]', 'my-triggertemplate', [/no TriggerBinding named "invalid-tb-name"/]],
      ['clustertriggerbinding not found', '[{ref: invalid-ctb-name, kind: ClusterTriggerBinding}]', 'my-triggertemplate', [/no ClusterTriggerBinding named "invalid-ctb-name"/]],
      ['triggertemplate not found', '[{ref: my-triggerbinding, kind: TriggerBinding}]', 'invalid-tt-name', [/no TriggerTemplate named "invalid-tt-name"/]],
      ['triggerbinding and triggertemplate not found', '[{ref: invalid-tb-name, kind: TriggerBinding}]', 'invalid-tt-name', [/no TriggerBinding named "invalid-tb-name"/, /no TriggerTemplate named "invalid-tt-name"/]],
    ];
    for (const [name, bindings, template, messages] of rows) {
      it(name, () => {
        const error = configError(() => load(...objects, listener(`  triggers:\n    - name: t\n      bindings: ${bindings}\n      template: {ref: ${template}}`)));
        for (const message of messages) assert.match(error.message, message);
      });
    }
  });
});

describe('namespaces and selection beyond the Go tables', () => {
  it('gives an unnamespaced object the namespace of the EventListener that uses it, and finds bindings in the Trigger\'s namespace', () => {
    const config = load(
      gitCloneTB('bar'),
      gitCloneTT('bar'),
      trigger('in-bar', 'bar', {}, refTriggerSpec),
      `${api}\nkind: Trigger\nmetadata: {name: unnamespaced}\nspec:\n  bindings: [{name: url, value: x}, {name: revision, value: y}]\n  template:\n    spec:\n${gitCloneTemplateSpec('n', '      ')}`,
      listener('  namespaceSelector: {matchNames: ["*"]}'),
    );
    assert.deepEqual(config.eventListeners[0]?.triggers.map((t) => [t.namespace, t.name]), [['bar', 'in-bar'], ['foo', 'unnamespaced']]);
  });

  it('refuses a Trigger selected twice, which Tekton would run twice and the bridge once', () => {
    const error = configError(() =>
      load(gitCloneTB('foo'), gitCloneTT('foo'), trigger('git-clone-trigger', 'foo', { a: 'b' }, refTriggerSpec), listener('  triggers: [{triggerRef: git-clone-trigger}]\n  labelSelector: {matchLabels: {a: b}}')),
    );
    assert.match(error.message, /spec\.labelSelector: Trigger foo\/git-clone-trigger is selected again \(first by spec\.triggers\[0\]\.triggerRef\)/);
  });

  it('skips the triggers of a group whose interceptors stop the event, naming the group', () => {
    const config = load(
      gitCloneTB('foo'),
      gitCloneTT('foo'),
      trigger('git-clone-trigger', 'foo', { foo: 'bar' }, refTriggerSpec),
      listener("  triggerGroups:\n    - name: only-docs\n      interceptors: [{ref: {name: cel}, params: [{name: filter, value: \"body.foo == 'docs'\"}]}]\n      triggerSelector: {labelSelector: {matchLabels: {foo: bar}}}"),
    );
    assert.deepEqual(evaluate(config), [{ trigger: 'git-clone-trigger', outcome: 'skipped', reason: "trigger group \"only-docs\": CEL filter is false: body.foo == 'docs'" }]);
  });

  it('selects with matchExpressions: In, NotIn, Exists, DoesNotExist', () => {
    const triggers = ['a', 'b', 'c'].map((name, i) => trigger(name, 'foo', i === 2 ? {} : { tier: name === 'a' ? 'web' : 'db' }, refTriggerSpec));
    const select = (expressions: string) =>
      load(gitCloneTB('foo'), gitCloneTT('foo'), ...triggers, listener(`  labelSelector:\n    matchExpressions: ${expressions}`)).eventListeners[0]?.triggers.map((t) => t.name);
    assert.deepEqual(select('[{key: tier, operator: In, values: [web]}]'), ['a']);
    assert.deepEqual(select('[{key: tier, operator: NotIn, values: [web]}]'), ['b', 'c']);
    assert.deepEqual(select('[{key: tier, operator: Exists}]'), ['a', 'b']);
    assert.deepEqual(select('[{key: tier, operator: DoesNotExist}]'), ['c']);
    assert.match(configError(() => select('[{key: tier, operator: In}]')).message, /In needs at least one value/);
  });
});

describe('serviceAccountName: who creates the resources', () => {
  const base = [gitCloneTB('foo'), gitCloneTT('foo')];
  const account = (config: TriggersConfig) => {
    const [decision] = evaluate(config);
    assert.equal(decision?.outcome, 'render', decision && 'reason' in decision ? decision.reason : '');
    return decision?.outcome === 'render' ? decision.serviceAccount : undefined;
  };
  it("impersonates a trigger's own serviceAccountName, in the trigger's namespace", () => {
    const config = load(...base, trigger('t', 'foo', {}, `${refTriggerSpec}\n  serviceAccountName: foo-trigger-sa`), listener('  serviceAccountName: el-sa\n  triggers: [{triggerRef: t}]'));
    assert.deepEqual(account(config), { namespace: 'foo', name: 'foo-trigger-sa' });
  });
  it("else the EventListener's, or its pod template's when kubernetesResource names one (with a warning for the pod)", () => {
    const inline = '  triggers:\n    - name: t\n      bindings: [{ref: git-clone}]\n      template: {ref: git-clone}';
    assert.deepEqual(account(load(...base, listener(`  serviceAccountName: el-sa\n${inline}`))), { namespace: 'foo', name: 'el-sa' });
    const pod = load(...base, listener(`  serviceAccountName: el-sa\n${inline}\n  resources:\n    kubernetesResource:\n      replicas: 2\n      spec:\n        template:\n          spec:\n            serviceAccountName: pod-sa`));
    assert.deepEqual(account(pod), { namespace: 'foo', name: 'pod-sa' });
    assert.match(pod.warnings.map((w) => w.message).join('\n'), /runs no EventListener pod or Service.*serviceAccountName pod-sa creates the resources/);
  });
  it('is the bridge itself when nothing names an account, and check lists the accounts the config names', () => {
    const inline = '  triggers:\n    - name: t\n      bindings: [{ref: git-clone}]\n      template: {ref: git-clone}';
    assert.equal(account(load(...base, listener(inline))), undefined);
    const config = load(...base, listener(`  serviceAccountName: el-sa\n${inline}`));
    assert.deepEqual(impersonatedAccounts(config), [{ account: { namespace: 'foo', name: 'el-sa' }, triggers: ['my-el/t'] }]);
  });
  it('refuses an account name Kubernetes would not accept', () => {
    assert.match(configError(() => load(...base, listener('  serviceAccountName: Not_Valid\n  triggers: [{name: t, template: {ref: git-clone}}]'))).message, /spec\.serviceAccountName: must be a service account name/);
  });
});
