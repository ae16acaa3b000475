/**
 * JSON text as Go's encoding/json.Marshal writes it for values decoded into interface{} — which is what Tekton
 * Triggers renders when a binding or a CEL overlay yields an object, an array or a string. It differs from
 * JSON.stringify in three ways that reach a PipelineRun: object keys are sorted (by code point, as Go sorts map keys
 * by their UTF-8 bytes), `<`, `>` and `&` are escaped as \u003c, \u003e and \u0026 (Go escapes HTML by default), and
 * U+2028 / U+2029 and lone surrogates (invalid UTF-8 in Go) are escaped and replaced as Go does.
 */
export function goJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return goJsonString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`[tekton-bridge] goJson: ${value} has no JSON form`);
      return Object.is(value, -0) ? '-0' : JSON.stringify(value);
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw new TypeError(`[tekton-bridge] goJson: a ${typeof value} has no JSON form`);
  }
  if (Array.isArray(value)) return `[${value.map((item) => goJson(item)).join(',')}]`;
  const keys = Object.keys(value).sort(byCodePoint);
  const record = value as Record<string, unknown>;
  return `{${keys.map((key) => `${goJsonString(key)}:${goJson(record[key])}`).join(',')}}`;
}

const SHORT_ESCAPES: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
// Control characters, the characters Go escapes for HTML, the two line separators JavaScript once could not hold
// in a string literal, and any UTF-16 surrogate (paired ones are passed through below).
const NEEDS_ESCAPE = /["\\\u0000-\u001f<>&\u2028\u2029\ud800-\udfff]/;

export function goJsonString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  let out = '"';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] as string;
    const code = char.charCodeAt(0);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += char + (text[i + 1] as string);
        i += 1;
        continue;
      }
    }
    if (code >= 0xd800 && code <= 0xdfff) out += '\ufffd';
    else if (SHORT_ESCAPES[char] !== undefined) out += SHORT_ESCAPES[char];
    else if (code < 0x20 || char === '<' || char === '>' || char === '&' || code === 0x2028 || code === 0x2029) {
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    } else out += char;
  }
  return `${out}"`;
}

/** Go sorts map keys by their UTF-8 bytes, which is code point order; JavaScript's default sort is UTF-16 order. */
export function byCodePoint(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  for (let i = 0; i < Math.min(left.length, right.length); i += 1) {
    const difference = (left[i] as string).codePointAt(0)! - (right[i] as string).codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return left.length - right.length;
}
