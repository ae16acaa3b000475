import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  evaluateExpression,
  findTektonExpressions,
  parseBindingValue,
  relaxedJsonPathExpression,
  resolveParams,
  tektonEvent,
  tektonJsonPathExpression,
} from '../../functions/core/binding-expressions.ts';
import { parseJsonPath } from '../../functions/core/jsonpath.ts';
import { tektonHeaders } from '../../functions/core/tekton-headers.ts';
import type { BindingParam, TemplateParam } from '../../functions/core/triggers-config.ts';

// Rows of tektoncd/triggers v0.37.0 pkg/template/jsonpath_test.go and event_test.go, each block named after its Go test.

/** Tekton's parseJSONPath(data, expr): the expression as Tekton unwraps and evaluates it. */
function parseJSONPath(data: unknown, expression: string): { ok: true; text: string } | { ok: false; message: string } {
  let template;
  try {
    template = parseJsonPath(tektonJsonPathExpression(expression));
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
  return evaluateExpression({ original: expression, expression, template }, data);
}

const objects = '{"a":"v\\r\\n烈","c":{"d":"e"},"empty": "","null": null, "number": 42}';
const arrays = '[{"a": "b"}, {"c": "d"}, {"e": "f"}]';
const noSpaces = (text: string) => text.replaceAll(' ', '');

describe('jsonpath_test.go TestParseJSONPath', () => {
  const objectBody = JSON.parse(`{"body":${objects}}`);
  const arrayBody = JSON.parse(`{"body":${arrays}}`);
  const rows: [name: string, input: unknown, expression: string, want: string][] = [
    ['objects', objectBody, '$(body)', objects],
    ['array of objects', arrayBody, '$(body)', arrays],
    ['array of values', JSON.parse('{"body": ["a", "b", "c"]}'), '$(body)', '["a", "b", "c"]'],
    ['string values', objectBody, '$(body.a)', 'v\\r\\n烈'],
    ['empty string', objectBody, '$(body.empty)', ''],
    ['numbers', objectBody, '$(body.number)', '42'],
    ['booleans', JSON.parse('{"body": {"bool": true}}'), '$(body.bool)', 'true'],
    ['null values', objectBody, '$(body.null)', 'null'],
    ['multiple results', arrayBody, '$(body[:2])', '[{"a": "b"}, {"c": "d"}]'],
    ['multiple results with empty string', JSON.parse('{"body":["", "some", "thing"]}'), '$(body[:2])', '["", "some"]'],
    ['multiple results newlines/special chars', JSON.parse('{"body":["", "v\\r\\n烈", "thing"]}'), '$(body[:2])', '["", "v\\r\\n烈"]'],
    ['multiple results with null', JSON.parse('{"body":["", null, "thing"]}'), '$(body[:2])', '["", null]'],
    ['Array filters', JSON.parse('{"body":{"child":[{"a": "b", "w": "1"}, {"a": "c", "w": "2"}, {"a": "d", "w": "3"}]}}'), "$(body.child[?(@.a == 'd')].w)", '3'],
  ];
  for (const [name, input, expression, want] of rows) {
    it(name, () => assert.deepEqual(parseJSONPath(input, expression), { ok: true, text: noSpaces(want) }));
  }
});

describe('jsonpath_test.go TestParseJSONPath_Error', () => {
  const data = JSON.parse('{"body": {"key": "val"}}');
  for (const expression of ['$({.hello)', '$(+12.3.0)', '$([1)', '$(body', 'body)', 'body', '$(body.missing)', '$(body.key[0])']) {
    it(expression, () => assert.equal(parseJSONPath(data, expression).ok, false));
  }
});

describe('jsonpath_test.go TestTektonJSONPathExpression and TestTektonJSONPathExpression_Error', () => {
  const rows: [string, string][] = [
    ['$(metadata.name)', '{.metadata.name}'],
    ['$(.metadata.name)', '{.metadata.name}'],
    ['$({.metadata.name})', '{.metadata.name}'],
    ['$()', ''],
  ];
  for (const [expression, want] of rows) it(expression, () => assert.equal(tektonJsonPathExpression(expression), want));
  for (const expression of ['{.metadata.name}', '', '$({asd)', '$({)', '$({foo.bar)', '$(foo.bar})', '$({foo.bar}})', '$({{foo.bar)']) {
    it(`refuses ${JSON.stringify(expression)}`, () => assert.throws(() => tektonJsonPathExpression(expression), { name: 'JsonPathError' }));
  }
});

describe('jsonpath_test.go TestRelaxedJSONPathExpression and TestRelaxedJSONPathExpression_Error', () => {
  const rows: [string, string][] = [
    ['metadata.name', '{.metadata.name}'],
    ['.metadata.name', '{.metadata.name}'],
    ['{.metadata.name}', '{.metadata.name}'],
    ['', ''],
  ];
  for (const [path, want] of rows) it(JSON.stringify(path), () => assert.equal(relaxedJsonPathExpression(path), want));
  for (const path of ['{foo.bar', 'foo.bar}', '{foo.bar}}', '{{foo.bar}']) {
    it(`refuses ${path}`, () => assert.throws(() => relaxedJsonPathExpression(path), { name: 'JsonPathError' }));
  }
});

describe('jsonpath_test.go TestFindTektonExpressions', () => {
  const rows: [input: string, want: string[], original: string[]][] = [
    ['$(body.blah)', ['$(body.blah)'], ['$(body.blah)']],
    ['$(body.blah)-$(header.*)', ['$(body.blah)', '$(header.*)'], ['$(body.blah)', '$(header.*)']],
    ['start:$(body.blah)//middle//$(header.one)-end', ['$(body.blah)', '$(header.One)'], ['$(body.blah)', '$(header.one)']],
    ['start:$(body.blah)//middle//$(header.One)-end', ['$(body.blah)', '$(header.One)'], ['$(body.blah)', '$(header.One)']],
    ['start:$(body.blah)//middle//$(header.ONE-TWO)-end', ['$(body.blah)', '$(header.One-Two)'], ['$(body.blah)', '$(header.ONE-TWO)']],
    ["start:$(body.[?(@.a == 'd')])-$(body.another-one)", ["$(body.[?(@.a == 'd')])", '$(body.another-one)'], ["$(body.[?(@.a == 'd')])", '$(body.another-one)']],
    ['$(this)-$(not-this', ['$(this)'], ['$(this)']],
    ['$body.)', [], []],
    ['($(body.blah))-and-$(body.foo)', ['$(body.blah)', '$(body.foo)'], ['$(body.blah)', '$(body.foo)']],
    ['(staticvalue)$(body.blah)', ['$(body.blah)'], ['$(body.blah)']],
    ['asd)$(asd', [], []],
    ['onlystatic', [], []],
    ['', [], []],
    ['$())))', ['$()'], ['$()']],
    ['$($())', ['$()'], ['$()']],
    ['$($($(blahblah)))', ['$(blahblah)'], ['$(blahblah)']],
  ];
  for (const [input, results, originals] of rows) {
    it(JSON.stringify(input), () => assert.deepEqual(findTektonExpressions(input), { results, originals }));
  }
});

function bindings(params: { name: string; value: string }[]): BindingParam[] {
  return params.map(({ name, value }) => {
    const parsed = parseBindingValue(value);
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.message);
    return { name, value: parsed.value, source: 'inline' };
  });
}

