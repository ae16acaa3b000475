import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeTektonVariables, renderResources, spliceTemplateString } from '../../functions/core/render-resources.ts';
import { deterministicUid } from '../../functions/core/resource-names.ts';

// Rows of tektoncd/triggers v0.37.0 pkg/template/resource_test.go and event_test.go (TestResolveResources). Tekton
// splices values into a resource template's raw JSON; the bridge renders each string of the parsed template so, and
// these rows check that the object it ends with is the one Tekton's JSON parses to.

/** Every string (keys too) of a parsed template, rendered as Tekton's splice of `params` leaves it. */
function applyParams(rawTemplate: string, params: Record<string, string>, oldEscape = false, uid = 'the-uid'): unknown {
  const splice = { params: new Map(Object.entries(params)), uid, oldEscapeQuotes: oldEscape };
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const rendered = spliceTemplateString(value, splice);
      assert.ok(rendered.ok, rendered.ok ? '' : rendered.reason);
      return rendered.value;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [walk(key), walk(item)]));
    return value;
  };
  return walk(JSON.parse(rawTemplate));
}

describe('resource_test.go Test_escapeTektonVariables', () => {
  const rows: [name: string, input: string, want: string][] = [
    ['no tekton variables', 'simple text without variables', 'simple text without variables'],
    ['single tekton variable', '$(tasks.initial-skip-check.results.skip)', '$$(tasks.initial-skip-check.results.skip)'],
    ['multiple tekton variables', '$(tasks.a.results.b) and $(params.c) and $(context.d.e)', '$$(tasks.a.results.b) and $$(params.c) and $$(context.d.e)'],
    [
      'tekton variables in yaml',
      'tasks:\n  - name: test\n    value: $(params.foo)\n    result: $(tasks.bar.results.baz)',
      'tasks:\n  - name: test\n    value: $$(params.foo)\n    result: $$(tasks.bar.results.baz)',
    ],
    ['already escaped variable', '$$(tasks.already.escaped)', '$$$(tasks.already.escaped)'],
    ['mixed content', 'Normal text with $(params.value) and more text', 'Normal text with $$(params.value) and more text'],
  ];
  for (const [name, input, want] of rows) it(name, () => assert.equal(escapeTektonVariables(input), want));
});

