import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { goJson } from '../../functions/core/go-json.ts';

// What Go's encoding/json.Marshal prints for the same values decoded into interface{} (go1.22 and later, which
// writes \b and \f as short escapes); Tekton Triggers renders bound objects and CEL results with it.
describe('goJson', () => {
  const rows: Array<[string, unknown, string]> = [
    ['sorts object keys', { b: 1, a: { d: true, c: null } }, '{"a":{"c":null,"d":true},"b":1}'],
    ['escapes HTML characters', '<a href="x">&</a>', '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"'],
    ['short escapes', 'a\nb\tc\rd\be\ff"\\', '"a\\nb\\tc\\rd\\be\\ff\\"\\\\"'],
    ['other control characters as \\u00XX', '\u0000\u001f', '"\\u0000\\u001f"'],
    ['line and paragraph separators', '\u2028\u2029', '"\\u2028\\u2029"'],
    ['a lone surrogate becomes U+FFFD', 'x\ud800y', '"x\ufffdy"'],
    ['a surrogate pair stays', '😀', '"😀"'],
    ['numbers as shortest round trip, exponent from 1e21', [1, 1.5, 1e21, 1e-7, 123456789012], '[1,1.5,1e+21,1e-7,123456789012]'],
    ['negative zero', -0, '-0'],
    ['empty containers', { a: [], b: {} }, '{"a":[],"b":{}}'],
    ['keys in code point order, not UTF-16 order', { '\uff61': 1, '😀': 2, a: 3 }, '{"a":3,"\uff61":1,"😀":2}'],
  ];
  for (const [name, value, expected] of rows) {
    it(name, () => assert.equal(goJson(value), expected));
  }

  it('refuses values JSON cannot hold', () => {
    assert.throws(() => goJson(Number.NaN), TypeError);
    assert.throws(() => goJson(() => 1), TypeError);
  });
});
