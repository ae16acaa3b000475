import { byCodePoint } from './go-json.ts';

/**
 * Kubernetes' JSONPath (k8s.io/client-go/util/jsonpath), the dialect Tekton Triggers evaluates bindings with: its
 * grammar (text and `{…}` actions, fields with `\` escapes, `[i]`, `[a:b:c]`, negative indices, `[*]`, `..`, unions
 * `[a,b]`, `['key']`, filters `[?(@.x == "y")]`, numbers, quoted text, `range`/`end`) and its evaluation over Go
 * values, missing keys being errors as Tekton asks (AllowMissingKeys(false)). No npm JSONPath library follows this
 * dialect: they differ on filters, missing keys, quoting and on what a comparison of a JSON number with `1` means.
 *
 * Values are JSON values plus the few Go values the evaluation can meet: a struct (Tekton's event), an integer from
 * the expression or a byte of a string (the wildcard walks a string's UTF-8 bytes, as reflect does).
 */

/** A Go struct: fields in declaration order, found by their json tag or their Go name. */
export class GoStruct {
  readonly typeName: string;
  readonly fields: readonly { tag: string; name: string; value: unknown }[];

  constructor(typeName: string, fields: readonly { tag: string; name: string; value: unknown }[]) {
    this.typeName = typeName;
    this.fields = fields;
  }
}

/** A Go integer (an `int` literal of the expression, or a `uint8` byte of a string); JSON numbers are float64. */
export class GoInteger {
  readonly value: number;
  readonly kind: 'int' | 'uint';

  constructor(value: number, kind: 'int' | 'uint') {
    this.value = value;
    this.kind = kind;
  }
}

interface SliceParam {
  value: number;
  known: boolean;
  derived: boolean;
}

export type JsonPathNode =
  | ListNode
  | { type: 'text'; text: string }
  | { type: 'field'; name: string }
  | { type: 'array'; params: readonly [SliceParam, SliceParam, SliceParam] }
  | { type: 'filter'; left: ListNode; right: ListNode; operator: string }
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'wildcard' }
  | { type: 'recursive' }
  | { type: 'union'; nodes: ListNode[] }
  | { type: 'identifier'; name: string };

export interface ListNode {
  type: 'list';
  nodes: JsonPathNode[];
}

export class JsonPathError extends Error {
  override name = 'JsonPathError';
}

const EOF = -1;
const DICT_KEY = /^'([^']*)'$/u;
const SLICE = /^(-?[0-9]*)(:-?[0-9]*)?(:-?[0-9]*)?$/u;
const COMPARISON = /^([^!<>=]+)([!<>=]+)(.+?)$/su;
const OPERATORS = new Set(['<', '>', '==', '!=', '<=', '>=']);

/** Parses a template such as `{.body.commits[0].id}`; throws JsonPathError with client-go's message. */
export function parseJsonPath(text: string): ListNode {
  return new Parser(text).parse();
}

class Parser {
  private pos = 0;
  private start = 0;
  private width = 0;
  private readonly root: ListNode = { type: 'list', nodes: [] };
  private readonly input: string;

  constructor(input: string) {
    this.input = input;
  }

  parse(): ListNode {
    for (;;) {
      let action = false;
      for (;;) {
        if (this.input.startsWith('{', this.pos)) {
          action = true;
          break;
        }
        if (this.next() === EOF) break;
      }
      if (this.pos > this.start) this.root.nodes.push({ type: 'text', text: this.consumeText() });
      if (!action) return this.root;
      this.pos += 1;
      this.consumeText();
      const list: ListNode = { type: 'list', nodes: [] };
      this.root.nodes.push(list);
      this.parseInsideAction(list);
    }
  }

  private consumeText(): string {
    const value = this.input.slice(this.start, this.pos);
    this.start = this.pos;
    return value;
  }

