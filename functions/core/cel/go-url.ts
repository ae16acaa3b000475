/**
 * Go's `net/url.Parse`, as Tekton's `parseURL()` uses it, and the map Tekton makes of the result. Unlike WHATWG's
 * `URL`, Go keeps relative references (`/path?x=1`), does not lower-case or normalise the host or path, decodes `path`
 * and `fragment`, and reads the query with `url.ParseQuery` (`+` is a space, pairs holding `;` are dropped).
 */

export class UrlParseError extends Error {
  override readonly name = 'UrlParseError';
}

interface GoUrl {
  scheme: string;
  opaque: string;
  user: { username: string; password: string } | undefined;
  host: string;
  path: string;
  rawQuery: string;
  fragment: string;
}

/** The map Tekton's `urlToMap` builds: `auth` only when the URL has user information. */
export function parseUrlAsTekton(raw: string): Record<string, unknown> {
  const url = parseGoUrl(raw);
  const queryStrings = parseQuery(url.rawQuery);
  const query: Record<string, string> = Object.create(null);
  for (const [key, values] of queryStrings) query[key] = values.join(',');
  const map: Record<string, unknown> = {
    scheme: url.scheme,
    host: url.host,
    path: url.path,
    rawQuery: url.rawQuery,
    fragment: url.fragment,
    queryStrings: Object.fromEntries(queryStrings),
    query,
  };
  if (url.user) map.auth = { username: url.user.username, password: url.user.password };
  return map;
}

export function parseGoUrl(raw: string): GoUrl {
  const fail = (reason: string): never => {
    throw new UrlParseError(`parse ${JSON.stringify(raw)}: ${reason}`);
  };
  const hash = raw.indexOf('#');
  const rest = hash < 0 ? raw : raw.slice(0, hash);
  const fragment = hash < 0 ? '' : unescape(raw.slice(hash + 1), 'fragment', fail);
  const url = parseReference(rest, fail);
  return { ...url, fragment };
}

function parseReference(raw: string, fail: (reason: string) => never): Omit<GoUrl, 'fragment'> {
  if (/[\u0000-\u001f\u007f]/.test(raw)) fail('net/url: invalid control character in URL');
  const url: Omit<GoUrl, 'fragment'> = { scheme: '', opaque: '', user: undefined, host: '', path: '', rawQuery: '' };
  if (raw === '*') return { ...url, path: '*' };
  let rest = raw;
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);
  if (scheme) {
    url.scheme = (scheme[1] as string).toLowerCase();
    rest = rest.slice(scheme[0].length);
  } else if (rest.startsWith(':')) {
    fail('missing protocol scheme');
  }
  if (rest.endsWith('?') && rest.indexOf('?') === rest.length - 1) {
    rest = rest.slice(0, -1);
  } else {
    const question = rest.indexOf('?');
    if (question >= 0) {
      url.rawQuery = rest.slice(question + 1);
      rest = rest.slice(0, question);
    }
  }
  if (!rest.startsWith('/')) {
    if (url.scheme !== '') return { ...url, opaque: rest };
    const colon = rest.indexOf(':');
    const slash = rest.indexOf('/');
    if (colon >= 0 && (slash < 0 || colon < slash)) fail('first path segment in URL cannot contain colon');
  }
  if ((url.scheme !== '' || !rest.startsWith('///')) && rest.startsWith('//')) {
    const authorityEnd = rest.indexOf('/', 2);
    const authority = authorityEnd < 0 ? rest.slice(2) : rest.slice(2, authorityEnd);
    rest = authorityEnd < 0 ? '' : rest.slice(authorityEnd);
    const at = authority.lastIndexOf('@');
    url.host = parseHost(at < 0 ? authority : authority.slice(at + 1), fail);
    if (at >= 0) url.user = parseUserinfo(authority.slice(0, at), fail);
  }
  url.path = unescape(rest, 'path', fail);
  return url;
}

function parseUserinfo(userinfo: string, fail: (reason: string) => never): { username: string; password: string } {
  if (!/^[A-Za-z0-9\-._:~!$&'()*+,;=%@]*$/.test(userinfo)) fail('net/url: invalid userinfo');
  const colon = userinfo.indexOf(':');
  if (colon < 0) return { username: unescape(userinfo, 'userinfo', fail), password: '' };
  return { username: unescape(userinfo.slice(0, colon), 'userinfo', fail), password: unescape(userinfo.slice(colon + 1), 'userinfo', fail) };
}

function parseHost(host: string, fail: (reason: string) => never): string {
  if (host.startsWith('[')) {
    const close = host.lastIndexOf(']');
    if (close < 0) fail("missing ']' in host");
    const port = host.slice(close + 1);
    if (!/^(:[0-9]*)?$/.test(port)) fail(`invalid port ${JSON.stringify(port)} after host`);
    return host;
  }
  const colon = host.lastIndexOf(':');
  if (colon >= 0 && !/^:[0-9]*$/.test(host.slice(colon))) fail(`invalid port ${JSON.stringify(host.slice(colon))} after host`);
  return unescape(host, 'host', fail);
}

type EscapeMode = 'path' | 'host' | 'userinfo' | 'fragment' | 'query';

// Characters Go's url.shouldEscape lets through in a host name.
const HOST_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:[\]<>"]/;

/** Go's url.unescape: `%XX` decoded as UTF-8 bytes; a bad escape is an error; `+` is a space in a query only. */
function unescape(text: string, mode: EscapeMode, fail: (reason: string) => never): string {
  if (!text.includes('%') && !(mode === 'query' && text.includes('+')) && mode !== 'host') return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; ) {
    const char = text[i] as string;
    if (char === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) fail(`invalid URL escape ${JSON.stringify(text.slice(i, i + 3))}`);
      if (mode === 'host' && parseInt(hex[0] as string, 16) < 8 && hex !== '25') fail(`invalid URL escape ${JSON.stringify(text.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 3;
      continue;
    }
    if (mode === 'host' && char.charCodeAt(0) < 0x80 && !HOST_CHAR.test(char)) fail(`invalid character ${JSON.stringify(char)} in host name`);
    const point = text.codePointAt(i) as number;
    const piece = String.fromCodePoint(point);
    if (mode === 'query' && piece === '+') bytes.push(0x20);
    else bytes.push(...Buffer.from(piece, 'utf8'));
    i += piece.length;
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Go's url.ParseQuery, errors ignored as `URL.Query()` ignores them: the bad pairs are left out. */
function parseQuery(rawQuery: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  const ignore = (): never => {
    throw new UrlParseError('bad query pair');
  };
  for (const pair of rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const equals = pair.indexOf('=');
    const rawKey = equals < 0 ? pair : pair.slice(0, equals);
    const rawValue = equals < 0 ? '' : pair.slice(equals + 1);
    let key: string;
    let value: string;
    try {
      key = unescape(rawKey, 'query', ignore);
      value = unescape(rawValue, 'query', ignore);
    } catch {
      continue;
    }
    const list = values.get(key);
    if (list) list.push(value);
    else values.set(key, [value]);
  }
  return values;
}