describe('resource_test.go Test_applyParamToResourceTemplate', () => {
  // Not ported: "escape quotes in param val" and "escape string with object with quoted string" splice into an
  // unquoted $(tt.params.p1), which no YAML template can hold (YAML makes it a string).
  const oneParam = { oneid: 'onevalue' };
  const quotedString = 'this is a \\"quoted\\" string';
  const prBody = (value: string) => `{"spec": {"params": [{"name": "pr-body", "value": "${value}"}]}}`;
  const rows: [name: string, params: Record<string, string>, rt: string, want: string, oldEscape?: boolean][] = [
    ['replace no param vars', oneParam, '{"foo": "bar"}', '{"foo": "bar"}'],
    ['replace no param vars with non match present', oneParam, '{"foo": "$(tt.params.no.matching.path)"}', '{"foo": "$(tt.params.no.matching.path)"}'],
    ['replace one param var', oneParam, '{"foo": "bar-$(tt.params.oneid)-bar"}', '{"foo": "bar-onevalue-bar"}'],
    [
      'replace multiple param vars',
      oneParam,
      '{"$(tt.params.oneid)": "bar-$(tt.params.oneid)-$(tt.params.oneid)$(tt.params.oneid)$(tt.params.oneid)-$(tt.params.oneid)-bar"}',
      '{"onevalue": "bar-onevalue-onevalueonevalueonevalue-onevalue-bar"}',
    ],
    ['escape quotes in param val - old escaping', { p1: '{"a":"b"}' }, '{"foo": "$(tt.params.p1)"}', '{"foo": "{\\"a\\":\\"b\\"}"}', true],
    ['escape string with quoted message inside', { p1: quotedString }, '{"foo": "$(tt.params.p1)"}', '{"foo": "this is a \\"quoted\\" string"}'],
    ['join string with quoted message', { p1: quotedString }, '{"foo": "bar-$(tt.params.p1)-bar"}', '{"foo": "bar-this is a \\"quoted\\" string-bar"}'],
    ['escape tekton variable syntax - simple', { 'pr-body': '$(tasks.initial-skip-check.results.skip)' }, prBody('$(tt.params.pr-body)'), prBody('$$(tasks.initial-skip-check.results.skip)')],
    [
      'escape tekton variable syntax - multiple occurrences',
      { 'pr-body': 'timeout: $(tasks.slack-start.results.thread-timestamp) and $(tasks.initial-skip-check.results.skip)' },
      prBody('$(tt.params.pr-body)'),
      prBody('timeout: $$(tasks.slack-start.results.thread-timestamp) and $$(tasks.initial-skip-check.results.skip)'),
    ],
    [
      'escape tekton variable syntax - real PR body example',
      { 'pr-body': 'Fixed issue with $(tasks.initial-skip-check.results.skip) and $(tasks.slack-start.results.thread-timestamp)' },
      prBody('$(tt.params.pr-body)'),
      prBody('Fixed issue with $$(tasks.initial-skip-check.results.skip) and $$(tasks.slack-start.results.thread-timestamp)'),
    ],
    ['escape tekton variable syntax - params reference', { 'pr-body': 'value: $(params.git-tag)' }, prBody('$(tt.params.pr-body)'), prBody('value: $$(params.git-tag)')],
    ['escape tekton variable syntax - context reference', { 'pr-body': 'name: $(context.pipelineRun.name)' }, prBody('$(tt.params.pr-body)'), prBody('name: $$(context.pipelineRun.name)')],
  ];
  for (const [name, params, rt, want, oldEscape] of rows) it(name, () => assert.deepEqual(applyParams(rt, params, oldEscape), JSON.parse(want)));
});

describe('resource_test.go Test_ApplyParamsToResourceTemplate', () => {
  // Tekton's rows leave the closing brace off the template; it is added here so the template parses.
  const rt = '{"oneparam": "$(tt.params.oneid)", "twoparam": "$(tt.params.twoid)", "threeparam": "$(tt.params.threeid)"}';
  const rt3 = '{"actualParam": "$(tt.params.oneid)", "invalidParam": "$(tt.params1.invalidid)", "deprecatedParam": "$(params.twoid)"}';
  const rows: [name: string, params: Record<string, string>, template: string, want: string, oldEscape?: boolean][] = [
    ['no params', {}, rt, rt],
    ['one param', { oneid: 'onevalue' }, rt, '{"oneparam": "onevalue", "twoparam": "$(tt.params.twoid)", "threeparam": "$(tt.params.threeid)"}'],
    ['old escape behaviour', { oneid: 'this "is a value"' }, rt, '{"oneparam": "this \\"is a value\\"", "twoparam": "$(tt.params.twoid)", "threeparam": "$(tt.params.threeid)"}', true],
    ['multiple params', { oneid: 'onevalue', twoid: 'twovalue', threeid: 'threevalue' }, rt, '{"oneparam": "onevalue", "twoparam": "twovalue", "threeparam": "threevalue"}'],
    [
      'valid and invalid params together',
      { oneid: 'actualValue', invalidid: 'invalidValue', twoid: 'deprecatedParamValue' },
      rt3,
      '{"actualParam": "actualValue", "invalidParam": "$(tt.params1.invalidid)", "deprecatedParam": "$(params.twoid)"}',
    ],
  ];
  for (const [name, params, template, want, oldEscape] of rows) it(name, () => assert.deepEqual(applyParams(template, params, oldEscape), JSON.parse(want)));
});

