// The rows of tektoncd/triggers v0.37.0 pkg/interceptors/cel/cel_test.go (inputs, expressions, expected results and
// errors), each naming its Go test. Where Go's error text is the Go library's own, the bridge's sentence is asserted
// instead and Go's is kept beside it; where the bridge refuses an expression when the config loads (Tekton only when a
// delivery comes), the row says so.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCelFeatureModules } from '../../../functions/adapters/cel-feature-modules.ts';
import { buildTriggersConfig } from '../../../functions/core/build-triggers-config.ts';
import { celEquals } from '../../../functions/core/cel/cel-values.ts';
import type { CelEvaluationScope } from '../../../functions/core/cel/evaluation-scope.ts';
import { parseUrlAsTekton } from '../../../functions/core/cel/go-url.ts';
import { ConfigError } from '../../../functions/core/errors.ts';
import { handleDelivery } from '../../../functions/core/handle-delivery.ts';
import { createCelEnvironment } from '../../../functions/core/interceptors/cel-environment.ts';
import { runCelInterceptor } from '../../../functions/core/interceptors/cel-interceptor.ts';
import type { CelInterceptorConfig } from '../../../functions/core/triggers-config.ts';
import { asRequest, signedDelivery, TEST_SECRET } from '../../support/deliveries.ts';

const modules = createCelFeatureModules();
const secretStore = (name: string, key: string): string | undefined => ({ 'test-secret': { token: 'secrettoken' } } as Record<string, Record<string, string>>)[name]?.[key];
const scope: CelEvaluationScope = { triggerSecrets: secretStore, budget: undefined };

// --- TestExpressionEvaluation and TestExpressionEvaluation_Error: one expression over a body built in Go (so its
// ints are CEL ints, not the doubles JSON would give).
const testSHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';
const expressionBody = {
  value: 'testing',
  sha: testSHA,
  ref: 'refs/heads/master',
  pull_request: { commits: 2n },
  upperMsg: 'THIS IS LOWER CASE',
  b64value: 'ZXhhbXBsZQ==',
  json_body: '{"testing": "value", "number": 2}',
  yaml_body: 'key1: value1\nkey2: value2\nkey3: value3\n',
  testURL: 'https://user:password@site.example.com/path/to?query=search#first',
  multiURL: 'https://user:password@site.example.com/path/to?query=search&query=results',
  jsonObject: { string: 'value', integer: 2n },
  jsonArray: ['one', 'two'],
  jsonObjects: [{ testing1: { testing: ['test1', 'test2'] } }],
  numbers: [1n, 2n, 3n, 4n, 5n],
  emptyList: [],
};
const expressionContext = {
  body: expressionBody,
  header: { 'X-Test-Header': ['value'] },
  extensions: {},
  requestURL: 'https://example.com/testing?param=value',
};

function evaluateExpression(source: string, context: typeof expressionContext | Record<string, unknown> = expressionContext): unknown {
  const compiled = createCelEnvironment(modules).compile(source);
  if (!compiled.ok) throw new Error(`compile: ${compiled.message}`);
  return compiled.program.evaluate(context as typeof expressionContext, scope);
}

const bytes = (text: string) => new Uint8Array(Buffer.from(text));

