import { parseArgs } from 'node:util';
import { isGithubApiUrl } from '../adapters/environment.ts';
import { credentialsFromFlags } from '../adapters/github-credentials-source.ts';
import { redeliverFailedDeliveries, type RedeliveryEntry } from '../adapters/github-deliveries.ts';
import { APP_HOOK, hookName, parseHookRefs, type HookRef } from '../core/redelivery/hook-refs.ts';
import { EXIT, UsageError, type CliIo } from './cli-io.ts';
import { parseSince } from './durations.ts';

/** GitHub lists (and redelivers) three days of deliveries. */
const MAX_SINCE_MS = 72 * 3_600_000;
/** By hand there is no schedule to leave work for: enough for three days of a busy hook. */
const MAX_CALLS = 1000;

export interface RedeliverDependencies {
  now?: () => number;
}

/**
 * `tekton-bridge redeliver`: what the reporter's schedule does, by hand — list the hooks' deliveries of the last
 * `--since`, and ask GitHub to redeliver every event none of whose attempts got a 2xx, up to the cap. Exit 0 when
 * everything due was redelivered (or, with `--dry-run`, listed), 1 when GitHub refused a listing or a redelivery.
 */
export async function runRedeliverCommand(argv: string[], io: CliIo, deps: RedeliverDependencies = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      since: { type: 'string', default: '6h' },
      'dry-run': { type: 'boolean', default: false },
      hooks: { type: 'string' },
      'github-token': { type: 'string' },
      'github-credentials': { type: 'string' },
      'github-api-url': { type: 'string' },
      'max-attempts': { type: 'string' },
    },
  });
  const sinceMs = parseSince(values.since);
  if (sinceMs === undefined || sinceMs > MAX_SINCE_MS) {
    throw new UsageError(`--since must be a duration like 30m, 6h or 3d, at most 72h (GitHub keeps three days of deliveries); got "${values.since}"`);
  }
  const maxAttemptsText = values['max-attempts'] ?? (io.env.REDELIVER_MAX_ATTEMPTS || '3');
  if (!/^\d{1,2}$/.test(maxAttemptsText)) throw new UsageError(`--max-attempts (or REDELIVER_MAX_ATTEMPTS) must be a whole number, got "${maxAttemptsText}"`);
  const maxAttempts = Number(maxAttemptsText);
  const apiUrl = values['github-api-url'] ?? (io.env.GITHUB_API_URL || undefined);
  if (apiUrl !== undefined && !URL.canParse(apiUrl)) throw new UsageError(`--github-api-url is not a URL: "${apiUrl}"`);
  if (apiUrl !== undefined && !isGithubApiUrl(new URL(apiUrl))) throw new UsageError('--github-api-url must be https:// (http:// only on loopback): the token goes there');
  const hookList = parseHookRefs(values.hooks ?? io.env.REDELIVER_HOOKS ?? '');
  if (!hookList.ok) throw new UsageError(`--hooks (or REDELIVER_HOOKS): ${hookList.reason}`);

  const token = values['github-token'] ?? (values['github-credentials'] ? undefined : io.env.GITHUB_TOKEN || undefined);
  if (token !== undefined && values['github-credentials'] !== undefined) throw new UsageError('give --github-token or --github-credentials, not both');
  const parsed = await credentialsFromFlags({ token, file: values['github-credentials'] })();
  if (parsed.ok === 'empty') {
    throw new UsageError('redeliver needs GitHub credentials: --github-token T (or GITHUB_TOKEN), a token with Webhooks: read and write on the hooks\' repositories; or --github-credentials FILE of a GitHub App');
  }
  if (parsed.ok === false) throw new UsageError(parsed.reason);
  const hooks: HookRef[] = hookList.hooks.length > 0 ? hookList.hooks : parsed.credentials.mode === 'app' ? [APP_HOOK] : [];
  if (hooks.length === 0) throw new UsageError('name the webhooks with --hooks owner/repo/hookId,… (or REDELIVER_HOOKS): the hook id is the number in its settings URL');

  const { createGithubApi } = await import('../adapters/github-api.ts');
  const api = createGithubApi({ credentials: parsed.credentials, baseUrl: apiUrl, warn: (message) => io.stderr(`warning: ${message}\n`) });
  const summary = await redeliverFailedDeliveries({
    api,
    hooks,
    policy: { windowMs: sinceMs, maxRedeliveries: maxAttempts, spacingMs: [] },
    maxCalls: MAX_CALLS,
    dryRun: values['dry-run'],
    now: deps.now,
  });
  for (const entry of summary.entries) io.stdout(`${entryLine(entry)}\n`);
  const done = values['dry-run'] ? `${summary.entries.filter((e) => e.outcome === 'would-redeliver').length} would be redelivered` : `${summary.redelivered} redelivered, ${summary.failed} refused`;
  io.stdout(
    `${summary.listed} attempts listed on ${hooks.map(hookName).join(', ')} over the last ${values.since}; ` +
      `${summary.undelivered} ${summary.undelivered === 1 ? 'event' : 'events'} never got a 2xx: ${done}, ${summary.capped} at the cap of ${maxAttempts}\n`,
  );
  for (const problem of summary.problems) io.stderr(`redeliver: ${problem}\n`);
  return summary.failed > 0 || summary.problems.length > 0 ? EXIT.failed : EXIT.ok;
}

const VERBS: Record<RedeliveryEntry['outcome'], string> = {
  redelivered: 'redelivered',
  'would-redeliver': 'would redeliver',
  failed: 'not redelivered',
  left: 'left',
  capped: 'at the cap',
};

function entryLine(entry: RedeliveryEntry): string {
  const event = entry.action ? `${entry.event}.${entry.action}` : entry.event;
  const last = `${entry.lastStatusCode || 'no answer'}${entry.lastStatus ? ` ${entry.lastStatus}` : ''}`;
  const which = entry.outcome === 'capped' ? `${entry.attempt} redeliveries already` : `redelivery ${entry.attempt} of ${entry.maxAttempts}`;
  const reason = entry.reason ? `: ${entry.reason}` : '';
  return `${VERBS[entry.outcome]} ${entry.guid} ${event}, first delivered ${entry.firstDeliveredAt}, last answer ${last} (${entry.hook}, ${which})${reason}`;
}
