import { hookName, type HookRef } from '../core/redelivery/hook-refs.ts';
import { pageReachesWindowStart, planRedeliveries, type EventVerdict, type HookDelivery, type RedeliveryPolicy } from '../core/redelivery/redelivery-plan.ts';
import type { CallAs, GithubAnswer, GithubApi } from './github-api.ts';
import { nextCursor } from './github-links.ts';

/** GitHub's largest page. */
const PER_PAGE = 100;

export interface RedeliveryOptions {
  api: GithubApi;
  hooks: readonly HookRef[];
  policy: Omit<RedeliveryPolicy, 'now'>;
  /** API calls this pass may make: listing pages (at most half of them, and at least one per hook), then redeliveries. */
  maxCalls: number;
  /** List and decide, ask for nothing. */
  dryRun?: boolean;
  now?: () => number;
  /** Epoch milliseconds: no call is started after it. */
  deadline?: number;
}

export interface RedeliveryEntry {
  hook: string;
  guid: string;
  event: string;
  action: string | undefined;
  firstDeliveredAt: string;
  /** The redelivery this is (1 for the first), or the redeliveries so far for `capped`. */
  attempt: number;
  maxAttempts: number;
  lastStatusCode: number;
  lastStatus: string;
  /** `left`: due, but the pass ran out of calls, time, or GitHub's rate limit; the next pass takes it. */
  outcome: 'redelivered' | 'failed' | 'would-redeliver' | 'left' | 'capped';
  reason?: string;
}

export interface RedeliverySummary {
  /** Attempts GitHub listed, over every hook. */
  listed: number;
  calls: number;
  /** Events of the window none of whose attempts got a 2xx, and what became of them. */
  undelivered: number;
  redelivered: number;
  failed: number;
  left: number;
  capped: number;
  waiting: number;
  entries: RedeliveryEntry[];
  /** Hooks that could not be listed (or not to the window's start), and why. */
  problems: string[];
}

/**
 * One pass over the hooks: list each one's deliveries back to the window's start (following GitHub's `Link`
 * cursor), decide with the core, and ask GitHub to redeliver what is due, oldest first, one call at a time as GitHub
 * asks integrators to. Nothing is remembered between passes: the next pass counts the attempts GitHub lists.
 */
export async function redeliverFailedDeliveries(options: RedeliveryOptions): Promise<RedeliverySummary> {
  const now = options.now ?? Date.now;
  const policy = { ...options.policy, now: now() };
  const summary: RedeliverySummary = { listed: 0, calls: 0, undelivered: 0, redelivered: 0, failed: 0, left: 0, capped: 0, waiting: 0, entries: [], problems: [] };
  const outOfTime = () => options.deadline !== undefined && now() >= options.deadline;
  const listBudget = Math.max(1, Math.floor(Math.ceil(options.maxCalls / 2) / Math.max(1, options.hooks.length)));
  let rateLimited = false;

  const due: Array<{ hook: HookRef; verdict: EventVerdict & { verdict: { action: 'redeliver' } } }> = [];
  for (const hook of options.hooks) {
    if (rateLimited || outOfTime()) {
      summary.problems.push(`${hookName(hook)} was not listed: ${rateLimited ? "GitHub's rate limit" : 'the pass ran out of time'}`);
      continue;
    }
    const listing = await listDeliveries(options.api, hook, policy, listBudget);
    summary.calls += listing.calls;
    summary.listed += listing.deliveries.length;
    if (listing.problem) summary.problems.push(listing.problem);
    rateLimited ||= listing.rateLimited;
    for (const verdict of planRedeliveries(listing.deliveries, policy)) {
      if (verdict.verdict.action === 'delivered') continue;
      summary.undelivered += 1;
      if (verdict.verdict.action === 'waiting') summary.waiting += 1;
      else if (verdict.verdict.action === 'capped') {
        summary.capped += 1;
        summary.entries.push(entryOf(hook, verdict, verdict.redeliveries, options.policy.maxRedeliveries, 'capped'));
      } else due.push({ hook, verdict: verdict as EventVerdict & { verdict: { action: 'redeliver' } } });
    }
  }

  due.sort((a, b) => Date.parse(a.verdict.firstDeliveredAt) - Date.parse(b.verdict.firstDeliveredAt));
  for (const { hook, verdict } of due) {
    const entry = (outcome: RedeliveryEntry['outcome'], reason?: string) =>
      summary.entries.push({ ...entryOf(hook, verdict, verdict.verdict.attempt, options.policy.maxRedeliveries, outcome), ...(reason !== undefined && { reason }) });
    if (options.dryRun) {
      entry('would-redeliver');
      continue;
    }
    const stop = rateLimited ? "GitHub's rate limit" : summary.calls >= options.maxCalls ? `this pass's ${options.maxCalls} API calls are used up` : outOfTime() ? 'the pass ran out of time' : undefined;
    if (stop) {
      summary.left += 1;
      entry('left', `${stop}: the next pass redelivers it`);
      continue;
    }
    summary.calls += 1;
    const answer = await redeliver(options.api, hook, verdict.verdict.deliveryId);
    if (answer.ok) {
      summary.redelivered += 1;
      entry('redelivered');
    } else {
      rateLimited ||= answer.rateLimited;
      summary.failed += 1;
      entry('failed', answer.reason);
    }
  }
  return summary;
}

