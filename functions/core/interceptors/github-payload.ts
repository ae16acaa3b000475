/**
 * What Tekton's github interceptor reads of a payload before it calls GitHub (parseBodyForChangedFiles and
 * parseBodyForOwners in github.go), with its error sentences. Where Go would panic on a field of the wrong type
 * (a `number` that is no number, a `full_name` without a slash), the bridge says so instead.
 */

type Json = Record<string, unknown>;
type Parsed<T> = ({ ok: true } & T) | { ok: false; error: string };

export interface RepositoryName {
  owner: string;
  repo: string;
}

/** Tekton's parseBodyForChangedFiles: a pull request's number, the repository, and a push's changed files. */
export function changedFilesPayload(payload: unknown, event: string): Parsed<RepositoryName & { number: number; pushFiles: string }> {
  const body = isObject(payload) ? payload : {};
  let number = -1;
  if (body.number !== undefined) {
    const parsed = prNumber(body.number, "'number' field");
    if (typeof parsed === 'string') return { ok: false, error: parsed };
    number = parsed;
  } else if (event === 'pull_request') return { ok: false, error: "pull_request body missing 'number' field" };
  const repository = repositoryName(body);
  if (!repository.ok) return repository;
  const files: string[] = [];
  if (Array.isArray(body.commits)) {
    for (const commit of body.commits as unknown[]) {
      const lists: unknown[][] = [];
      for (const key of ['added', 'modified', 'removed']) {
        const list = isObject(commit) ? commit[key] : undefined;
        if (!Array.isArray(list)) return { ok: false, error: `payload body missing 'commits.*.${key}' field` };
        lists.push(list);
      }
      for (const list of lists) for (const file of list) files.push(goValueText(file));
    }
  }
  return { ok: true, owner: repository.owner, repo: repository.repo, number, pushFiles: files.join(',') };
}

export interface OwnersPayload extends RepositoryName {
  number: number;
  /** `sender.login`; empty when it is not a string, as in Tekton. */
  sender: string;
  /** An issue_comment's `comment.body`; empty for a pull request. */
  commentBody: string;
}

/** Tekton's parseBodyForOwners, for `pull_request` and `issue_comment`. */
export function ownersPayload(payload: unknown, event: string): Parsed<OwnersPayload> {
  const body = isObject(payload) ? payload : {};
  let number = -1;
  let commentBody = '';
  if (event === 'pull_request') {
    if (body.number === undefined) return { ok: false, error: "pull_request body missing 'number' field" };
    const parsed = prNumber(body.number, "'number' field");
    if (typeof parsed === 'string') return { ok: false, error: parsed };
    number = parsed;
  }
  if (event === 'issue_comment') {
    if (!isObject(body.issue)) return { ok: false, error: "issue_comment body missing 'issue' section" };
    if (body.issue.number === undefined) return { ok: false, error: "'number' field missing in the issue section of issue_comment body" };
    const parsed = prNumber(body.issue.number, "'number' field in the issue section");
    if (typeof parsed === 'string') return { ok: false, error: parsed };
    number = parsed;
    if (!isObject(body.comment)) return { ok: false, error: "issue_comment body missing 'comment' section" };
    if (body.comment.body === undefined) return { ok: false, error: "'body' field missing in the comment section of issue_comment body" };
    if (typeof body.comment.body !== 'string') return { ok: false, error: "'body' field in the comment section of issue_comment body is not a string" };
    commentBody = body.comment.body;
  }
  const repository = repositoryName(body);
  if (!repository.ok) return repository;
  if (!isObject(body.sender)) return { ok: false, error: "payload body missing 'sender' field" };
  const sender = typeof body.sender.login === 'string' ? body.sender.login : '';
  return { ok: true, owner: repository.owner, repo: repository.repo, number, sender, commentBody };
}

function repositoryName(body: Json): Parsed<RepositoryName> {
  if (!isObject(body.repository)) return { ok: false, error: "payload body missing 'repository' field" };
  const fullName = body.repository.full_name;
  if (typeof fullName !== 'string') return { ok: false, error: "payload body missing 'repository.full_name' field" };
  // Tekton takes the first two parts of full_name split at "/".
  const [owner = '', repo] = fullName.split('/');
  if (repo === undefined || owner === '' || repo === '') return { ok: false, error: `payload body 'repository.full_name' is not owner/name: ${JSON.stringify(fullName.slice(0, 100))}` };
  return { ok: true, owner, repo };
}

/** JSON numbers are float64 in Go, and Tekton converts them with int(): the fraction dropped. */
function prNumber(value: unknown, what: string): number | string {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `payload body ${what} is not a number`;
  return Math.trunc(value);
}

/** GitHub's file names are strings; Tekton formats anything else with %v, for which the bridge writes JSON. */
function goValueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null) return '<nil>';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