describe('event_test.go TestResolveResources (all rows under the old-escape-quotes annotation, as there)', () => {
  const rows: [name: string, templates: string[], params: Record<string, string>, want: string[]][] = [
    ['replace single values in templates', ['{"rt1": "$(tt.params.p1)-$(tt.params.p2)"}', '{"rt2": "$(tt.params.p1)-$(tt.params.p2)"}'], { p1: 'val1', p2: '42' }, ['{"rt1": "val1-42"}', '{"rt2": "val1-42"}']],
    ['replace JSON string in templates', ['{"rt1": "$(tt.params.p1)"}'], { p1: '{"a": "b"}' }, ['{"rt1": "{\\"a\\": \\"b\\"}"}']],
    ['replace JSON string with special chars in templates', ['{"rt1": "$(tt.params.p1)"}'], { p1: '{"a": "v\\\\r\\\\n烈"}' }, ['{"rt1": "{\\"a\\": \\"v\\\\r\\\\n烈\\"}"}']],
  ];
  for (const [name, templates, params, want] of rows) {
    it(name, () => assert.deepEqual(templates.map((t) => applyParams(t, params, true)), want.map((w) => JSON.parse(w))));
  }
  it('$(uid) gets replaced with a string, the same across templates (the bridge derives it from the signed body)', () => {
    const uid = deterministicUid('d'.repeat(64), 'el', 'trigger');
    const rendered = renderResources({
      template: {
        name: 'tt',
        params: [],
        oldEscapeQuotes: true,
        resourcetemplates: [
          { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'a' }, spec: { rt1: '$(uid)' } },
          { apiVersion: 'tekton.dev/v1', kind: 'TaskRun', metadata: { name: 'b' }, spec: { rt2: '$(uid)' } },
        ],
      },
      params: new Map(),
      deliveryId: 'delivery',
      bodyDigest: 'd'.repeat(64),
      trigger: 'trigger',
      eventListener: 'el',
      namespace: 'ns',
      summary: { repository: undefined, ref: undefined, commit: undefined },
    });
    assert.ok(rendered.ok);
    assert.deepEqual(rendered.resources.map((r) => r.spec), [{ rt1: uid }, { rt2: uid }]);
  });
});

describe('what Tekton would splice into JSON text, and the bridge will not', () => {
  const splice = (value: string, template = 'x-$(tt.params.p)-y') => spliceTemplateString(template, { params: new Map([['p', value]]), uid: 'u', oldEscapeQuotes: false });
  const refused: [string, string][] = [
    ['a JSON object', '{"a":"b"}'],
    ['a raw quote (Tekton would end the string there)', 'say "hi"'],
    ['a backslash that starts no JSON escape', 'C:\\path'],
    ['a raw newline', 'line\nline'],
  ];
  for (const [what, value] of refused) {
    it(`refuses ${what}`, () => assert.match(splice(value).ok ? '' : (splice(value) as { reason: string }).reason, /does not fit inside a JSON string/));
  }
  it('decodes what Tekton decodes: a JSON escape in a value is read as one, and a trailing backslash escapes the template', () => {
    assert.deepEqual(splice('tab\\there'), { ok: true, value: 'x-tab\there-y' });
    assert.deepEqual(splice('\\u003c'), { ok: true, value: 'x-<-y' });
    assert.deepEqual(splice('a\\', '$(tt.params.p)n'), { ok: true, value: 'a\n' });
  });
  it('accepts what stays a string: numbers, booleans, arrays of numbers, empty objects', () => {
    for (const value of ['42', 'true', '[1,2]', '{}', 'null']) assert.deepEqual(splice(value), { ok: true, value: `x-${value}-y` });
  });
  it('leaves $(tt.params.x) of a param nobody set as written, as Tekton does', () => {
    assert.deepEqual(splice('v', '$(tt.params.other) $(tt.params.p)'), { ok: true, value: '$(tt.params.other) v' });
  });
});
