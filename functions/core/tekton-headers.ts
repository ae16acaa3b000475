/**
 * The request headers as Tekton Triggers sees them: Go's http.Header, keyed by canonical MIME name (`X-Github-Event`),
 * without `Host` and `Transfer-Encoding`, which Go's server moves out of the header map. The adapters hand over one
 * string per header, repeated headers already joined with `,` as Tekton joins them for bindings.
 */
export function tektonHeaders(headers: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const canonical = canonicalMimeHeaderKey(name);
    if (canonical === 'Host' || canonical === 'Transfer-Encoding') continue;
    result[canonical] = canonical in result ? `${result[canonical]},${value}` : value;
  }
  return result;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]*$/;

/**
 * Go's textproto.CanonicalMIMEHeaderKey: the first letter and each letter after a `-` upper-cased, the rest
 * lower-cased; a name holding anything but token characters (a space, say) is returned unchanged.
 */
export function canonicalMimeHeaderKey(name: string): string {
  if (!TOKEN.test(name)) return name;
  let upper = true;
  let result = '';
  for (const char of name) {
    result += upper ? char.toUpperCase() : char.toLowerCase();
    upper = char === '-';
  }
  return result;
}
