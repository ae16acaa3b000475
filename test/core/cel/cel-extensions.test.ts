// cel-go's extension libraries as Tekton v0.37.0 loads them (vendor/github.com/google/cel-go/ext at v0.30.0): the
// examples their documentation gives, and the edges where cel-js's own functions differ from cel-go's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCelFeatureModules } from '../../../functions/adapters/cel-feature-modules.ts';
import { celEquals } from '../../../functions/core/cel/cel-values.ts';
import { createCelEnvironment } from '../../../functions/core/interceptors/cel-environment.ts';

const environment = createCelEnvironment(createCelFeatureModules());
const context = { body: { labels: [{ name: 'test-a' }, { name: 'test-b' }], count: 2, measure: 1.7 }, header: {}, extensions: {}, requestURL: '' };

function evaluate(source: string): unknown {
  const compiled = environment.compile(source);
  if (!compiled.ok) throw new Error(`compile: ${compiled.message}`);
  return compiled.program.evaluate(context, { triggerSecrets: undefined, budget: undefined });
}

function compileError(source: string): string {
  const compiled = environment.compile(source);
  assert.equal(compiled.ok, false, `${source} compiled`);
  return compiled.ok ? '' : compiled.message;
}

const u = (text: string) => new Uint8Array(Buffer.from(text));