const expressionRows: { name: string; expr: string; want: unknown }[] = [
  { name: 'simple body value', expr: 'body.value', want: 'testing' },
  { name: 'boolean body value', expr: "body.value == 'testing'", want: true },
  { name: 'truncate a long string', expr: 'body.sha.truncate(7)', want: 'ec26c3e' },
  { name: 'truncate a string to its own length', expr: 'body.value.truncate(7)', want: 'testing' },
  { name: 'truncate a string to fewer characters than it has', expr: 'body.sha.truncate(45)', want: testSHA },
  { name: 'split a string on a character', expr: "body.ref.split('/')", want: ['refs', 'heads', 'master'] },
  { name: 'extract a branch from a non refs string', expr: "body.value.split('/')", want: ['testing'] },
  { name: 'combine split and truncate', expr: "body.value.split('/')[0].truncate(2)", want: 'te' },
  { name: 'exact header lookup', expr: "header.canonical('X-Test-Header')", want: 'value' },
  { name: 'canonical header lookup', expr: "header.canonical('x-test-header')", want: 'value' },
  { name: 'increment an integer', expr: 'body.pull_request.commits + 1', want: 3n },
  { name: 'compare string against secret', expr: "'secrettoken'.compareSecret('token', 'test-secret', 'testing-ns') ", want: true },
  { name: 'compare string against secret with no match', expr: "'nomatch'.compareSecret('token', 'test-secret', 'testing-ns') ", want: false },
  { name: 'compare string against secret in the default namespace', expr: "'secrettoken'.compareSecret('token', 'test-secret') ", want: true },
  { name: 'parse JSON body in a string', expr: "body.json_body.parseJSON().testing == 'value'", want: true },
  { name: 'compare a JSON number to an integer variable', expr: 'body.json_body.parseJSON().number == body.jsonObject.integer', want: true },
  { name: 'compare a JSON number to an int literal', expr: 'body.json_body.parseJSON().number > 1', want: true },
  { name: 'compare a JSON number to a uint literal', expr: 'body.json_body.parseJSON().number < 3u', want: true },
  { name: 'compare a JSON number to a double literal', expr: 'body.json_body.parseJSON().number == 2.0', want: true },
  { name: 'compare a JSON field to null', expr: 'body.json_body.parseJSON().number == null', want: false },
  { name: 'parse YAML body in a string', expr: "body.yaml_body.parseYAML().key1 == 'value1'", want: true },
  { name: 'parse URL', expr: "body.testURL.parseURL().path == '/path/to'", want: true },
  { name: 'parse URL and extract single string', expr: "body.testURL.parseURL().query['query'] == 'search'", want: true },
  { name: 'parse URL and extract multiple strings', expr: "body.multiURL.parseURL().queryStrings['query']", want: ['search', 'results'] },
  { name: 'parse request url', expr: 'requestURL.parseURL().path', want: '/testing' },
  { name: 'lower casing a string', expr: 'body.upperMsg.lowerAscii()', want: 'this is lower case' },
  { name: 'marshal JSON object to string', expr: 'body.jsonObject.marshalJSON()', want: '{"integer":2,"string":"value"}' },
  { name: 'marshal JSON array to string', expr: 'body.jsonArray.marshalJSON()', want: '["one","two"]' },
  { name: 'marshal JSON objects to string', expr: 'body.jsonObjects.marshalJSON()', want: '[{"testing1":{"testing":["test1","test2"]}}]' },
  { name: 'extension base64 decoding', expr: 'base64.decode(body.b64value)', want: bytes('example') },
  { name: 'extension base64 encoding', expr: "base64.encode(b'example')", want: 'ZXhhbXBsZQ==' },
  { name: 'extension string join', expr: "body.jsonArray.join(', ')", want: 'one, two' },
  { name: 'extension string join (the row Go lists twice)', expr: "body.jsonArray.join(', ')", want: 'one, two' },
  { name: 'last element in array', expr: "body.testURL.parseURL().path.split('/').last()", want: 'to' },
  { name: 'last element in empty array', expr: 'body.emptyList.last()', want: null },
  { name: 'last element in numeric array', expr: 'body.numbers.last()', want: 5n },
  { name: 'last element in literal array', expr: '[1, 2, 3, 4, 5].last()', want: 5n },
  { name: 'first element in literal array', expr: '[1, 2, 3, 4, 5].first()', want: 1n },
  { name: 'first element in array', expr: "body.testURL.parseURL().path.split('/').filter(t, t.size() > 0).first()", want: 'path' },
  { name: 'first element in empty array', expr: 'body.emptyList.first()', want: null },
  { name: 'first element in numeric array', expr: 'body.numbers.first()', want: 1n },
  { name: 'sets extension sets.contains', expr: 'sets.contains(body.numbers, [1, 6])', want: false },
  { name: 'slicing arrays', expr: '[1,2,3,4].slice(1,3)', want: [2n, 3n] },
  { name: 'cel maths', expr: 'math.greatest(body.numbers)', want: 5n },
];

