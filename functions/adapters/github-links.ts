/** GitHub's paging: the `Link` header of a list answer. */

/** The `cursor` of the `rel="next"` link of GitHub's `Link` header, if there is one. */
export function nextCursor(link: string | undefined): string | undefined {
  const next = linkTarget(link, 'next');
  return next?.searchParams.get('cursor') ?? undefined;
}

/** The URL of one relation of a `Link` header (RFC 8288, as GitHub writes it: `<url>; rel="next", <url>; rel="last"`). */
export function linkTarget(link: string | undefined, rel: string): URL | undefined {
  for (const match of (link ?? '').matchAll(/<([^>]*)>([^<]*)/g)) {
    const rels = (match[2] as string)
      .replace(/,\s*$/, '')
      .split(';')
      .map((param) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(param)?.[1])
      .find((value) => value !== undefined);
    if (!rels?.split(/\s+/).includes(rel)) continue;
    try {
      return new URL(match[1] as string);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