  private next(): number {
    if (this.pos >= this.input.length) {
      this.width = 0;
      return EOF;
    }
    const code = this.input.codePointAt(this.pos) as number;
    this.width = code > 0xffff ? 2 : 1;
    this.pos += this.width;
    return code;
  }

  private peek(): number {
    const code = this.next();
    this.backup();
    return code;
  }

  private backup(): void {
    this.pos -= this.width;
  }

  /** Everything up to the `}` that closes the action, which it consumes. */
  private parseInsideAction(cur: ListNode): void {
    for (;;) {
      if (this.input.startsWith('}', this.pos)) {
        this.pos += 1;
        this.consumeText();
        return;
      }
      if (this.input.startsWith('[?(', this.pos)) {
        this.parseFilter(cur);
        continue;
      }
      if (this.input.startsWith('..', this.pos)) {
        this.parseRecursive(cur);
        continue;
      }
      const r = this.next();
      if (r === EOF || isEndOfLine(r)) throw new JsonPathError('unclosed action');
      if (r === 0x20 || r === 0x40 /* @ */ || r === 0x24 /* $ */) this.consumeText();
      else if (r === 0x5b /* [ */) this.parseArray(cur);
      else if (r === 0x22 || r === 0x27) this.parseQuote(cur, r);
      else if (r === 0x2e /* . */) this.parseField(cur);
      else if (r === 0x2b || r === 0x2d || isDigit(r)) {
        this.backup();
        this.parseNumber(cur);
      } else if (isAlphaNumeric(r)) {
        this.backup();
        this.parseIdentifier(cur);
      } else {
        throw new JsonPathError(`unrecognized character in action: ${formatRune(r)}`);
      }
    }
  }

  private parseIdentifier(cur: ListNode): void {
    while (!isTerminator(this.next()));
    this.backup();
    const value = this.consumeText();
    cur.nodes.push(value === 'true' || value === 'false' ? { type: 'bool', value: value === 'true' } : { type: 'identifier', name: value });
  }

  private parseRecursive(cur: ListNode): void {
    if (cur.nodes.at(-1)?.type === 'recursive') throw new JsonPathError('invalid multiple recursive descent');
    this.pos += 2;
    this.consumeText();
    cur.nodes.push({ type: 'recursive' });
    if (isAlphaNumeric(this.peek())) this.parseField(cur);
  }

  private parseNumber(cur: ListNode): void {
    const sign = this.peek();
    if (sign === 0x2b || sign === 0x2d) this.next();
    for (;;) {
      const r = this.next();
      if (r !== 0x2e && !isDigit(r)) {
        this.backup();
        break;
      }
    }
    const value = this.consumeText();
    const integer = goAtoi(value);
    if (integer !== undefined) cur.nodes.push({ type: 'int', value: integer });
    else if (/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$/u.test(value)) cur.nodes.push({ type: 'float', value: Number(value) });
    else throw new JsonPathError(`cannot parse number ${value}`);
  }

  private parseArray(cur: ListNode): void {
    for (;;) {
      const r = this.next();
      if (r === EOF || r === 0x0a) throw new JsonPathError('unterminated array');
      if (r === 0x5d /* ] */) break;
    }
    let text = this.consumeText().slice(1, -1);
    if (text === '*') text = ':';

    const parts = text.split(',');
    if (parts.length > 1) {
      cur.nodes.push({ type: 'union', nodes: parts.map((part) => parseAction(`[${part.replace(/^ +| +$/g, '')}]`)) });
      return;
    }
    const key = DICT_KEY.exec(text);
    if (key) {
      cur.nodes.push(...parseAction(`.${key[1]}`).nodes);
      return;
    }
    const slice = SLICE.exec(text);
    if (!slice) throw new JsonPathError(`invalid array index ${text}`);
    const params: SliceParam[] = [];
    for (let i = 0; i < 3; i += 1) {
      let value = slice[i + 1] ?? '';
      if (value !== '') {
        if (i > 0) value = value.slice(1);
        if (i > 0 && value === '') params.push({ value: 0, known: false, derived: false });
        else {
          const number = goAtoi(value);
          if (number === undefined) throw new JsonPathError(`array index ${value} is not a number`);
          params.push({ value: number, known: true, derived: false });
        }
      } else if (i === 1) {
        params.push({ value: (params[0] as SliceParam).value + 1, known: true, derived: true });
      } else {
        params.push({ value: 0, known: false, derived: false });
      }
    }
    cur.nodes.push({ type: 'array', params: params as [SliceParam, SliceParam, SliceParam] });
  }

