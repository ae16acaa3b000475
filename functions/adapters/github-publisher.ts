import { checkRunBody, commitStatusBody, externalIdOf, type GithubReport } from '../core/reporting/github-report.ts';
import type { PublishResult } from '../core/reporting/report-run.ts';
import type { CallAs, GithubAnswer, GithubApi } from './github-api.ts';

export interface PublisherOptions {
  /** Epoch milliseconds, for a check run's started_at and completed_at. */
  now?: () => number;
  /** Aborts what is still in flight when the caller's time is up (the webhook's answer must not wait). */
  signal?: AbortSignal;
  /**
   * App mode, for a run with no check run recorded: look for one with its external id before creating one (a queued
   * creation reported it before the run existed). The webhook's fresh runs skip the look-up.
   */
  findExisting?: boolean;
}

/**
 * A report as GitHub takes it: a commit status with a token, a check run with an App (created once, then updated).
 */
export function createGithubPublisher(api: GithubApi, options: PublisherOptions = {}): (report: GithubReport) => Promise<PublishResult> {
  const now = options.now ?? Date.now;
  const { signal } = options;
  return async (report) => {
    const { owner, repo, commit } = report.target;
    const as: CallAs = { installationId: report.target.installationId, repository: { owner, repo } };
    if (api.mode === 'token') {
      const answer = await api.request('POST /repos/{owner}/{repo}/statuses/{sha}', { owner, repo, sha: commit, ...commitStatusBody(report) }, as, signal);
      return resultOf(answer);
    }
    const nowIso = new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    let checkRunId = report.checkRunId;
    if (checkRunId === undefined && options.findExisting) {
      const found = await api.request(
        'GET /repos/{owner}/{repo}/commits/{ref}/check-runs',
        { owner, repo, ref: commit, check_name: report.target.context, filter: 'all', per_page: 100 },
        as,
        signal,
      );
      if (!found.ok) return resultOf(found);
      const runs = (found.data as { check_runs?: Array<{ id?: unknown; external_id?: unknown }> }).check_runs ?? [];
      const mine = runs.find((run) => run.external_id === externalIdOf(report));
      if (mine !== undefined) checkRunId = String(mine.id);
    }
    if (checkRunId !== undefined) {
      const updated = await api.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { owner, repo, check_run_id: Number(checkRunId), ...checkRunBody(report, nowIso, false) }, as, signal);
      // A check run deleted meanwhile (or never ours): make a new one.
      if (updated.ok || updated.status !== 404) return resultOf(updated, checkRunId);
    }
    const created = await api.request('POST /repos/{owner}/{repo}/check-runs', { owner, repo, ...checkRunBody(report, nowIso, true) }, as, signal);
    return resultOf(created, created.ok ? String((created.data as { id?: unknown }).id) : undefined);
  };
}

function resultOf(answer: GithubAnswer, checkRunId?: string): PublishResult {
  if (answer.ok) return { outcome: 'published', ...(checkRunId !== undefined && { checkRunId }) };
  if (answer.retryable) return { outcome: 'unavailable', reason: answer.reason, rateLimited: answer.rateLimited };
  return { outcome: 'refused', reason: answer.reason };
}