/** Tekton's applyEventValuesToParams over a delivery: header values given as the adapters join them. */
function applyEventValuesToParams(
  params: { name: string; value: string }[],
  event: { body?: unknown; headers?: Record<string, string>; extensions?: Record<string, unknown> },
  defaults: TemplateParam[] = [],
) {
  const lowerCased = Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]));
  const tekton = tektonEvent(event.body, tektonHeaders(lowerCased), event.extensions ?? {}, '1234567');
  const resolved = resolveParams(bindings(params), defaults, 'tt-name', tekton);
  return resolved.ok ? Object.fromEntries(resolved.params) : resolved;
}

describe('event_test.go TestApplyEventValuesMergeInDefaultParams', () => {
  const one = { name: 'oneid', default: 'onedefault' };
  const two = { name: 'twoid', default: 'twodefault' };
  const three = { name: 'threeid', default: 'threedefault' };
  const rows: [name: string, params: { name: string; value: string }[], specs: TemplateParam[], want: Record<string, string>][] = [
    ['add one default param', [], [one], { oneid: 'onedefault' }],
    ['add multiple default params', [], [one, two, three], { oneid: 'onedefault', twoid: 'twodefault', threeid: 'threedefault' }],
    ['do not override existing value', [{ name: 'oneid', value: 'onevalue' }], [one], { oneid: 'onevalue' }],
    ['add no default params', [], [{ name: 'nodefault', default: undefined }], {}],
  ];
  for (const [name, params, specs, want] of rows) it(name, () => assert.deepEqual(applyEventValuesToParams(params, {}, specs), want));
});