  private parseFilter(cur: ListNode): void {
    this.pos += 3;
    this.consumeText();
    let begin = false;
    let end = false;
    let pair = 0;
    for (;;) {
      const r = this.next();
      if (r === EOF || r === 0x0a) throw new JsonPathError('unterminated filter');
      if (r === 0x22 || r === 0x27) {
        if (!begin) {
          begin = true;
          pair = r;
          continue;
        }
        if (this.input[this.pos - 2] !== '\\' && r === pair) end = true;
      } else if (r === 0x29 /* ) */ && begin === end) {
        break;
      }
    }
    if (this.next() !== 0x5d) throw new JsonPathError('unclosed array expect ]');
    const text = this.consumeText().slice(0, -2);
    const comparison = COMPARISON.exec(text);
    if (!comparison) {
      cur.nodes.push({ type: 'filter', left: parseAction(text), right: { type: 'list', nodes: [] }, operator: 'exists' });
      return;
    }
    const [, left = '', operator = '', right = ''] = comparison;
    cur.nodes.push({ type: 'filter', left: parseAction(left), right: parseAction(right), operator });
  }

  private parseQuote(cur: ListNode, quote: number): void {
    for (;;) {
      const r = this.next();
      if (r === EOF || r === 0x0a) throw new JsonPathError('unterminated quoted string');
      if (r === quote && this.input[this.pos - 2] !== '\\') break;
    }
    const value = this.consumeText();
    cur.nodes.push({ type: 'text', text: unquoteExtend(value) });
  }

  private parseField(cur: ListNode): void {
    this.consumeText();
    while (this.advance());
    const value = this.consumeText();
    cur.nodes.push(value === '*' ? { type: 'wildcard' } : { type: 'field', name: value.replaceAll('\\', '') });
  }

  /** Scans one character of a field name; a backslash takes the next character whatever it is. */
  private advance(): boolean {
    const r = this.next();
    if (r === 0x5c /* \ */) {
      this.next();
    } else if (isTerminator(r)) {
      this.backup();
      return false;
    }
    return true;
  }
}

/** client-go's parseAction: `text` as the inside of one action. */
function parseAction(text: string): ListNode {
  return parseJsonPath(`{${text}}`).nodes[0] as ListNode;
}

function isTerminator(r: number): boolean {
  return r === EOF || r === 0x20 || r === 0x09 || isEndOfLine(r) || '.,[]$@{}'.includes(String.fromCodePoint(r));
}

function isEndOfLine(r: number): boolean {
  return r === 0x0d || r === 0x0a;
}

function isDigit(r: number): boolean {
  return r >= 0 && /\p{Nd}/u.test(String.fromCodePoint(r));
}

function isAlphaNumeric(r: number): boolean {
  return r === 0x5f || (r >= 0 && /[\p{L}\p{Nd}]/u.test(String.fromCodePoint(r)));
}

/** Go's %#U: U+002A '*'. */
function formatRune(r: number): string {
  return `U+${r.toString(16).toUpperCase().padStart(4, '0')} '${String.fromCodePoint(r)}'`;
}

/** strconv.Atoi: an optional sign and decimal digits, within int64. */
function goAtoi(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/u.test(text)) return undefined;
  const value = BigInt(text);
  if (value > 2n ** 63n - 1n || value < -(2n ** 63n)) return undefined;
  return Number(value) + 0;
}

