/**
 * TriggerBinding values: text with `$(body.a.b)`, `$(body.commits[0].id)`, `$(header.X-GitHub-Event)`,
 * `$(extensions.x)` and `$(context.eventID)` in it. Parsed once at config load, resolved per delivery.
 */

export type BindingRoot = 'body' | 'header' | 'extensions' | 'context';
export type PathSegment = string | number;

export interface BindingPath {
  root: BindingRoot;
  segments: PathSegment[];
  /** The expression as written, for messages. */
  text: string;
}

export type BindingPart = string | BindingPath;

export interface ParsedBindingValue {
  parts: BindingPart[];
  /** Set when the value uses the `${…}` spelling instead of Tekton's `$(…)`. */
  legacySpelling: boolean;
}

export interface BindingSources {
  body: unknown;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string | undefined>>;
  extensions: Record<string, unknown>;
  context: { eventID: string };
}

const EXPRESSION = /\$\(([^()]*)\)|\$\{([^{}]*)\}/g;
const ROOTS = new Set<string>(['body', 'header', 'extensions', 'context']);

export function parseBindingValue(value: string): { ok: true; value: ParsedBindingValue } | { ok: false; message: string } {
  const parts: BindingPart[] = [];
  let legacySpelling = false;
  let last = 0;
  for (const match of value.matchAll(EXPRESSION)) {
    const inner = (match[1] ?? match[2] ?? '').trim();
    if (match[2] !== undefined) legacySpelling = true;
    if (match.index > last) parts.push(value.slice(last, match.index));
    const path = parsePath(inner);
    if (!path.ok) return { ok: false, message: `${match[0]}: ${path.message}` };
    parts.push(path.path);
    last = match.index + match[0].length;
  }
  if (last < value.length) parts.push(value.slice(last));
  return { ok: true, value: { parts, legacySpelling } };
}

function parsePath(text: string): { ok: true; path: BindingPath } | { ok: false; message: string } {
  const rootMatch = /^[A-Za-z]+/.exec(text);
  const root = rootMatch?.[0] ?? '';
  if (!ROOTS.has(root)) {
    return { ok: false, message: `must start with body, header, extensions or context (got "${text}")` };
  }
  const rest = text.slice(root.length);
  if (root === 'header') {
    if (rest === '') return { ok: true, path: { root, segments: [], text } };
    if (!/^\.[A-Za-z0-9-_]+$/.test(rest)) return { ok: false, message: 'a header is named as header.X-GitHub-Event' };
    return { ok: true, path: { root, segments: [rest.slice(1).toLowerCase()], text } };
  }
  const segments: PathSegment[] = [];
  let i = 0;
  while (i < rest.length) {
    const char = rest[i];
    if (char === '.') {
      let name = '';
      i += 1;
      while (i < rest.length && rest[i] !== '.' && rest[i] !== '[') {
        // Tekton lets a key with dots be written with escaped dots: labels.app\.kubernetes\.io/name
        if (rest[i] === '\\' && rest[i + 1] === '.') {
          name += '.';
          i += 2;
        } else {
          name += rest[i];
          i += 1;
        }
      }
      if (name === '') return { ok: false, message: `empty field name in "${text}"` };
      segments.push(name);
    } else if (char === '[') {
      const close = rest.indexOf(']', i);
      if (close < 0) return { ok: false, message: `unclosed [ in "${text}"` };
      const inside = rest.slice(i + 1, close).trim();
      if (/^\d+$/.test(inside)) segments.push(Number(inside));
      else if (/^(['"]).*\1$/.test(inside)) segments.push(inside.slice(1, -1));
      else return { ok: false, message: `[${inside}] must be an index or a quoted key in "${text}"` };
      i = close + 1;
    } else {
      return { ok: false, message: `unexpected "${char}" in "${text}"` };
    }
  }
  return { ok: true, path: { root: root as BindingRoot, segments, text } };
}

export type ResolveResult = { ok: true; value: string } | { ok: false; message: string };

/** Strings stay as they are; objects, arrays, numbers, booleans and null are rendered as JSON, as Triggers does. */
export function bindingText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function resolveBindingValue(parsed: ParsedBindingValue, sources: BindingSources): ResolveResult {
  let text = '';
  for (const part of parsed.parts) {
    if (typeof part === 'string') {
      text += part;
      continue;
    }
    const found = lookup(part, sources);
    if (!found.ok) return found;
    text += bindingText(found.value);
  }
  return { ok: true, value: text };
}

function lookup(path: BindingPath, sources: BindingSources): { ok: true; value: unknown } | { ok: false; message: string } {
  if (path.root === 'header') {
    if (path.segments.length === 0) return { ok: true, value: sources.headers };
    const value = sources.headers[path.segments[0] as string];
    return value === undefined
      ? { ok: false, message: `$(${path.text}): the delivery has no ${path.text.slice('header.'.length)} header` }
      : { ok: true, value };
  }
  let current: unknown = sources[path.root];
  for (const [index, segment] of path.segments.entries()) {
    const container = current as Record<string | number, unknown> | null;
    const has =
      container !== null &&
      typeof container === 'object' &&
      (typeof segment === 'number' ? Array.isArray(container) && segment < container.length : Object.hasOwn(container, segment));
    if (!has) {
      const where = [path.root, ...path.segments.slice(0, index)].map(String).join('.');
      return { ok: false, message: `$(${path.text}): ${where} has no ${typeof segment === 'number' ? `item [${segment}]` : `field "${segment}"`}` };
    }
    current = container[segment];
  }
  return { ok: true, value: current };
}