const rows: { source: string; expr: string; want: unknown }[] = [
  // strings.go
  { source: 'strings.go CharAt', expr: "'hello'.charAt(4)", want: 'o' },
  { source: 'strings.go CharAt', expr: "'hello'.charAt(5)", want: '' },
  { source: 'strings.go IndexOf', expr: "'hello mellow'.indexOf('')", want: 0n },
  { source: 'strings.go IndexOf', expr: "'hello mellow'.indexOf('ello')", want: 1n },
  { source: 'strings.go IndexOf', expr: "'hello mellow'.indexOf('jello')", want: -1n },
  { source: 'strings.go IndexOf', expr: "'hello mellow'.indexOf('', 2)", want: 2n },
  { source: 'strings.go IndexOf', expr: "'hello mellow'.indexOf('ello', 2)", want: 7n },
  { source: 'strings.go IndexOf', expr: "'hello mellow'.indexOf('ello', 20)", want: -1n },
  { source: 'strings.go Join', expr: "['hello', 'mellow'].join()", want: 'hellomellow' },
  { source: 'strings.go Join', expr: "['hello', 'mellow'].join(' ')", want: 'hello mellow' },
  { source: 'strings.go Join', expr: '[].join()', want: '' },
  { source: 'strings.go Join', expr: "[].join('/')", want: '' },
  { source: 'strings.go LastIndexOf', expr: "'hello mellow'.lastIndexOf('')", want: 12n },
  { source: 'strings.go LastIndexOf', expr: "'hello mellow'.lastIndexOf('ello')", want: 7n },
  { source: 'strings.go LastIndexOf', expr: "'hello mellow'.lastIndexOf('jello')", want: -1n },
  { source: 'strings.go LastIndexOf', expr: "'hello mellow'.lastIndexOf('ello', 6)", want: 1n },
  { source: 'strings.go LastIndexOf', expr: "'hello mellow'.lastIndexOf('ello', 20)", want: -1n },
  { source: 'strings.go LowerAscii', expr: "'TacoCat'.lowerAscii()", want: 'tacocat' },
  { source: 'strings.go LowerAscii', expr: "'TacoCÆt Xii'.lowerAscii()", want: 'tacocÆt xii' },
  { source: 'strings.go Quote', expr: 'strings.quote(\'single-quote with "double quote"\')', want: '"single-quote with \\"double quote\\""' },
  { source: 'strings.go Quote', expr: 'strings.quote("two escape sequences \\a\\n")', want: '"two escape sequences \\a\\n"' },
  { source: 'strings.go Replace', expr: "'hello hello'.replace('he', 'we')", want: 'wello wello' },
  { source: 'strings.go Replace', expr: "'hello hello'.replace('he', 'we', -1)", want: 'wello wello' },
  { source: 'strings.go Replace', expr: "'hello hello'.replace('he', 'we', 1)", want: 'wello hello' },
  { source: 'strings.go Replace', expr: "'hello hello'.replace('he', 'we', 0)", want: 'hello hello' },
  { source: 'strings.go Replace', expr: "'hello hello'.replace('', '_')", want: '_h_e_l_l_o_ _h_e_l_l_o_' },
  { source: 'strings.go Replace', expr: "'hello hello'.replace('h', '')", want: 'ello ello' },
  { source: 'strings.go Split', expr: "'hello hello hello'.split(' ')", want: ['hello', 'hello', 'hello'] },
  { source: 'strings.go Split', expr: "'hello hello hello'.split(' ', 0)", want: [] },
  { source: 'strings.go Split', expr: "'hello hello hello'.split(' ', 1)", want: ['hello hello hello'] },
  { source: 'strings.go Split', expr: "'hello hello hello'.split(' ', 2)", want: ['hello', 'hello hello'] },
  { source: 'strings.go Split', expr: "'hello hello hello'.split(' ', -1)", want: ['hello', 'hello', 'hello'] },
  { source: 'strings.go Substring', expr: "'tacocat'.substring(4)", want: 'cat' },
  { source: 'strings.go Substring', expr: "'tacocat'.substring(0, 4)", want: 'taco' },
  { source: 'strings.go Trim', expr: "'  \\ttrim\\n    '.trim()", want: 'trim' },
  { source: 'strings.go UpperAscii', expr: "'TacoCat'.upperAscii()", want: 'TACOCAT' },
  { source: 'strings.go UpperAscii', expr: "'TacoCÆt Xii'.upperAscii()", want: 'TACOCÆT XII' },
  { source: 'strings.go Reverse', expr: "'gums'.reverse()", want: 'smug' },
  { source: 'strings.go Reverse', expr: "'John Smith'.reverse()", want: 'htimS nhoJ' },
  { source: 'strings.go Format', expr: '"this is a string: %s\\nand an integer: %d".format(["str", 42])', want: 'this is a string: str\nand an integer: 42' },
  { source: 'strings.go Format', expr: '"a double substituted with %%s: %s".format([64.2])', want: 'a double substituted with %s: 64.2' },
  // strings.go documents type(string) here, whose value is the type `type` (cel-spec); the type string itself:
  { source: 'strings.go Format', expr: '"string type: %s".format([string])', want: 'string type: string' },
  { source: 'strings.go Format', expr: '"timestamp: %s".format([timestamp("2023-02-03T23:31:20+00:00")])', want: 'timestamp: 2023-02-03T23:31:20Z' },
  { source: 'strings.go Format', expr: '"%f".format([3.14])', want: '3.140000' },
  { source: 'strings.go Format', expr: '"5 in binary: %b".format([5])', want: '5 in binary: 101' },
  { source: 'strings.go Format', expr: '"26 in hex: %x".format([26])', want: '26 in hex: 1a' },
  { source: 'strings.go Format', expr: '"26 in hex (uppercase): %X".format([26])', want: '26 in hex (uppercase): 1A' },
  { source: 'strings.go Format', expr: '"30 in octal: %o".format([30])', want: '30 in octal: 36' },
  { source: 'strings.go Format', expr: '"true bool: %s - false bool: %s\\nbinary bool: %b".format([true, false, true])', want: 'true bool: true - false bool: false\nbinary bool: 1' },
  // Go's fmt rounds the exact binary value, ties to even; JavaScript's toFixed takes 2.5 up.
  { source: 'Go fmt %.0f', expr: '"%.0f %.0f %.1f".format([2.5, 3.5, 0.25])', want: '2 4 0.2' },
  { source: 'Go fmt %e', expr: '"%e %.2e".format([2.71828, 123456.0])', want: '2.718280e+00 1.23e+05' },
  // lists.go
  { source: 'lists.go Distinct', expr: '[1, 2, 2, 3, 3, 3].distinct()', want: [1n, 2n, 3n] },
  { source: 'lists.go Distinct', expr: '["b", "b", "c", "a", "c"].distinct()', want: ['b', 'c', 'a'] },
  { source: 'lists.go Distinct', expr: '[1, "b", 2, "b"].distinct()', want: [1n, 'b', 2n] },
  { source: 'lists.go Range', expr: 'lists.range(5)', want: [0n, 1n, 2n, 3n, 4n] },
  { source: 'lists.go Reverse', expr: '[5, 3, 1, 2].reverse()', want: [2n, 1n, 3n, 5n] },
  { source: 'lists.go Slice', expr: '[1,2,3,4].slice(1, 3)', want: [2n, 3n] },
  { source: 'lists.go Slice', expr: '[1,2,3,4].slice(2, 4)', want: [3n, 4n] },
  { source: 'lists.go Flatten', expr: '[1,[2,3],[4]].flatten()', want: [1n, 2n, 3n, 4n] },
  { source: 'lists.go Flatten', expr: '[1,[2,[3,4]]].flatten()', want: [1n, 2n, [3n, 4n]] },
  { source: 'lists.go Flatten', expr: '[1,2,[],[],[3,4]].flatten()', want: [1n, 2n, 3n, 4n] },
  { source: 'lists.go Flatten', expr: '[1,[2,[3,[4]]]].flatten(2)', want: [1n, 2n, 3n, [4n]] },
  { source: 'lists.go Sort', expr: '[3, 2, 1].sort()', want: [1n, 2n, 3n] },
  { source: 'lists.go Sort', expr: '["b", "c", "a"].sort()', want: ['a', 'b', 'c'] },
  // sets.go
  { source: 'sets.go Contains', expr: 'sets.contains([], [])', want: true },
  { source: 'sets.go Contains', expr: 'sets.contains([1, 2, 3, 4], [2, 3])', want: true },
  { source: 'sets.go Contains', expr: 'sets.contains([1, 2.0, 3u], [1.0, 2u, 3])', want: true },
  { source: 'sets.go Equivalent', expr: 'sets.equivalent([1, 2, 3], [3u, 2.0, 1])', want: true },
  { source: 'sets.go Equivalent', expr: 'sets.equivalent([1], [1, 2])', want: false },
  { source: 'sets.go Intersects', expr: 'sets.intersects([1], [1.0, 2, 3])', want: true },
  { source: 'sets.go Intersects', expr: 'sets.intersects([1], [2])', want: false },
  // math.go
  { source: 'math.go Greatest', expr: 'math.greatest(1)', want: 1n },
  { source: 'math.go Greatest', expr: 'math.greatest(-42.0, -21.5, -100.0)', want: -21.5 },
  { source: 'math.go Greatest', expr: 'math.greatest([-42.0, -21.5, -100.0])', want: -21.5 },
  { source: 'math.go Least', expr: 'math.least(-42.0, -21.5, -100.0)', want: -100 },
  { source: 'math.go Least', expr: 'math.least([-42.0, -21.5, -100.0])', want: -100 },
  { source: 'math.go BitOr', expr: 'math.bitOr(1, 2)', want: 3n },
  { source: 'math.go BitAnd', expr: 'math.bitAnd(3, 5)', want: 1n },
  { source: 'math.go BitXor', expr: 'math.bitXor(3, 5)', want: 6n },
  { source: 'math.go BitNot', expr: 'math.bitNot(1)', want: -2n },
  { source: 'math.go BitShiftLeft', expr: 'math.bitShiftLeft(1, 2)', want: 4n },
  { source: 'math.go BitShiftRight', expr: 'math.bitShiftRight(-1, 63)', want: 1n },
  { source: 'math.go Ceil', expr: 'math.ceil(1.2)', want: 2 },
  { source: 'math.go Floor', expr: 'math.floor(-1.2)', want: -2 },
  { source: 'math.go Round', expr: 'math.round(-1.5)', want: -2 },
  { source: 'math.go Round', expr: 'math.round(-2.5)', want: -3 },
  { source: 'math.go Trunc', expr: 'math.trunc(-1.3)', want: -1 },
  { source: 'math.go Abs', expr: 'math.abs(-1)', want: 1n },
  { source: 'math.go Sign', expr: 'math.sign(-42)', want: -1n },
  { source: 'math.go IsInf', expr: 'math.isInf(1.0/0.0)', want: true },
  { source: 'math.go IsNaN', expr: 'math.isNaN(0.0/0.0)', want: true },
  { source: 'math.go IsFinite', expr: 'math.isFinite(1.2)', want: true },
  { source: 'math.go Sqrt', expr: 'math.sqrt(81)', want: 9 },
  // encoders.go
  { source: 'encoders.go Base64.Decode', expr: "base64.decode('aGVsbG8=')", want: u('hello') },
  { source: 'encoders.go Base64.Decode (unpadded)', expr: "base64.decode('aGVsbG8')", want: u('hello') },
  { source: 'encoders.go Base64.Encode', expr: "base64.encode(b'hello')", want: 'aGVsbG8=' },
  { source: 'encoders.go Json.Encode', expr: "json.encode({'b': [1, 2.5], 'a': '<x>'})", want: '{"a":"\\u003cx\\u003e","b":[1,2.5]}' },
  // docs/cel_expressions.md
  { source: 'cel_expressions.md String functions', expr: "'refs/heads/main'.split('/')", want: ['refs', 'heads', 'main'] },
  { source: 'cel_expressions.md String functions', expr: "['refs', 'heads', 'main'].join('/')", want: 'refs/heads/main' },
  { source: 'cel_expressions.md String functions', expr: "'my place'.replace('my ',' ')", want: ' place' },
  { source: 'cel_expressions.md macros', expr: "body.labels.exists(x, x.name == 'test-b')", want: true },
  { source: 'cel_expressions.md macros', expr: "body.labels.exists(x, x.name == 'test-c')", want: false },
  { source: 'cel_expressions.md macros', expr: "body.labels.exists_one(x, x.name.endsWith('-b'))", want: true },
  { source: 'cel_expressions.md macros', expr: "body.labels.exists_one(x, x.name.startsWith('test-'))", want: false },
  { source: 'cel_expressions.md macros', expr: "body.labels.all(x, x.name.startsWith('test-'))", want: true },
  { source: 'cel_expressions.md macros', expr: "body.labels.all(x, x.name.endsWith('-b'))", want: false },
  { source: 'cel_expressions.md overlays', expr: "body.labels.map(x, x.name.substring(x.name.lastIndexOf('-')+1))", want: ['a', 'b'] },
  { source: 'cel_expressions.md numbers', expr: 'body.count + 1.0', want: 3 },
  { source: 'cel_expressions.md numbers', expr: 'int(body.count) + 2', want: 4n },
  // cel-go counts characters; cel-js's own versions count UTF-16 units or lower-case beyond ASCII.
  { source: 'cel-go runes', expr: "'😀ab'.indexOf('b')", want: 2n },
  { source: 'cel-go runes', expr: "'😀ab'.substring(1)", want: 'ab' },
  { source: 'cel-go runes', expr: "'a😀b'.charAt(1)", want: '😀' },
  { source: 'Go strings.TrimSpace', expr: "'\\u00a0x\\ufeff'.trim()", want: 'x\ufeff' },
  // Tekton's truncate counts bytes, as Go slices a string.
  { source: 'triggers.go truncate', expr: "'héllo'.truncate(2)", want: 'h\ufffd' },
  { source: 'triggers.go translate', expr: "'a-b_c'.translate('[-_](.)', '$1$1')", want: 'abbcc' },
  { source: 'triggers.go translate (Go ReplaceAll: no second replacement next to a match)', expr: "'baaac'.translate('a*', '-')", want: '-b-c-' },
  { source: 'RE2 matches', expr: "'HELLO'.matches('(?i)^hello$')", want: true },
  { source: 'RE2 matches (global form)', expr: "matches('x1', '\\\\d')", want: true },
];