/** client-go's UnquoteExtend: Go's string unquoting, for single quotes as well as double. */
function unquoteExtend(quoted: string): string {
  const fail = (): never => {
    throw new JsonPathError(`unquote string ${quoted} error invalid syntax`);
  };
  const quote = quoted[0];
  if (quoted.length < 2 || quoted.at(-1) !== quote || (quote !== '"' && quote !== "'")) fail();
  const inner = quoted.slice(1, -1);
  if (!inner.includes('\\') && !inner.includes(quote as string)) return inner;
  const bytes: number[] = [];
  const pushText = (text: string): void => void bytes.push(...Buffer.from(text, 'utf8'));
  const hex = (digits: string): number => (/^[0-9a-fA-F]+$/u.test(digits) ? parseInt(digits, 16) : fail());
  let i = 0;
  while (i < inner.length) {
    const c = inner[i] as string;
    if (c === quote) fail();
    if (c !== '\\') {
      const code = inner.codePointAt(i) as number;
      pushText(String.fromCodePoint(code));
      i += code > 0xffff ? 2 : 1;
      continue;
    }
    const escape = inner[i + 1];
    i += 2;
    const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c };
    if (escape === undefined) fail();
    else if (simple[escape] !== undefined) bytes.push(simple[escape]);
    else if (escape === "'" || escape === '"') {
      if (escape !== quote) fail();
      bytes.push(escape.charCodeAt(0));
    } else if (escape === 'x' || escape === 'u' || escape === 'U') {
      const length = escape === 'x' ? 2 : escape === 'u' ? 4 : 8;
      const digits = inner.slice(i, i + length);
      if (digits.length < length) fail();
      const value = hex(digits);
      i += length;
      if (escape === 'x') bytes.push(value);
      else if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) fail();
      else pushText(String.fromCodePoint(value));
    } else if (escape >= '0' && escape <= '7') {
      const digits = escape + inner.slice(i, i + 2);
      if (!/^[0-7]{3}$/u.test(digits)) fail();
      const value = parseInt(digits, 8);
      if (value > 255) fail();
      bytes.push(value);
      i += 2;
    } else {
      fail();
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

// ---- Evaluation -------------------------------------------------------------------------------------------------

/** Values and the error beside them, as client-go's functions return both: an exists-filter looks at the values. */
type Walked = [unknown[], JsonPathError | undefined];

interface RangeState {
  beginRange: number;
  inRange: number;
  endRange: number;
  lastEndNode: JsonPathNode | undefined;
}

/**
 * client-go's FindResults: one list of values per top-level node (text, or an action), ranges expanded.
 * Throws JsonPathError. Maps are walked in sorted key order where Go's order is random (wildcards, `..`).
 */
export function findResults(template: ListNode, data: unknown): unknown[][] {
  return findIn(template.nodes, data, { beginRange: 0, inRange: 0, endRange: 0, lastEndNode: undefined });
}

function findIn(nodes: readonly JsonPathNode[], data: unknown, state: RangeState): unknown[][] {
  const cur = [data];
  const full: unknown[][] = [];
  for (let i = 0; i < nodes.length; i += 1) {
    const node = nodes[i] as JsonPathNode;
    const [results, error] = walk(cur, node, state);
    if (error) throw error;
    if (state.endRange > 0 && state.endRange <= state.inRange) {
      state.endRange -= 1;
      state.lastEndNode = node;
      break;
    }
    if (state.beginRange > 0) {
      state.beginRange -= 1;
      state.inRange += 1;
      const rest = nodes.slice(i + 1);
      if (results.length > 0) for (const value of results) full.push(...findIn(rest, value, state));
      else findIn(rest, null, state);
      state.inRange -= 1;
      for (let k = i + 1; k < nodes.length; k += 1) {
        if (nodes[k] === state.lastEndNode) {
          i = k;
          break;
        }
      }
      continue;
    }
    full.push(results);
  }
  return full;
}

function walk(input: unknown[], node: JsonPathNode, state: RangeState): Walked {
  switch (node.type) {
    case 'list':
      return evalList(input, node, state);
    case 'text':
      return [[node.text], undefined];
    case 'field':
      return evalField(input, node.name);
    case 'array':
      return evalArray(input, node.params);
    case 'filter':
      return evalFilter(input, node, state);
    case 'int':
      return [input.map(() => new GoInteger(node.value, 'int')), undefined];
    case 'float':
    case 'bool':
      return [input.map(() => node.value), undefined];
    case 'wildcard':
      return [input.flatMap((value) => children(value) ?? []), undefined];
    case 'recursive':
      return [evalRecursive(input), undefined];
    case 'union':
      return evalUnion(input, node.nodes, state);
    case 'identifier':
      return evalIdentifier(input, node.name, state);
  }
}

function evalList(input: unknown[], list: ListNode, state: RangeState): Walked {
  let current = input;
  for (const node of list.nodes) {
    const [values, error] = walk(current, node, state);
    if (error) return [values, error];
    current = values;
  }
  return [current, undefined];
}

function evalIdentifier(input: unknown[], name: string, state: RangeState): Walked {
  if (name === 'range') {
    state.beginRange += 1;
    return [input, undefined];
  }
  if (name === 'end') {
    if (state.inRange > 0) {
      state.endRange += 1;
      return [[], undefined];
    }
    return [[], new JsonPathError('not in range, nothing to end')];
  }
  return [input, new JsonPathError(`unrecognized identifier ${name}`)];
}

function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof GoStruct) && !(value instanceof GoInteger);
}

