/** Go's `http.Header` as Tekton's `header` variable, `match()` and `canonical()` see it. */

const TOKEN_BYTE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;

/**
 * Go's textproto.CanonicalMIMEHeaderKey: `x-github-event` → `X-Github-Event`. A name holding a byte that is not
 * a token character (a space, say) is returned unchanged, and only ASCII letters change case.
 */
export function canonicalHeaderName(name: string): string {
  for (const char of name) if (!TOKEN_BYTE.test(char)) return name;
  let upper = true;
  let out = '';
  for (const char of name) {
    out += upper ? char.toUpperCase() : char.toLowerCase();
    upper = char === '-';
  }
  return out;
}

export class HeaderConversionError extends Error {
  override readonly name = 'HeaderConversionError';

  constructor() {
    super('failed to convert to http.Header: match() and canonical() take the header map, whose values are lists of strings');
  }
}

/** `http.Header.Get`: the first value under the canonical name, or "". The map must convert to an http.Header. */
export function firstHeaderValue(header: unknown, name: string): string {
  const entries = header instanceof Map ? [...header.entries()] : Object.entries(header as object);
  const wanted = canonicalHeaderName(name);
  let found: string | undefined;
  for (const [key, values] of entries) {
    if (typeof key !== 'string' || !Array.isArray(values) || !values.every((v) => typeof v === 'string')) throw new HeaderConversionError();
    if (key === wanted && found === undefined) found = (values[0] as string | undefined) ?? '';
  }
  return found ?? '';
}
