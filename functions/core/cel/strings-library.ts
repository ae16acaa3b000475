import type { Environment } from '@marcbachmann/cel-js';
import type { RegexCompiler } from './go-regexp.ts';
import { formatString } from './format-string.ts';
import { CelFunctionError, member, registerNamespace, type RegisterOverload } from './register.ts';

/**
 * cel-go's Strings extension at the version Tekton loads (all of it), and the standard `matches()` with RE2.
 * Indices count characters (Unicode code points), as cel-go counts runes.
 */
export function registerStringsLibrary(environment: Environment, register: RegisterOverload, regex: () => RegexCompiler): void {
  register('string.charAt(int): string', (text: string, index: bigint) => {
    const chars = [...text];
    if (index < 0n || index > BigInt(chars.length)) throw new CelFunctionError(`index out of range: ${index}`);
    return chars[Number(index)] ?? '';
  });
  register(`string.${member('indexOf')}(string): int`, (text: string, search: string) => indexOf(text, search, 0n));
  register(`string.${member('indexOf')}(string, int): int`, indexOf);
  register(`string.${member('lastIndexOf')}(string): int`, (text: string, search: string) => {
    const chars = [...text];
    if (search === '') return BigInt(chars.length);
    if (text.length < search.length) return -1n;
    return lastIndexOf(text, search, BigInt(chars.length - 1));
  });
  register(`string.${member('lastIndexOf')}(string, int): int`, lastIndexOf);
  register(`string.${member('lowerAscii')}(): string`, (text: string) => text.replace(/[A-Z]+/g, (s) => s.toLowerCase()));
  register(`string.${member('upperAscii')}(): string`, (text: string) => text.replace(/[a-z]+/g, (s) => s.toUpperCase()));
  register('string.replace(string, string): string', (text: string, old: string, replacement: string) => replace(text, old, replacement, -1n));
  register('string.replace(string, string, int): string', replace);
  register(`string.${member('split')}(string): list<string>`, (text: string, separator: string) => splitN(text, separator, -1n));
  register(`string.${member('split')}(string, int): list<string>`, splitN);
  register(`string.${member('substring')}(int): string`, (text: string, start: bigint) => {
    const chars = [...text];
    if (start < 0n || start > BigInt(chars.length)) throw new CelFunctionError(`index out of range: ${start}`);
    return chars.slice(Number(start)).join('');
  });
  register(`string.${member('substring')}(int, int): string`, (text: string, start: bigint, end: bigint) => {
    const chars = [...text];
    if (start > end) throw new CelFunctionError(`invalid substring range. start: ${start}, end: ${end}`);
    if (start < 0n || start > BigInt(chars.length)) throw new CelFunctionError(`index out of range: ${start}`);
    if (end < 0n || end > BigInt(chars.length)) throw new CelFunctionError(`index out of range: ${end}`);
    return chars.slice(Number(start), Number(end)).join('');
  });
  register(`string.${member('trim')}(): string`, (text: string) => text.replace(GO_SPACE_AT_ENDS, ''));
  register('string.reverse(): string', (text: string) => [...text].reverse().join(''));
  register(`list<string>.${member('join')}(): string`, (list: unknown[]) => join(list, ''));
  register(`list<string>.${member('join')}(string): string`, join);
  register('string.format(list): string', (text: string, args: unknown[]) => formatString(text, args));
  const strings = registerNamespace(environment, 'strings');
  register(`${strings}.quote(string): string`, (_ns: unknown, text: string) => quote(text));

  const matches = (text: string, pattern: string): boolean => {
    try {
      return regex()(pattern).test(text);
    } catch (error) {
      throw new CelFunctionError(`invalid regular expression in matches(): ${(error as Error).message}`);
    }
  };
  register(`string.${member('matches')}(string): bool`, matches);
  register('matches(string, string): bool', matches);
}

// Go's unicode.IsSpace: ASCII white space, NEL, NBSP and the Unicode space separators; not the zero-width ones.
const GO_SPACE = '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const GO_SPACE_AT_ENDS = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');

function indexOf(text: string, search: string, offset: bigint): bigint {
  if (offset < 0n) throw new CelFunctionError(`index out of range: ${offset}`);
  const chars = [...text];
  if (search === '') return offset > BigInt(chars.length) ? BigInt(chars.length) : offset;
  if (offset >= BigInt(chars.length)) return -1n;
  const wanted = [...search];
  for (let i = Number(offset); i <= chars.length - wanted.length; i += 1) {
    if (wanted.every((char, j) => chars[i + j] === char)) return BigInt(i);
  }
  return -1n;
}

function lastIndexOf(text: string, search: string, offset: bigint): bigint {
  if (offset < 0n) throw new CelFunctionError(`index out of range: ${offset}`);
  const chars = [...text];
  if (search === '') return offset > BigInt(chars.length) ? BigInt(chars.length) : offset;
  if (offset >= BigInt(chars.length)) return -1n;
  const wanted = [...search];
  let start = Math.min(Number(offset), chars.length - wanted.length);
  for (; start >= 0; start -= 1) {
    if (wanted.every((char, j) => chars[start + j] === char)) return BigInt(start);
  }
  return -1n;
}

/** Go's strings.Replace: at most n replacements (all when n < 0); an empty `old` matches before every character. */
function replace(text: string, old: string, replacement: string, n: bigint): string {
  if (n === 0n || old === replacement) return text;
  let limit = n < 0n ? Infinity : Number(n);
  if (old === '') {
    const chars = [...text];
    let out = '';
    for (let i = 0; i <= chars.length; i += 1) {
      if (limit > 0) {
        out += replacement;
        limit -= 1;
      }
      out += chars[i] ?? '';
    }
    return out;
  }
  let out = '';
  let from = 0;
  while (limit > 0) {
    const at = text.indexOf(old, from);
    if (at < 0) break;
    out += text.slice(from, at) + replacement;
    from = at + old.length;
    limit -= 1;
  }
  return out + text.slice(from);
}

/** Go's strings.SplitN: n == 0 gives no parts, n < 0 all of them; an empty separator splits into characters. */
function splitN(text: string, separator: string, n: bigint): string[] {
  if (n === 0n) return [];
  const limit = n < 0n ? Infinity : Number(n);
  if (separator === '') {
    const chars = [...text];
    if (chars.length <= limit) return chars;
    return [...chars.slice(0, limit - 1), chars.slice(limit - 1).join('')];
  }
  const parts: string[] = [];
  let from = 0;
  while (parts.length < limit - 1) {
    const at = text.indexOf(separator, from);
    if (at < 0) break;
    parts.push(text.slice(from, at));
    from = at + separator.length;
  }
  parts.push(text.slice(from));
  return parts;
}

function join(list: unknown[], separator: string): string {
  for (const item of list) if (typeof item !== 'string') throw new CelFunctionError(`join: invalid input: ${String(item)}`);
  return list.join(separator);
}

const QUOTE_ESCAPES: Record<string, string> = { '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };

/** cel-go's strings.quote: the string in double quotes, CEL's escapes spelled out, lone surrogates as U+FFFD. */
function quote(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (code >= 0xd800 && code <= 0xdfff) out += '\ufffd';
    else out += QUOTE_ESCAPES[char] ?? char;
  }
  return `${out}"`;
}