function evalField(input: unknown[], name: string): Walked {
  const results: unknown[] = [];
  if (input.length === 0) return [results, undefined];
  for (const value of input) {
    if (value === null) continue;
    if (value instanceof GoStruct) {
      const field = value.fields.find((f) => f.tag === name) ?? value.fields.find((f) => f.name === name);
      if (field) results.push(field.value);
    } else if (isMap(value) && Object.hasOwn(value, name)) {
      results.push(value[name]);
    }
  }
  if (results.length === 0) return [results, new JsonPathError(`${name} is not found`)];
  return [results, undefined];
}

function evalArray(input: unknown[], params: readonly [SliceParam, SliceParam, SliceParam]): Walked {
  const result: unknown[] = [];
  for (const value of input) {
    if (value === null) continue;
    if (!Array.isArray(value)) return [input, new JsonPathError(`${goTypeName(value)} is not array or slice`)];
    const length = value.length;
    let from = params[0].known ? params[0].value : 0;
    if (from < 0) from += length;
    let to = params[1].known ? params[1].value : length;
    if (to < 0 || (to === 0 && params[1].derived)) to += length;
    if (to === from) return [result, undefined];
    if (from >= length || from < 0) return [input, new JsonPathError(`array index out of bounds: index ${from}, length ${length}`)];
    if (to > length || to < 0) return [input, new JsonPathError(`array index out of bounds: index ${to - 1}, length ${length}`)];
    if (from > to) return [input, new JsonPathError(`starting index ${from} is greater than ending index ${to}`)];
    let step = 1;
    if (params[2].known) {
      if (params[2].value <= 0) return [input, new JsonPathError('step must be > 0')];
      step = params[2].value;
    }
    for (let i = from; i < to; i += step) result.push(value[i]);
  }
  return [result, undefined];
}

function evalUnion(input: unknown[], lists: readonly ListNode[], state: RangeState): Walked {
  const result: unknown[] = [];
  for (const list of lists) {
    const [values, error] = evalList(input, list, state);
    if (error) return [input, error];
    result.push(...values);
  }
  return [result, undefined];
}