describe('event_test.go TestApplyEventValuesToParams', () => {
  const objectsBody = JSON.parse('{"a":"v","c":{"d":"e"},"empty": "","null": null, "number": 42}');
  const arraysBody = JSON.parse(arrays);
  const child = JSON.parse('{"child":[{"a": "b", "w": "1"}, {"a": "c", "w": "2"}, {"a": "d", "w": "3"}]}');
  const rows: [name: string, value: string, event: Parameters<typeof applyEventValuesToParams>[1], want: string][] = [
    ['header with single values', '$(header)', { headers: { 'Header-One': 'val1,val2' } }, '{"Header-One":"val1,val2"}'],
    ['header keys miss-match case', '$(header.header-one)', { headers: { 'Header-One': 'val1' } }, 'val1'],
    ['header keys match case', '$(header.Header-One)', { headers: { 'Header-One': 'val1' } }, 'val1'],
    ['headers - multiple values joined by comma', '$(header.header-one)', { headers: { 'Header-One': 'val1,val2' } }, 'val1,val2'],
    ['header values', '$(header)', { headers: { 'Header-One': 'val1,val2' } }, '{"Header-One":"val1,val2"}'],
    ['no body', '$(body)', {}, 'null'],
    ['empty body', '$(body)', { body: {} }, '{}'],
    ['entire body', '$(body)', { body: objectsBody }, '{"a":"v","c":{"d":"e"},"empty":"","null":null,"number":42}'],
    ['entire array body', '$(body)', { body: arraysBody }, noSpaces(arrays)],
    ['array key', '$(body.a[1])', { body: JSON.parse('{"a": [{"k": 1}, {"k": 2}, {"k": 3}]}') }, '{"k":2}'],
    ['array last key', '$(body.a[-1:])', { body: JSON.parse('{"a": [{"k": 1}, {"k": 2}, {"k": 3}]}') }, '{"k":3}'],
    ['body - key with string val', '$(body.a)', { body: objectsBody }, 'v'],
    ['body - key with object val', '$(body.c)', { body: objectsBody }, '{"d":"e"}'],
    ['body with special chars', '$(body)', { body: JSON.parse('{"a": "v\\r\\n烈"}') }, '{"a":"v\\r\\n烈"}'],
    ['param contains multiple JSONPath expressions', '$(body.a): $(body.b)', { body: { a: 'val1', b: 'val2' } }, 'val1: val2'],
    ['param contains both static values and JSONPath expressions', 'body.a is: $(body.a)', { body: { a: 'val1' } }, 'body.a is: val1'],
    ['Array filters', "$(body.child[?(@.a == 'd')].w)", { body: child }, '3'],
    ['filters + multiple JSONPath expressions', "$(body.child[?(@.a == 'd')].w) : $(body.child[0].a)", { body: child }, '3 : b'],
    ['extensions', '$(extensions.foo)', { extensions: { foo: 'bar' } }, 'bar'],
    ['extensions - extract single value from JSON body', '$(extensions.foo.bar[1])', { extensions: { foo: { bar: ['a', 'b', 'c'] } } }, 'b'],
    ['extensions - extract JSON values', '$(extensions.foo)', { extensions: { foo: [{ a: '1' }, { b: '2' }] } }, '[{"a":"1"},{"b":"2"}]'],
  ];
  for (const [name, value, event, want] of rows) it(name, () => assert.deepEqual(applyEventValuesToParams([{ name: 'foo', value }], event), { foo: want }));
  it('multiple params', () => {
    const params = [
      { name: 'foo', value: '$(body.a)' },
      { name: 'bar', value: '$(header.header-1)' },
    ];
    assert.deepEqual(applyEventValuesToParams(params, { body: { a: 'val1' }, headers: { 'Header-1': 'val2' } }), { foo: 'val1', bar: 'val2' });
  });
});