describe('cel-go extensions and Go semantics', () => {
  for (const { source, expr, want } of rows) {
    it(`${source}: ${expr}`, () => {
      const got = evaluate(expr);
      assert.ok(celEquals(got, want), `got ${JSON.stringify(got, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
    });
  }

  const errors: { expr: string; message: RegExp }[] = [
    { expr: "'hello'.charAt(-1)", message: /index out of range: -1/ },
    { expr: "'hello mellow'.indexOf('ello', -1)", message: /index out of range: -1/ },
    { expr: "'tacocat'.substring(-1)", message: /index out of range: -1/ },
    { expr: "'tacocat'.substring(2, 1)", message: /invalid substring range\. start: 2, end: 1/ },
    { expr: '[1,[2,[3,[4]]]].flatten(-1)', message: /level must be non-negative/ },
    { expr: '[1, "b"].sort()', message: /list elements must have the same type/ },
    { expr: '[[1, 2, 3]].sort()', message: /list elements must be comparable/ },
    { expr: '[1,2].slice(2, 1)', message: /start index must be less than or equal to end index/ },
    { expr: 'math.abs(-9223372036854775807 - 1)', message: /integer overflow/ },
    { expr: 'math.greatest(dyn("string"))', message: /no such overload/ },
    { expr: "base64.decode('a!b=')", message: /illegal base64 data/ },
    { expr: '"%d %d".format([1])', message: /index 1 out of range/ },
    { expr: '"%z".format([1])', message: /unrecognized formatting clause "z"/ },
    { expr: "'x'.matches(body.labels[0].name + '(')", message: /missing closing \)/ },
  ];
  for (const { expr, message } of errors) {
    it(`fails as cel-go does: ${expr}`, () => {
      assert.throws(() => evaluate(expr), (error: Error) => (assert.match(error.message, message), true));
    });
  }

  const refused: { expr: string; message: RegExp }[] = [
    { expr: 'math.greatest()', message: /requires at least one argument/ },
    { expr: "math.greatest('string')", message: /invalid single argument value/ },
    { expr: "math.least(1, 'a')", message: /simple literal arguments must be numeric/ },
    { expr: "'x'.matches('[')", message: /matches\(\): error parsing regexp: missing closing \]/ },
    { expr: "cel.bind(x, 1, x + 1)", message: /Bindings extension is not loaded/ },
    { expr: "b'x'.hex()", message: /not a function of Tekton's CEL environment/ },
    { expr: '__tb_evaluator()', message: /undeclared reference/ },
    { expr: "'a'.lowerAscii(1)", message: /string\.lowerAscii\(int\)/ },
  ];
  for (const { expr, message } of refused) {
    it(`refuses when the config loads: ${expr}`, () => {
      assert.match(compileError(expr), message);
    });
  }

  it('warns that decodeb64 is deprecated, and still decodes', () => {
    const compiled = environment.compile("'aGVsbG8='.decodeb64()");
    assert.ok(compiled.ok);
    assert.match(compiled.warnings.join(), /decodeb64\(\) is deprecated.*base64\.decode/);
    assert.equal(compiled.program.evaluate(context, { triggerSecrets: undefined, budget: undefined }), 'hello');
  });
});

describe('lists.go SortBy', () => {
  it('orders a list by the key each element gives', () => {
    const got = evaluate("[{'name': 'foo', 'score': 0}, {'name': 'bar', 'score': -10}, {'name': 'baz', 'score': 1000}].sortBy(e, e.score).map(e, e.name)");
    assert.deepEqual(got, ['bar', 'foo', 'baz']);
  });
  it('sorts the payload by a field, and fails on keys that cannot be compared', () => {
    assert.deepEqual(evaluate('body.labels.sortBy(l, l.name.reverse()).map(l, l.name)'), ['test-a', 'test-b']);
    assert.throws(() => evaluate('body.labels.sortBy(l, l)'), /list elements must be comparable/);
  });
});