/** What a wildcard yields of one value: struct fields, map values, array items, a string's bytes; undefined for nil. */
function children(value: unknown): unknown[] | undefined {
  if (value === null) return undefined;
  if (value instanceof GoStruct) return value.fields.map((f) => f.value);
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return [...Buffer.from(value, 'utf8')].map((byte) => new GoInteger(byte, 'uint'));
  if (isMap(value)) return Object.keys(value).sort(byCodePoint).map((key) => value[key]);
  return [];
}

function evalRecursive(input: unknown[]): unknown[] {
  const result: unknown[] = [];
  for (const value of input) {
    const inner = children(value);
    if (inner === undefined || inner.length === 0) continue;
    result.push(value, ...evalRecursive(inner));
  }
  return result;
}

function evalFilter(input: unknown[], node: Extract<JsonPathNode, { type: 'filter' }>, state: RangeState): Walked {
  const results: unknown[] = [];
  for (const value of input) {
    if (!Array.isArray(value)) return [input, new JsonPathError(`${goTypeName(value)} is not array or slice and cannot be filtered`)];
    for (const item of value) {
      const [lefts, leftError] = evalList([item], node.left, state);
      if (node.operator === 'exists') {
        if (lefts.length > 0) results.push(item);
        continue;
      }
      if (leftError) return [input, leftError];
      if (lefts.length === 0) continue;
      if (lefts.length > 1) return [input, new JsonPathError('can only compare one element at a time')];
      const [rights, rightError] = evalList([item], node.right, state);
      if (rightError) return [input, rightError];
      if (rights.length === 0) continue;
      if (rights.length > 1) return [input, new JsonPathError('can only compare one element at a time')];
      if (!OPERATORS.has(node.operator)) return [results, new JsonPathError(`unrecognized filter operator ${node.operator}`)];
      const pass = compare(lefts[0], rights[0], node.operator);
      if (pass instanceof JsonPathError) return [results, pass];
      if (pass) results.push(item);
    }
  }
  return [results, undefined];
}

/**
 * The forked text/template comparisons client-go uses: basic kinds only, and never an int with a float64 (a JSON
 * number against `1` is an error; against `1.0` it compares). An int and a uint compare as integers, which for the
 * values met here is numeric comparison.
 */
function compare(left: unknown, right: unknown, operator: string): boolean | JsonPathError {
  const pair = basicPair(left, right);
  if (pair instanceof JsonPathError) return pair;
  const equal = pair.a === pair.b;
  if (operator === '==' || operator === '!=') return (operator === '==') === equal;
  if (pair.kind === 'bool') return new JsonPathError('invalid type for comparison');
  const less = pair.kind === 'string' ? byCodePoint(pair.a as string, pair.b as string) < 0 : (pair.a as number) < (pair.b as number);
  switch (operator) {
    case '<':
      return less;
    case '<=':
      return less || equal;
    case '>':
      return !less && !equal;
    default:
      return !less;
  }
}

type BasicKind = 'bool' | 'int' | 'uint' | 'float' | 'string';

function basicKind(value: unknown): BasicKind | undefined {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'float';
  if (typeof value === 'string') return 'string';
  if (value instanceof GoInteger) return value.kind;
  return undefined;
}

function basicPair(a: unknown, b: unknown): { kind: BasicKind; a: unknown; b: unknown } | JsonPathError {
  const left = basicKind(a);
  const right = basicKind(b);
  if (left === undefined || right === undefined) return new JsonPathError('invalid type for comparison');
  const integers = (left === 'int' || left === 'uint') && (right === 'int' || right === 'uint');
  if (left !== right && !integers) return new JsonPathError('incompatible types for comparison');
  const plain = (value: unknown): unknown => (value instanceof GoInteger ? value.value : value);
  return { kind: left, a: plain(a), b: plain(b) };
}

/** A Go type name for messages; never the value itself, which may come from the payload. */
export function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (value instanceof GoStruct) return value.typeName;
  if (value instanceof GoInteger) return value.kind === 'int' ? 'int' : 'uint8';
  if (Array.isArray(value)) return '[]interface {}';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    default:
      return 'map[string]interface {}';
  }
}