describe('event_test.go TestApplyEventValuesToParams_Error', () => {
  // "non JSON body" is not ported: the bridge answers 400 to a body that is not JSON before any trigger runs.
  const rows: [name: string, value: string, event: Parameters<typeof applyEventValuesToParams>[1]][] = [
    ['missing key', '$(body.missing)', { body: {} }],
    ['invalid expression(s)', '$(body.[0])', { body: ['a', 'b'] }],
    ['invalid extension', '$(extensions.missing)', { body: {}, extensions: { foo: 'bar' } }],
  ];
  for (const [name, value, event] of rows) {
    it(name, () => assert.equal((applyEventValuesToParams([{ name: 'foo', value }], event) as { ok?: boolean }).ok, false));
  }
});

describe('event_test.go TestResolveParams and TestResolveParams_Error', () => {
  const rows: [name: string, params: { name: string; value: string }[], body: unknown, specs: TemplateParam[], want: Record<string, string>][] = [
    ['add default values for params with missing values', [{ name: 'p1', value: 'val1' }], undefined, [{ name: 'p2', default: 'defaultVal' }], { p2: 'defaultVal', p1: 'val1' }],
    [
      'add default values if param missing from body',
      [
        { name: 'p1', value: 'val1' },
        { name: 'p2', value: '$(body.p2)' },
      ],
      undefined,
      [{ name: 'p2', default: 'defaultVal' }],
      { p2: 'defaultVal', p1: 'val1' },
    ],
    ['default values do not override event values', [{ name: 'p1', value: 'val1' }], undefined, [{ name: 'p1', default: 'defaultVal' }], { p1: 'val1' }],
    [
      'combination of static values and JSONPath expressions',
      [{ name: 'p1', value: 'Event values are - foo: $(body.foo); bar: $(body.bar)' }],
      { foo: 'fooValue', bar: 'barValue' },
      [],
      { p1: 'Event values are - foo: fooValue; bar: barValue' },
    ],
    [
      'values with newlines',
      [
        { name: 'param1', value: 'qux' },
        { name: 'param2', value: '$(body.foo)' },
        { name: 'event1', value: '$(context.eventID)' },
      ],
      { foo: 'bar\r\nbaz' },
      [
        { name: 'param1', default: '' },
        { name: 'param2', default: '' },
      ],
      { param1: 'qux', param2: 'bar\\r\\nbaz', event1: '1234567' },
    ],
  ];
  for (const [name, params, body, specs, want] of rows) it(name, () => assert.deepEqual(applyEventValuesToParams(params, { body }, specs), want));
  // "invalid body" is not ported (the bridge answers 400 first); "invalid expression" cannot even load:
  it('invalid expression: $(header.[) is a config error', () => {
    const parsed = parseBindingValue('$(header.[)');
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? '' : parsed.message, /unterminated array/);
  });
});

describe('bindings Tekton could never evaluate are config errors', () => {
  const rows: [string, RegExp][] = [
    ['$(body["repository"])', /invalid array index "repository"/],
    ['$(bodyy.after)', /the event has header, body, extensions and context, not "bodyy"/],
    ['$(body.commits range)', /a range block needs \{…\}/],
    ['$(body.a foo)', /"foo" is no JSONPath/],
    ['$(body.list[?(@.a === 1)])', /unrecognized filter operator ===/],
    ['$({body.a)', /not a JSONPath Tekton Triggers can evaluate/],
  ];
  for (const [value, message] of rows) {
    it(value, () => {
      const parsed = parseBindingValue(value);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.message, message);
    });
  }
});

describe('a payload nested deeper than the stack', () => {
  it('fails the expression with a reason instead of throwing', () => {
    let body: unknown = 'leaf';
    for (let i = 0; i < 200_000; i += 1) body = [body];
    const resolved = resolveParams(bindings([{ name: 'all', value: '$(body..x)' }]), [], 'tt', tektonEvent(body, {}, {}, 'id'));
    assert.equal(resolved.ok, false);
    assert.match(resolved.ok ? '' : resolved.reason, /nested too deeply/);
  });
});