describe('cel_test.go TestExpressionEvaluation', () => {
  for (const { name, expr, want } of expressionRows) {
    it(`${name}: ${expr}`, () => {
      const got = evaluateExpression(expr);
      assert.ok(celEquals(got, want), `got ${String(got)}, want ${String(want)}`);
    });
  }
});

const errorContext = {
  body: {
    value: 'testing',
    sha: testSHA,
    valid_yaml: 'key1: value1\nkey2: value2\n',
    invalid_yaml: 'key1: value1key2: value2\n',
    pull_request: { commits: [] },
  },
  header: {},
  extensions: {},
  requestURL: '',
};

// `when`: Tekton fails all of these when the delivery comes; the bridge refuses some when the config loads.
const errorRows: { name: string; expr: string; tekton: string; when: 'load' | 'delivery'; bridge: RegExp }[] = [
  { name: 'unknown value', expr: 'body.val', tekton: 'expression "body.val" failed to evaluate: no such key: val', when: 'delivery', bridge: /No such key: val/ },
  { name: 'invalid syntax', expr: "body.value = 'testing'", tekton: `failed to parse expression "body.value = 'testing'"`, when: 'load', bridge: /Unexpected|Syntax|token/i },
  { name: 'unknown function', expr: 'trunca(body.sha, 7)', tekton: "undeclared reference to 'trunca'", when: 'load', bridge: /trunca/ },
  { name: 'invalid function overloading with match', expr: "body.match('testing', 'test')", tekton: 'failed to convert to http.Header', when: 'delivery', bridge: /failed to convert to http\.Header/ },
  { name: 'invalid function overloading with canonical', expr: "body.canonical('testing')", tekton: 'failed to convert to http.Header', when: 'delivery', bridge: /failed to convert to http\.Header/ },
  { name: 'missing secret', expr: "'testing'.compareSecret('testing', 'testSecret', 'mytoken')", tekton: 'failed to find secret.*testing.*', when: 'delivery', bridge: /no key "testing" in secret "testSecret"/ },
  { name: 'invalid parseJSON body', expr: "body.value.parseJSON().test == 'test'", tekton: "invalid character 'e' in literal", when: 'delivery', bridge: /failed to decode JSON in parseJSON/ },
  { name: 'parseJSON decoding non-string', expr: "body.pull_request.parseJSON().test == 'test'", tekton: 'no such overload: parseJSON(map)', when: 'delivery', bridge: /no matching overload for 'map\.parseJSON\(\)'/ },
  { name: 'parseYAML decoding non-string', expr: "body.pull_request.parseYAML().key1 == 'value1'", tekton: 'no such overload: parseYAML(map)', when: 'delivery', bridge: /no matching overload for 'map\.parseYAML\(\)'/ },
  { name: 'unknown key', expr: "body.valid_yaml.parseYAML().key3 == 'value3'", tekton: 'no such key: key3', when: 'delivery', bridge: /No such key: key3/ },
  { name: 'invalid YAML body', expr: "body.invalid_yaml.parseYAML().key1 == 'value1'", tekton: "failed to decode 'key1: value1key2: value2\n' in parseYAML:", when: 'delivery', bridge: /failed to decode YAML in parseYAML/ },
  { name: 'marshalJSON marshalling string', expr: 'body.value.marshalJSON()', tekton: 'no such overload: marshalJSON(string)', when: 'delivery', bridge: /no matching overload for 'string\.marshalJSON\(\)'/ },
  { name: 'has function missing nested key', expr: "has(body.pull_request.repository.owner) ? body.pull_request.repository.owner : 'me'", tekton: 'failed to evaluate: no such key: repository', when: 'delivery', bridge: /No such key: repository/ },
  { name: 'truncate json', expr: 'body.pull_request.truncate(7)', tekton: 'no such overload: truncate(map, int)', when: 'delivery', bridge: /no matching overload for 'map\.truncate\(int\)'/ },
];