function entryOf(hook: HookRef, verdict: EventVerdict, attempt: number, maxAttempts: number, outcome: RedeliveryEntry['outcome']): RedeliveryEntry {
  return {
    hook: hookName(hook),
    guid: verdict.guid,
    event: verdict.event,
    action: verdict.action,
    firstDeliveredAt: verdict.firstDeliveredAt,
    attempt,
    maxAttempts,
    lastStatusCode: verdict.lastStatusCode,
    lastStatus: verdict.lastStatus,
    outcome,
  };
}

interface Listing {
  deliveries: HookDelivery[];
  calls: number;
  rateLimited: boolean;
  problem?: string;
}

/** Newest first, page by page, until a page reaches back past the window's start, the list ends, or the budget does. */
async function listDeliveries(api: GithubApi, hook: HookRef, policy: RedeliveryPolicy, maxPages: number): Promise<Listing> {
  const listing: Listing = { deliveries: [], calls: 0, rateLimited: false };
  let cursor: string | undefined;
  while (listing.calls < maxPages) {
    listing.calls += 1;
    const params = { per_page: PER_PAGE, ...(cursor !== undefined && { cursor }) };
    const answer =
      hook.kind === 'app'
        ? await api.request('GET /app/hook/deliveries', params)
        : await api.request('GET /repos/{owner}/{repo}/hooks/{hook_id}/deliveries', { ...params, owner: hook.owner, repo: hook.repo, hook_id: hook.hookId }, callAs(hook));
    if (!answer.ok) {
      listing.rateLimited = answer.rateLimited;
      listing.problem = `the deliveries of ${hookName(hook)} could not be listed: ${answer.reason}`;
      return listing;
    }
    const page = Array.isArray(answer.data) ? (answer.data as HookDelivery[]) : [];
    listing.deliveries.push(...page);
    cursor = nextCursor(answer.headers.link);
    if (cursor === undefined || page.length === 0 || pageReachesWindowStart(page, policy)) return listing;
  }
  listing.problem = `the deliveries of ${hookName(hook)} were listed for ${maxPages} pages without reaching the window's start: older ones were not looked at`;
  return listing;
}

function redeliver(api: GithubApi, hook: HookRef, deliveryId: number): Promise<GithubAnswer> {
  return hook.kind === 'app'
    ? api.request('POST /app/hook/deliveries/{delivery_id}/attempts', { delivery_id: deliveryId })
    : api.request('POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{delivery_id}/attempts', { owner: hook.owner, repo: hook.repo, hook_id: hook.hookId, delivery_id: deliveryId }, callAs(hook));
}

function callAs(hook: HookRef & { kind: 'repository' }): CallAs {
  return { repository: { owner: hook.owner, repo: hook.repo } };
}
