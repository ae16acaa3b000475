import { listenerTriggers, type EventListenerConfig, type GithubInterceptorConfig, type InterceptorConfig } from '../triggers-config.ts';
import { changedFilesPayload, ownersPayload, type RepositoryName } from './github-payload.ts';

/**
 * What Tekton's github interceptor asks GitHub's API, as data: the core stays pure and synchronous, so an adapter
 * fetches these before the triggers are evaluated — only those the delivery's event and the config need — and
 * hands the answers in. Every lookup is about one repository, whose installation an App calls as.
 */
export type GithubLookup =
  /** `GET /repos/{owner}/{repo}/pulls/{number}/files`, every page. */
  | { kind: 'pull-request-files'; repository: RepositoryName; number: number }
  /** `GET /orgs/{org}/public_members/{user}`: Tekton lists the org's public members. */
  | { kind: 'public-member'; repository: RepositoryName; org: string; user: string }
  /** `GET /repos/{owner}/{repo}/collaborators/{user}`. */
  | { kind: 'collaborator'; repository: RepositoryName; user: string }
  /** `GET /repos/{owner}/{repo}/contents/OWNERS` on the default branch. */
  | { kind: 'owners-file'; repository: RepositoryName };

export interface OwnersFile {
  approvers: string[];
  reviewers: string[];
}

export type GithubLookupAnswer =
  | { ok: true; kind: 'pull-request-files'; files: string[] }
  | { ok: true; kind: 'public-member' | 'collaborator'; member: boolean }
  /** `owners` undefined: the repository has no OWNERS file. */
  | { ok: true; kind: 'owners-file'; owners: OwnersFile | undefined }
  | { ok: false; reason: string };

/** The answers of one delivery, by lookupKey. */
export type GithubLookups = ReadonlyMap<string, GithubLookupAnswer>;

export interface PlannedLookups {
  lookups: GithubLookup[];
  /** The payload's `installation.id` (App deliveries): the installation to call GitHub as. */
  installationId: string | undefined;
}

export const NO_LOOKUPS: GithubLookups = new Map();

export function lookupKey(lookup: GithubLookup): string {
  const repository = `${lookup.repository.owner}/${lookup.repository.repo}`;
  switch (lookup.kind) {
    case 'pull-request-files':
      return `files ${repository}#${lookup.number}`;
    case 'public-member':
      return `public-member ${lookup.org} ${lookup.user}`;
    case 'collaborator':
      return `collaborator ${repository} ${lookup.user}`;
    case 'owners-file':
      return `owners ${repository}`;
  }
}

/** Tekton's owners check asks, in this order, what its checkType names, then the OWNERS file. */
export function ownersLookups(checkType: string, payload: { owner: string; repo: string; sender: string }): GithubLookup[] {
  const repository = { owner: payload.owner, repo: payload.repo };
  return [
    ...(checkType === 'orgMembers' || checkType === 'all' ? [{ kind: 'public-member' as const, repository, org: payload.owner, user: payload.sender }] : []),
    ...(checkType === 'repoMembers' || checkType === 'all' ? [{ kind: 'collaborator' as const, repository, user: payload.sender }] : []),
    { kind: 'owners-file', repository },
  ];
}

/**
 * The lookups the EventListener's github interceptors would make for this delivery: a pull request's changed files
 * (addChangedFiles), and the owners checks of githubOwners for pull requests and issue comments; none for a push or
 * for an event an interceptor's eventTypes turn away. A payload Tekton could not parse needs none: the interceptor
 * fails with Tekton's sentence when it runs. Each lookup once, however many triggers need it.
 */
export function plannedGithubLookups(listener: EventListenerConfig, event: string, payload: unknown): PlannedLookups {
  const interceptors: InterceptorConfig[] = [...listener.triggerGroups.flatMap((group) => group.interceptors), ...listenerTriggers(listener).flatMap((trigger) => trigger.interceptors)];
  const byKey = new Map<string, GithubLookup>();
  for (const interceptor of interceptors) {
    if (interceptor.type !== 'github') continue;
    for (const lookup of githubInterceptorLookups(interceptor, event, payload)) byKey.set(lookupKey(lookup), lookup);
  }
  const installation = (payload as { installation?: { id?: unknown } } | null)?.installation?.id;
  return { lookups: [...byKey.values()], installationId: typeof installation === 'number' || typeof installation === 'string' ? String(installation) : undefined };
}

/** What one github interceptor would ask GitHub for this delivery. */
export function githubInterceptorLookups(interceptor: GithubInterceptorConfig, event: string, payload: unknown): GithubLookup[] {
  if (interceptor.eventTypes && !interceptor.eventTypes.includes(event)) return [];
  // As in Tekton, addChangedFiles ends the interceptor: its githubOwners is never looked at.
  if (interceptor.addChangedFiles) {
    if (event !== 'pull_request') return [];
    const parsed = changedFilesPayload(payload, event);
    return parsed.ok ? [{ kind: 'pull-request-files', repository: { owner: parsed.owner, repo: parsed.repo }, number: parsed.number }] : [];
  }
  if (!interceptor.owners || (event !== 'pull_request' && event !== 'issue_comment')) return [];
  const parsed = ownersPayload(payload, event);
  return parsed.ok ? ownersLookups(interceptor.owners.checkType, parsed) : [];
}

/** What the interceptor reads when the adapter could not look something up at all (no credentials, render). */
export function unavailableLookups(planned: readonly GithubLookup[], reason: string): GithubLookups {
  return new Map(planned.map((lookup) => [lookupKey(lookup), { ok: false, reason }]));
}