describe('cel_test.go TestExpressionEvaluation_Error', () => {
  for (const { name, expr, tekton, when, bridge } of errorRows) {
    it(`${name}: ${expr} (Tekton: ${JSON.stringify(tekton)})`, () => {
      const compiled = createCelEnvironment(modules).compile(expr);
      if (when === 'load') {
        assert.equal(compiled.ok, false);
        assert.match(compiled.ok ? '' : compiled.message, bridge);
        return;
      }
      assert.ok(compiled.ok, compiled.ok ? '' : compiled.message);
      assert.throws(() => compiled.program.evaluate(errorContext, scope), (error: Error) => {
        assert.match(error.message.replaceAll('__tb_', ''), bridge);
        return true;
      });
    });
  }
});

// --- TestInterceptor_Process and its _Error / _InvalidParams rows: the interceptor as a trigger runs it.
const template = { apiVersion: 'triggers.tekton.dev/v1beta1', kind: 'TriggerTemplate', metadata: { name: 't' }, spec: { resourcetemplates: [{ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { generateName: 'r-' }, spec: {} }] } };

function celInterceptor(params: Record<string, unknown>): CelInterceptorConfig {
  const listener = {
    apiVersion: 'triggers.tekton.dev/v1beta1',
    kind: 'EventListener',
    metadata: { name: 'l', namespace: 'testing-ns' },
    spec: { triggers: [{ name: 'example-trigger', interceptors: [{ ref: { name: 'cel' }, params: Object.entries(params).map(([name, value]) => ({ name, value })) }], template: { ref: 't' } }] },
  };
  const config = buildTriggersConfig(
    [
      { file: 'cel.yaml', index: 1, value: listener },
      { file: 'cel.yaml', index: 2, value: template },
    ],
    [],
    { celModules: modules },
  );
  return config.eventListeners[0]?.triggers[0]?.interceptors[0] as CelInterceptorConfig;
}

function process(params: Record<string, unknown>, body: unknown, extensions: Record<string, unknown> = {}) {
  return runCelInterceptor(celInterceptor(params), {
    event: 'push',
    payload: body,
    headers: { 'content-type': 'application/json', 'x-test': 'test-value', 'x-secret-token': 'secrettoken' },
    celHeader: { 'Content-Type': ['application/json'], 'X-Test': ['test-value'], 'X-Secret-Token': ['secrettoken'] },
    extensions,
    requestURL: 'https://testing.example.com',
    scope,
  });
}

