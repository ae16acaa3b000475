import type { YamlModule } from '../cel/go-yaml.ts';
import { lookupKey, ownersLookups, type GithubLookups, type OwnersFile } from './github-lookups.ts';
import type { OwnersPayload } from './github-payload.ts';

/** Tekton's OKToTestCommentRegexp: `/ok-to-test` on a line of its own. */
const OK_TO_TEST = /(^|\n)\/ok-to-test(\r\n|\r|\n|$)/;

export type OwnersVerdict = { allowed: boolean } | { error: string };

/**
 * Tekton's checkOwnershipAndMembership, over answers fetched beforehand: the sender passes as a public member of the
 * repository owner's organization (checkType orgMembers or all), as a collaborator (repoMembers or all), or as an
 * approver or reviewer in the OWNERS file (always asked last; no file is a no). An answer GitHub could not give is an
 * error only when Tekton would have asked for it, i.e. when nothing before it already let the sender pass.
 */
export function ownershipOf(checkType: string, payload: OwnersPayload, answers: GithubLookups): OwnersVerdict {
  for (const lookup of ownersLookups(checkType, payload)) {
    const answer = answers.get(lookupKey(lookup));
    if (answer === undefined) return { error: `${lookup.kind} of ${payload.owner}/${payload.repo} was not looked up` };
    if (!answer.ok) return { error: answer.reason };
    if (answer.kind === 'public-member' || answer.kind === 'collaborator') {
      if (answer.member) return { allowed: true };
      continue;
    }
    if (answer.kind !== 'owners-file' || answer.owners === undefined) return { allowed: false };
    const sender = payload.sender.toLowerCase();
    return { allowed: [...answer.owners.approvers, ...answer.owners.reviewers].some((owner) => owner.toLowerCase() === sender) };
  }
  return { allowed: false };
}

/**
 * Tekton's owners flow for one event: a pull request from someone who passes goes on; otherwise (and for every issue
 * comment) only a comment holding `/ok-to-test` from someone who passes does.
 */
export function ownersDecision(event: string, checkType: string, payload: OwnersPayload, answers: GithubLookups): { pass: true } | { pass: false; error?: string } {
  const verdict = ownershipOf(checkType, payload, answers);
  if ('error' in verdict) return { pass: false, error: `error checking owner verification: ${verdict.error}` };
  if (verdict.allowed && event === 'pull_request') return { pass: true };
  // okToTestFromAnOwner asks the same questions again, of the comment's author: the same answers.
  if (OK_TO_TEST.test(payload.commentBody) && verdict.allowed) return { pass: true };
  return { pass: false };
}

/**
 * An OWNERS file as Tekton decodes it (gopkg.in/yaml.v2 into `approvers` and `reviewers` lists of strings): an item
 * stands as the text it was written as (YAML's failsafe schema: `yes` is the login "yes", not true), a missing or
 * empty list is empty, anything else is an error. The YAML module is handed in.
 */
export function decodeOwnersFile(yaml: YamlModule, text: string): OwnersFile | { error: string } {
  let document: unknown;
  try {
    document = yaml.parse(text, { schema: 'failsafe', uniqueKeys: false, prettyErrors: false, maxAliasCount: 100 });
  } catch (error) {
    return { error: `yaml: ${((error as Error).message.split('\n')[0] ?? '').slice(0, 200)}` };
  }
  if (document === null || document === undefined || document === '') return { approvers: [], reviewers: [] };
  if (typeof document !== 'object' || Array.isArray(document)) return { error: 'yaml: the OWNERS file is not a mapping of approvers and reviewers' };
  const lists: OwnersFile = { approvers: [], reviewers: [] };
  for (const key of ['approvers', 'reviewers'] as const) {
    const value = (document as Record<string, unknown>)[key];
    if (value === null || value === undefined || value === '') continue;
    if (!Array.isArray(value)) return { error: `yaml: OWNERS ${key} is not a list` };
    for (const item of value) {
      if (item !== null && typeof item === 'object') return { error: `yaml: an item of OWNERS ${key} is not a name` };
      lists[key].push(item === null ? '' : String(item));
    }
  }
  return lists;
}
