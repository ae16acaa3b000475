import type { YamlModule } from '../core/cel/go-yaml.ts';
import { lookupKey, unavailableLookups, type GithubLookup, type GithubLookupAnswer, type GithubLookups, type PlannedLookups } from '../core/interceptors/github-lookups.ts';
import { decodeOwnersFile } from '../core/interceptors/github-owners.ts';
import { messageOf } from './error-message.ts';
import type { CallAs, GithubApi } from './github-api.ts';
import { linkTarget } from './github-links.ts';
import type { ReportingAccess } from './github-reporting.ts';

/** The github interceptor's share of a delivery's 10 s: what GitHub has not answered by then fails its trigger. */
export const DEFAULT_LOOKUP_BUDGET_MS = 3000;
const PER_PAGE = 100;
/** GitHub lists at most 3000 files of a pull request. */
const MAX_FILES = 3000;
/** Pages after the first are fetched this many at a time, so a 3000-file pull request fits the budget. */
const PAGES_AT_ONCE = 4;

export type LookupGithub = (planned: PlannedLookups) => Promise<GithubLookups>;

export interface GithubLookupOptions {
  /** The bridge's GitHub client, as reporting has it (the same credentials, the same token cache). */
  access: () => Promise<ReportingAccess>;
  /** The YAML parser, loaded on the first OWNERS file. */
  yaml: () => YamlModule;
  budgetMs?: number;
  /** Epoch ms, for the budget. */
  now?: () => number;
}

/**
 * Asks GitHub's API what the github interceptors need, with the bridge's credentials (the App's installation from the
 * payload, else the repository's): every planned lookup at once, each answered or failed with its reason within
 * the budget. A pull request's files are paged as GitHub pages them, up to its 3000.
 */
export function createGithubLookups(options: GithubLookupOptions): LookupGithub {
  const budgetMs = options.budgetMs ?? DEFAULT_LOOKUP_BUDGET_MS;
  return async (planned) => {
    let access: ReportingAccess;
    try {
      access = await options.access();
    } catch (error) {
      return unavailableLookups(planned.lookups, `the GitHub credentials could not be read: ${messageOf(error)}`);
    }
    if (!access.on) return unavailableLookups(planned.lookups, `the bridge has no usable GitHub credentials: ${access.reason}`);
    const { api } = access;
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<GithubLookupAnswer>((resolve) => {
      timer = setTimeout(() => {
        abort.abort();
        resolve({ ok: false, reason: `GitHub did not answer within the delivery's ${budgetMs} ms` });
      }, budgetMs);
    });
    try {
      const answers = await Promise.all(
        planned.lookups.map(async (lookup) => {
          const as: CallAs = { installationId: planned.installationId, repository: lookup.repository };
          const answer = await Promise.race([lookUp(api, lookup, as, abort.signal, options.yaml), late]);
          return [lookupKey(lookup), answer] as const;
        }),
      );
      return new Map(answers);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** Every such trigger fails, saying why (no credentials configured). */
export function githubLookupsUnavailable(reason: string): LookupGithub {
  return async (planned) => unavailableLookups(planned.lookups, reason);
}

async function lookUp(api: GithubApi, lookup: GithubLookup, as: CallAs, signal: AbortSignal, yaml: () => YamlModule): Promise<GithubLookupAnswer> {
  const { owner, repo } = lookup.repository;
  switch (lookup.kind) {
    case 'pull-request-files':
      return pullRequestFiles(api, lookup, as, signal);
    case 'public-member':
    case 'collaborator': {
      if (lookup.user === '') return { ok: true, kind: lookup.kind, member: false };
      const answer =
        lookup.kind === 'public-member'
          ? await api.request('GET /orgs/{org}/public_members/{username}', { org: lookup.org, username: lookup.user }, as, signal)
          : await api.request('GET /repos/{owner}/{repo}/collaborators/{username}', { owner, repo, username: lookup.user }, as, signal);
      // 204: a member; 404: not one (or, for an org, no such org: Tekton's list answers 404 then too).
      if (answer.ok) return { ok: true, kind: lookup.kind, member: answer.status === 204 };
      if (answer.status === 404) return { ok: true, kind: lookup.kind, member: false };
      return { ok: false, reason: answer.reason };
    }
    case 'owners-file': {
      const answer = await api.request('GET /repos/{owner}/{repo}/contents/{path}', { owner, repo, path: 'OWNERS' }, as, signal);
      if (!answer.ok) return answer.status === 404 ? { ok: true, kind: 'owners-file', owners: undefined } : { ok: false, reason: answer.reason };
      const text = fileText(answer.data);
      if (typeof text !== 'string') return { ok: false, reason: text.error };
      const owners = decodeOwnersFile(yaml(), text);
      return 'error' in owners ? { ok: false, reason: owners.error } : { ok: true, kind: 'owners-file', owners };
    }
  }
}

async function pullRequestFiles(api: GithubApi, lookup: GithubLookup & { kind: 'pull-request-files' }, as: CallAs, signal: AbortSignal): Promise<GithubLookupAnswer> {
  const { owner, repo } = lookup.repository;
  const page = (number: number) => api.request('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', { owner, repo, pull_number: lookup.number, per_page: PER_PAGE, page: number }, as, signal);
  const first = await page(1);
  if (!first.ok) return { ok: false, reason: first.reason };
  const pages: unknown[] = [first.data];
  const last = Math.min(Number(linkTarget(first.headers.link, 'last')?.searchParams.get('page') ?? 1), MAX_FILES / PER_PAGE);
  for (let start = 2; start <= last; start += PAGES_AT_ONCE) {
    const batch = await Promise.all(Array.from({ length: Math.min(PAGES_AT_ONCE, last - start + 1) }, (_, i) => page(start + i)));
    for (const answer of batch) {
      if (!answer.ok) return { ok: false, reason: answer.reason };
      pages.push(answer.data);
    }
  }
  const files = pages.flatMap((data) => (Array.isArray(data) ? data : [])).map((file) => (file as { filename?: unknown }).filename);
  if (!files.every((name): name is string => typeof name === 'string')) return { ok: false, reason: 'GitHub listed a changed file without a filename' };
  return { ok: true, kind: 'pull-request-files', files: files.slice(0, MAX_FILES) };
}

/** A contents answer as go-github's GetContent reads it. */
function fileText(data: unknown): string | { error: string } {
  if (Array.isArray(data)) return { error: 'referenced file inside the Github Repository OWNERS is a directory' };
  const { content, encoding } = (data ?? {}) as { content?: unknown; encoding?: unknown };
  if (encoding === 'base64') {
    if (typeof content !== 'string') return { error: 'malformed response: base64 encoding of null content' };
    return Buffer.from(content, 'base64').toString('utf8');
  }
  if (encoding === undefined || encoding === null || encoding === '') return typeof content === 'string' ? content : '';
  return { error: `unsupported content encoding: ${String(encoding)}` };
}