const processRows: { name: string; filter?: string; overlays?: { key: string; expression: string }[]; body?: unknown; extensions?: Record<string, unknown>; wantExtensions?: Record<string, unknown> }[] = [
  { name: 'simple body check with matching body', filter: "body.value == 'testing'", body: { value: 'testing' } },
  { name: 'simple header check with matching header', filter: "header['X-Test'][0] == 'test-value'", body: {} },
  { name: 'overloaded header check with case insensitive matching', filter: "header.match('x-test', 'test-value')", body: {} },
  { name: 'body and header check', filter: "header.match('x-test', 'test-value') && body.value == 'test'", body: { value: 'test' } },
  { name: 'body and header canonical check', filter: "header.canonical('x-test') == 'test-value' && body.value == 'test'", body: { value: 'test' } },
  { name: 'single overlay', filter: "body.value == 'test'", overlays: [{ key: 'new', expression: 'body.value' }], body: { value: 'test' }, wantExtensions: { new: 'test' } },
  { name: 'single overlay with no filter', overlays: [{ key: 'new', expression: "body.ref.split('/')[2]" }], body: { ref: 'refs/head/master', name: 'testing' }, wantExtensions: { new: 'master' } },
  {
    name: 'overlay with string library functions',
    overlays: [
      { key: 'new', expression: "body.ref.split('/')[2]" },
      { key: 'replaced', expression: "body.name.replace('ing','ed',0)" },
    ],
    body: { ref: 'refs/head/master', name: 'testing' },
    wantExtensions: { new: 'master', replaced: 'testing' },
  },
  {
    name: 'multiple overlays',
    filter: "body.value == 'test'",
    overlays: [
      { key: 'test.one', expression: 'body.value' },
      { key: 'test.two', expression: 'body.value' },
    ],
    body: { value: 'test' },
    wantExtensions: { test: { two: 'test', one: 'test' } },
  },
  { name: 'nil body does not panic', filter: "header.match('x-test', 'test-value')", body: {} },
  {
    name: 'incrementing an integer value',
    overlays: [
      { key: 'val1', expression: 'body.count + 1.0' },
      { key: 'val2', expression: 'int(body.count) + 3' },
      { key: 'val3', expression: 'body.count + 3.5' },
      { key: 'val4', expression: 'body.measure * 3.0' },
    ],
    body: { count: 1, measure: 1.7 },
    wantExtensions: { val4: 5.1, val3: 4.5, val2: 4, val1: 2 },
  },
  { name: 'validating a secret', filter: "header.canonical('X-Secret-Token').compareSecret('token', 'test-secret', 'testing-ns')", body: { count: 1, measure: 1.7 } },
  { name: 'validating a secret with a namespace and name', filter: "header.canonical('X-Secret-Token').compareSecret('token', 'test-secret', 'testing-ns') && body.count == 1.0", body: { count: 1, measure: 1.7 } },
  { name: 'validating a secret in the default namespace', filter: "header.canonical('X-Secret-Token').compareSecret('token', 'test-secret') && body.count == 1.0", body: { count: 1, measure: 1.7 } },
  { name: 'handling a list response', overlays: [{ key: 'event', expression: "body.event.map(s, s['testing'])" }], body: { event: [{ testing: 'value' }, { testing: 'another' }] }, wantExtensions: { event: ['value', 'another'] } },
  {
    name: 'return different types of expression',
    overlays: [
      { key: 'one', expression: "'yo'" },
      { key: 'two', expression: 'false ? true : false' },
      { key: 'three', expression: 'body.test' },
    ],
    body: { value: 'test', test: { other: 'thing' } },
    wantExtensions: { one: 'yo', two: false, three: { other: 'thing' } },
  },
  {
    name: 'demonstrate defaulting logic within cel interceptor',
    overlays: [
      { key: 'one', expression: "has(body.value) ? body.value : 'default'" },
      { key: 'two', expression: "has(body.test.second) ? body.test.second : 'default'" },
      { key: 'three', expression: "has(body.test.third) && has(body.test.third.thing) ? body.value.third.thing : 'default'" },
    ],
    body: { value: 'test', test: { other: 'thing' } },
    wantExtensions: { one: 'test', two: 'default', three: 'default' },
  },
  {
    name: 'string replacement with regexp',
    overlays: [
      { key: 'replaced1', expression: 'body.value.lowerAscii().translate("[^a-z0-9]+", "")' },
      { key: 'replaced2', expression: 'body.value.lowerAscii().translate("[^a-z0-9]+", "ABC")' },
    ],
    body: { value: 'This is $an Invalid5String' },
    wantExtensions: { replaced1: 'thisisaninvalid5string', replaced2: 'thisABCisABCanABCinvalid5string' },
  },
  { name: 'filters and overlays can access passed in extensions', filter: 'extensions.foo == "bar"', overlays: [{ key: 'one', expression: 'extensions.foo' }], body: {}, extensions: { foo: 'bar' }, wantExtensions: { one: 'bar' } },
  {
    name: 'decode with cel extension to a field',
    overlays: [
      { key: 'value', expression: "base64.decode(body.b64value) == b'hello'" },
      { key: 'compare_string', expression: "base64.decode(body.b64value) == bytes('hello')" },
      { key: 'decoded', expression: 'base64.decode(body.b64value)' },
      { key: 'decoded_string', expression: 'string(base64.decode(body.b64value))' },
    ],
    body: { b64value: 'aGVsbG8=', test: 'hello' },
    wantExtensions: { value: true, compare_string: true, decoded: 'aGVsbG8=', decoded_string: 'hello' },
  },
];

