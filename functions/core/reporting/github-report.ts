import type { ResourceRef } from '../delivery-types.ts';
import { isFinal, type RunState } from './run-state.ts';

/** Where a report goes: one context (status) or check run (App) on one commit of one repository. */
export interface ReportTarget {
  owner: string;
  repo: string;
  /** The commit the run builds: `after` of a push, `pull_request.head.sha` of a pull request. */
  commit: string;
  /** `tekton-bridge/<eventlistener>/<trigger>`: the commit status context, or the check run's name. */
  context: string;
  /** App mode: the installation that sent the delivery, when the payload said. */
  installationId: string | undefined;
}

/** One thing to tell GitHub. `run` is absent for what has no run: a skipped trigger or a creation that failed. */
export interface GithubReport {
  target: ReportTarget;
  state: RunState;
  /** At most 140 characters, as GitHub allows for a commit status. */
  description: string;
  detailsUrl: string | undefined;
  run: ResourceRef | undefined;
  /** App mode: the check run reported before for this run, so it is updated rather than created again. */
  checkRunId: string | undefined;
}

export const MAX_DESCRIPTION = 140;

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const INSTALLATION = /^[1-9][0-9]{0,18}$/;

/**
 * A target from what a run or a delivery says, or why there is none. Each part is checked before it goes into a
 * GitHub API path: nothing from a payload or an annotation can aim a request elsewhere.
 */
export function reportTargetOf(facts: {
  repository: string | undefined;
  commit: string | undefined;
  context: string | undefined;
  installationId?: string | undefined;
}): ReportTarget | string {
  const [owner = '', repo = '', ...rest] = (facts.repository ?? '').split('/');
  if (!facts.repository) return 'no repository';
  if (rest.length > 0 || !OWNER.test(owner) || !REPO.test(repo) || repo === '.' || repo === '..') {
    return `repository ${JSON.stringify(facts.repository.slice(0, 120))} is not owner/name`;
  }
  if (!facts.commit) return 'no commit';
  if (!SHA.test(facts.commit)) return `commit ${JSON.stringify(facts.commit.slice(0, 80))} is not a SHA`;
  if (/^0+$/.test(facts.commit)) return 'the commit is all zeros (a deleted ref)';
  if (!facts.context || facts.context.length > 255) return 'no context name';
  if (facts.installationId !== undefined && !INSTALLATION.test(facts.installationId)) {
    return `installation id ${JSON.stringify(facts.installationId.slice(0, 40))} is not a number`;
  }
  return { owner, repo, commit: facts.commit, context: facts.context, installationId: facts.installationId };
}

/** `tekton-bridge/<eventlistener>/<trigger>`, and `/<n>` after it for the n-th run (n ≥ 2) one trigger renders. */
export function contextName(eventListener: string, trigger: string, index = 0): string {
  const base = `tekton-bridge/${eventListener}/${trigger}`;
  return index === 0 ? base : `${base}/${index + 1}`;
}

/** One line of at most 140 characters, cut on a character boundary with an ellipsis. */
export function clipDescription(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const characters = Array.from(line);
  return characters.length <= MAX_DESCRIPTION ? line : `${characters.slice(0, MAX_DESCRIPTION - 1).join('')}…`;
}

const PLACEHOLDER = /\{(namespace|name|kind)\}/g;

/** DETAILS_URL_TEMPLATE with `{namespace}`, `{name}` and `{kind}` filled in, each URL-encoded. */
export function detailsUrlOf(template: string | undefined, run: ResourceRef | undefined): string | undefined {
  if (template === undefined || run === undefined) return undefined;
  const values = { namespace: run.namespace, name: run.name, kind: run.kind.toLowerCase() };
  return template.replace(PLACEHOLDER, (_, key: keyof typeof values) => encodeURIComponent(values[key]));
}

/** Why a details URL template cannot be used, or undefined when it can. */
export function detailsUrlTemplateProblem(template: string): string | undefined {
  let url: URL;
  try {
    url = new URL(template.replace(PLACEHOLDER, 'x'));
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http:// or https:// URL';
  const unknown = /\{([^}]*)\}/.exec(template.replace(PLACEHOLDER, ''));
  if (unknown) return `has the unknown placeholder {${unknown[1]}}: use {namespace}, {name} and {kind}`;
  return undefined;
}

/** The body of `POST /repos/{owner}/{repo}/statuses/{sha}`. */
export function commitStatusBody(report: GithubReport): { state: 'pending' | 'success' | 'failure' | 'error'; context: string; description: string; target_url?: string } {
  return {
    state: STATUS_STATES[report.state],
    context: report.target.context,
    description: report.description,
    ...(report.detailsUrl !== undefined && { target_url: report.detailsUrl }),
  };
}

const STATUS_STATES = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  cancelled: 'error',
  'timed-out': 'error',
  error: 'error',
} as const;

const CONCLUSIONS = { success: 'success', failure: 'failure', cancelled: 'cancelled', 'timed-out': 'timed_out', error: 'failure' } as const;

const TITLES: Record<RunState, string> = {
  pending: 'Waiting to start',
  running: 'Running',
  success: 'Succeeded',
  failure: 'Failed',
  cancelled: 'Cancelled',
  'timed-out': 'Timed out',
  error: 'Could not run',
};

export interface CheckRunBody {
  name?: string;
  head_sha?: string;
  external_id: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion?: 'success' | 'failure' | 'cancelled' | 'timed_out';
  started_at?: string;
  completed_at?: string;
  details_url?: string;
  output: { title: string; summary: string };
}

/**
 * The body of `POST /repos/{owner}/{repo}/check-runs` (with `name` and `head_sha`) or of `PATCH …/check-runs/{id}`
 * (without them). `nowIso` is the time of the report: when the run started or completed, as far as GitHub knows.
 */
export function checkRunBody(report: GithubReport, nowIso: string, create: boolean): CheckRunBody {
  const { state } = report;
  const body: CheckRunBody = {
    ...(create && { name: report.target.context, head_sha: report.target.commit }),
    external_id: externalIdOf(report),
    status: state === 'pending' ? 'queued' : state === 'running' ? 'in_progress' : 'completed',
    output: { title: TITLES[state], summary: report.description },
    ...(report.detailsUrl !== undefined && { details_url: report.detailsUrl }),
  };
  if (state === 'running') body.started_at = nowIso;
  if (isFinal(state)) {
    body.conclusion = CONCLUSIONS[state as keyof typeof CONCLUSIONS];
    body.completed_at = nowIso;
  }
  return body;
}

/** What ties a check run to its run (`namespace/name`), or to its context when there is no run. */
export function externalIdOf(report: GithubReport): string {
  return report.run ? `${report.run.namespace}/${report.run.name}` : report.target.context;
}
