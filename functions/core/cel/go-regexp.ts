/**
 * Go's regexp package, as cel-go's `matches()` and Tekton's `translate()` use it, over the re2js engine (a port of
 * RE2/J, itself a port of Go's regexp): RE2 syntax such as `(?i)` and `\pL`, and matching in time linear in the input,
 * whatever the pattern. The engine is handed in, so a config that uses no regular expression never loads it.
 */

/** The part of the `re2js` module used here. */
export interface Re2Module {
  RE2JS: { compile(pattern: string): Re2Pattern };
}

interface Re2Pattern {
  matcher(input: string): Re2Matcher;
  test(input: string): boolean;
  groupCount(): number;
  namedGroups(): Record<string, number>;
}

interface Re2Matcher {
  find(start: number): boolean;
  start(group?: number): number;
  end(group?: number): number;
}

/** A compiled pattern with the two operations CEL needs. */
export interface GoRegexp {
  /** `regexp.MatchString`: a match anywhere in the text. */
  test(text: string): boolean;
  /** `regexp.ReplaceAllString`: `$1`, `${1}`, `$name`, `${name}` and `$$` in the template, as Go's `Expand`. */
  replaceAllString(text: string, template: string): string;
}

/** Compiles a pattern; throws RegexSyntaxError with Go's message (`error parsing regexp: missing closing ]: …`). */
export type RegexCompiler = (pattern: string) => GoRegexp;

export class RegexSyntaxError extends Error {
  override readonly name = 'RegexSyntaxError';
}

const CACHE_LIMIT = 256;

export function createGoRegexpCompiler(re2: Re2Module): RegexCompiler {
  // Patterns built from the payload compile once per text; the bound keeps an attacker from growing it without end.
  const cache = new Map<string, GoRegexp>();
  return (pattern) => {
    const cached = cache.get(pattern);
    if (cached) return cached;
    let compiled: Re2Pattern;
    try {
      compiled = re2.RE2JS.compile(pattern);
    } catch (error) {
      throw new RegexSyntaxError((error as Error).message);
    }
    const regexp: GoRegexp = {
      test: (text) => compiled.test(text),
      replaceAllString: (text, template) => replaceAll(compiled, text, template),
    };
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, regexp);
    return regexp;
  };
}

function replaceAll(pattern: Re2Pattern, text: string, template: string): string {
  const matcher = pattern.matcher(text);
  const groups = pattern.groupCount();
  const names = pattern.namedGroups();
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= text.length && matcher.find(searchPos)) {
    const start = matcher.start();
    const end = matcher.end();
    out += text.slice(lastMatchEnd, start);
    // As Go: an empty match right after a match is not replaced, or `a*` would replace twice around each run of a.
    if (end > lastMatchEnd || start === 0) out += expand(template, matcher, groups, names, text);
    lastMatchEnd = end;
    const width = charWidth(text, searchPos);
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos += 1;
    else searchPos = end;
  }
  return out + text.slice(lastMatchEnd);
}

/** One character (a surrogate pair counts as one), or 0 at the end, as Go advances by one rune. */
function charWidth(text: string, at: number): number {
  if (at >= text.length) return 0;
  const code = text.charCodeAt(at);
  if (code >= 0xd800 && code <= 0xdbff && at + 1 < text.length) {
    const next = text.charCodeAt(at + 1);
    if (next >= 0xdc00 && next <= 0xdfff) return 2;
  }
  return 1;
}

const NAME_CHAR = /[\p{L}\p{Nd}_]/u;

/** Go's Regexp.Expand: `$$` is `$`; `$name` takes the longest run of letters, digits and `_`; a malformed `$` stays. */
function expand(template: string, matcher: Re2Matcher, groups: number, names: Record<string, number>, text: string): string {
  let out = '';
  let rest = template;
  for (;;) {
    const dollar = rest.indexOf('$');
    if (dollar < 0) break;
    out += rest.slice(0, dollar);
    rest = rest.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      rest = rest.slice(1);
      continue;
    }
    const reference = readReference(rest);
    if (!reference) {
      out += '$';
      continue;
    }
    rest = reference.rest;
    const index = reference.number ?? names[reference.name];
    if (index !== undefined && index <= groups) {
      const start = matcher.start(index);
      if (start >= 0) out += text.slice(start, matcher.end(index));
    }
  }
  return out + rest;
}

function readReference(text: string): { name: string; number: number | undefined; rest: string } | undefined {
  const braced = text.startsWith('{');
  const body = braced ? text.slice(1) : text;
  let length = 0;
  for (const char of body) {
    if (!NAME_CHAR.test(char)) break;
    length += char.length;
  }
  if (length === 0) return undefined;
  const name = body.slice(0, length);
  let after = length;
  if (braced) {
    if (body[length] !== '}') return undefined;
    after += 1;
  }
  // A number is all ASCII digits without a leading zero; anything else names a group.
  const number = /^(0|[1-9][0-9]{0,8})$/.test(name) ? Number(name) : undefined;
  return { name, number, rest: body.slice(after) };
}