describe('cel_test.go TestInterceptor_Process', () => {
  for (const { name, filter, overlays, body, extensions, wantExtensions } of processRows) {
    it(name, () => {
      const outcome = process({ ...(filter !== undefined && { filter }), ...(overlays && { overlays }) }, body ?? {}, extensions);
      assert.equal(outcome.continue, true, outcome.continue ? '' : outcome.reason);
      if (wantExtensions) assert.deepEqual(outcome.continue && outcome.extensions, wantExtensions);
    });
  }
});

function configError(params: Record<string, unknown>): string {
  try {
    celInterceptor(params);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail('the config loaded');
}

describe('cel_test.go TestInterceptor_Process_Error', () => {
  it('simple body check with non-matching body: the filter is false, and the reason says which', () => {
    const outcome = process({ filter: "body.value == 'test'" }, { value: 'testing' });
    assert.deepEqual(outcome, { continue: false, reason: "CEL filter is false: body.value == 'test'" });
  });
  it('simple header check with non matching header', () => {
    const outcome = process({ filter: "header['X-Test'][0] == 'unknown'" }, {});
    assert.deepEqual(outcome, { continue: false, reason: "CEL filter is false: header['X-Test'][0] == 'unknown'" });
  });
  it('overloaded header check with case insensitive failed match', () => {
    const outcome = process({ filter: "header.match('x-test', 'no-match')" }, {});
    assert.deepEqual(outcome, { continue: false, reason: "CEL filter is false: header.match('x-test', 'no-match')" });
  });
  it("unable to parse the expression: refused when the config loads (Tekton: \"Syntax error: token recognition error at: ''X-Test'\")", () => {
    assert.match(configError({ filter: "header['X-Test" }), /filter: CEL: .*(string|Unterminated|quote)/i);
  });
  it('unable to parse the JSON body: the bridge answers 400 before any trigger runs (Tekton: "invalid character \']\' looking for beginning of object key string")', async () => {
    const report = await handleDelivery(asRequest(await signedDelivery('push', '{]')), { config: { eventListeners: [], warnings: [], cel: { features: [], usesTriggerSecrets: false } }, secrets: [TEST_SECRET], wallClock: Date.now });
    assert.equal(report.answer.status, 400);
  });
  it('bad overlay: refused when the config loads (Tekton: "undeclared reference to \'test\'")', () => {
    assert.match(configError({ filter: "body.value == 'test'", overlays: [{ key: 'new', expression: 'test.value' }] }), /overlays\[0\]\.expression: CEL: .*test/);
  });
  it('unable to parse regexp in translate: refused when the config loads, with Go\'s message', () => {
    assert.match(
      configError({ overlays: [{ key: 'converted', expression: 'body.value.translate("[^a-z0-9+", "")' }] }),
      /overlays\[0\]\.expression: CEL: translate\(\): error parsing regexp: missing closing \]: `\[\^a-z0-9\+`/,
    );
  });
});

describe('cel_test.go TestInterceptor_Process_InvalidParams', () => {
  it('a filter that is not a string is refused when the config loads (Tekton: "failed to marshal json")', () => {
    assert.match(configError({ filter: { not: 'a string' } }), /filter: expected a CEL expression string/);
  });
});

describe('cel_test.go TestURLToMap', () => {
  it('maps https://user:testing@example.com/search?q=dotnet#first as Tekton does', () => {
    assert.deepEqual(parseUrlAsTekton('https://user:testing@example.com/search?q=dotnet#first'), {
      scheme: 'https',
      auth: { username: 'user', password: 'testing' },
      host: 'example.com',
      path: '/search',
      rawQuery: 'q=dotnet',
      fragment: 'first',
      query: Object.assign(Object.create(null), { q: 'dotnet' }),
      queryStrings: { q: ['dotnet'] },
    });
  });
});

describe('cel_test.go TestMakeEvalContextWithError', () => {
  it('a body that is not JSON is answered 400 (Tekton: "failed to parse the body as JSON: unexpected end of JSON input")', async () => {
    const report = await handleDelivery(asRequest(await signedDelivery('push', '{"tes')), { config: { eventListeners: [], warnings: [], cel: { features: [], usesTriggerSecrets: false } }, secrets: [TEST_SECRET], wallClock: Date.now });
    assert.equal(report.answer.status, 400);
  });
});
