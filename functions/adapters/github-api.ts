import type { GithubCredentials } from '../core/reporting/github-credentials.ts';
import { messageOf } from './error-message.ts';
import { githubClientLibraries } from './github-client-libraries.ts';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';
const DEFAULT_TIMEOUT_MS = 5000;
/** A rate limit that lifts within this is waited out; a longer one is left to the next reconciliation. */
const DEFAULT_MAX_WAIT_MS = 2000;
const SERVER_ERROR_ATTEMPTS = 3;
/** An installation token is taken as expired this long before GitHub's `expires_at`. */
const TOKEN_MARGIN_MS = 5 * 60_000;
const MAX_REASON = 300;

/** Who a call acts as: App mode picks the installation token (or the App's JWT for `/app/…` routes). */
export interface CallAs {
  installationId?: string;
  /** App mode without an installation id: it is looked up (`GET /repos/{owner}/{repo}/installation`) and kept. */
  repository?: { owner: string; repo: string };
}

export type GithubAnswer =
  | { ok: true; status: number; data: unknown; headers: Record<string, string | undefined> }
  | {
      ok: false;
      status: number | undefined;
      reason: string;
      /** May pass: 5xx, timeouts, connection errors, rate limits, bad credentials. Otherwise GitHub will not take this call. */
      retryable: boolean;
      rateLimited: boolean;
    };

export interface GithubApi {
  mode: GithubCredentials['mode'];
  /** One REST call, e.g. `request('POST /repos/{owner}/{repo}/statuses/{sha}', { owner, repo, sha, state })`. */
  request: (route: string, params: Record<string, unknown>, as?: CallAs, signal?: AbortSignal) => Promise<GithubAnswer>;
}

export interface GithubApiOptions {
  credentials: GithubCredentials;
  baseUrl?: string;
  timeoutMs?: number;
  maxWaitMs?: number;
  /** Epoch milliseconds; the token cache and the rate-limit pause read it. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  warn?: (message: string) => void;
}

interface TokenCache {
  /** '' for a miss: auth-app's type wants a string. */
  get: (key: string) => string;
  set: (key: string, value: string) => void;
}

/**
 * GitHub's REST API with the bridge's credentials, over @octokit/request, and @octokit/auth-app for the App's RS256
 * JWT and its installation tokens (cached until shortly before they expire). Answers are values, never exceptions:
 * a 429, or a 403 with `x-ratelimit-remaining: 0` or `retry-after`, is waited out when it lifts within `maxWaitMs`
 * and otherwise pauses every call until it lifts; a 5xx or a dropped connection is tried again, twice.
 */
export function createGithubApi(options: GithubApiOptions): GithubApi {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const baseUrl = (options.baseUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, '');
  const { request: octokitRequest, createAppAuth } = githubClientLibraries();
  const request = octokitRequest.defaults({
    baseUrl,
    headers: { 'user-agent': 'tekton-bridge', 'x-github-api-version': '2022-11-28' },
  });
  const { credentials } = options;
  const appAuth =
    credentials.mode === 'app'
      ? createAppAuth({
          appId: credentials.appId,
          privateKey: credentials.privateKey,
          request,
          cache: expiringTokenCache(now),
          log: { warn: options.warn ?? (() => undefined), debug: () => undefined, info: () => undefined, error: options.warn ?? (() => undefined) },
        })
      : undefined;
  const installations = new Map<string, string>();
  let pausedUntil = 0;

  const authorization = async (route: string, as: CallAs | undefined, refresh: boolean, signal: AbortSignal | undefined): Promise<string | GithubAnswer> => {
    if (credentials.mode === 'token') return `token ${credentials.token}`;
    const auth = appAuth as NonNullable<typeof appAuth>;
    if (/^[A-Z]+ \/app(\/|$)/.test(route)) return `bearer ${(await auth({ type: 'app' })).token}`;
    let installationId = as?.installationId;
    if (installationId === undefined && as?.repository) {
      const key = `${as.repository.owner}/${as.repository.repo}`.toLowerCase();
      installationId = installations.get(key);
      if (installationId === undefined) {
        const jwt = (await auth({ type: 'app' })).token;
        const found = await send('GET /repos/{owner}/{repo}/installation', { ...as.repository }, `bearer ${jwt}`, signal);
        if (!found.ok) return { ...found, reason: `the App's installation on ${key} could not be found: ${found.reason}` };
        installationId = String((found.data as { id?: unknown }).id);
        installations.set(key, installationId);
      }
    }
    if (installationId === undefined) throw new TypeError('[tekton-bridge] an App call needs an installation id or a repository');
    const token = await auth({ type: 'installation', installationId: Number(installationId), refresh });
    return `token ${token.token}`;
  };

  /** One HTTP exchange, with the waits and retries above. */
  const send = async (route: string, params: Record<string, unknown>, auth: string, signal: AbortSignal | undefined): Promise<GithubAnswer> => {
    for (let attempt = 1; ; attempt += 1) {
      const paused = pausedUntil - now();
      if (paused > 0) {
        if (paused > maxWaitMs || signal?.aborted) {
          return { ok: false, status: undefined, retryable: true, rateLimited: true, reason: `GitHub's rate limit pauses the bridge's calls for ${Math.ceil(paused / 1000)} s more` };
        }
        await sleep(paused);
      }
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        const response = await request(route, {
          ...params,
          headers: { authorization: auth },
          request: { signal: signal ? AbortSignal.any([signal, timeout]) : timeout },
        });
        return { ok: true, status: response.status, data: response.data, headers: response.headers as Record<string, string | undefined> };
      } catch (error) {
        const failure = failureOf(error, route, now(), timeout.aborted, timeoutMs);
        if (failure.waitMs !== undefined) {
          pausedUntil = Math.max(pausedUntil, now() + failure.waitMs);
          if (failure.waitMs <= maxWaitMs && attempt === 1 && !signal?.aborted) continue;
          return failure.answer;
        }
        if (failure.answer.retryable && attempt < SERVER_ERROR_ATTEMPTS && !signal?.aborted) {
          await sleep(100 * 2 ** (attempt - 1) * (1 + Math.random()));
          continue;
        }
        return failure.answer;
      }
    }
  };

  return {
    mode: credentials.mode,
    async request(route, params, as, signal) {
      for (const refresh of [false, true]) {
        let auth: string | GithubAnswer;
        try {
          auth = await authorization(route, as, refresh, signal);
        } catch (error) {
          if (error instanceof TypeError && error.message.startsWith('[tekton-bridge]')) throw error;
          const failure = failureOf(error, 'the installation token', now(), false, timeoutMs);
          if (failure.waitMs !== undefined) pausedUntil = Math.max(pausedUntil, now() + failure.waitMs);
          return { ...failure.answer, reason: `GitHub gave no installation token: ${failure.answer.reason}` };
        }
        if (typeof auth !== 'string') return auth;
        const answer = await send(route, params, auth, signal);
        // An installation token revoked or expired early: one fresh token, once.
        if (!answer.ok && answer.status === 401 && credentials.mode === 'app' && !refresh && !route.includes(' /app')) continue;
        return answer;
      }
      throw new Error('unreachable');
    },
  };
}

interface Failure {
  answer: GithubAnswer & { ok: false };
  /** Set for a rate limit: how long until it lifts. */
  waitMs?: number;
}

function failureOf(error: unknown, route: string, nowMs: number, timedOut: boolean, timeoutMs: number): Failure {
  const { status, response } = (error ?? {}) as { status?: number; response?: { headers?: Record<string, string | undefined>; data?: unknown } };
  const what = route.replace(/^([A-Z]+) /, '$1 ');
  if (response === undefined) {
    const reason = timedOut ? `GitHub did not answer ${what} within ${timeoutMs} ms` : `GitHub could not be reached for ${what}: ${messageOf((error as { cause?: unknown })?.cause ?? error)}`;
    return { answer: { ok: false, status: undefined, retryable: true, rateLimited: false, reason: clip(reason) } };
  }
  const headers = response.headers ?? {};
  const said = clip(messageOfBody(response.data) ?? `HTTP ${status}`);
  const retryAfter = Number(headers['retry-after']);
  const resetAt = Number(headers['x-ratelimit-reset']) * 1000;
  const primary = status === 403 && headers['x-ratelimit-remaining'] === '0';
  const secondary = (status === 403 && (Number.isFinite(retryAfter) || /secondary rate limit/i.test(said))) || status === 429;
  if (primary || secondary) {
    const waitMs = Number.isFinite(retryAfter) && headers['retry-after'] !== undefined
      ? retryAfter * 1000
      : Number.isFinite(resetAt) && resetAt > 0 ? Math.max(0, resetAt - nowMs) : 60_000;
    const kind = primary ? 'rate limit' : 'secondary rate limit';
    return { waitMs, answer: { ok: false, status, retryable: true, rateLimited: true, reason: `GitHub's ${kind} (${status}) holds ${what} for ${Math.ceil(waitMs / 1000)} s: ${said}` } };
  }
  // 401: the credentials are wrong or revoked, which a person fixes in the secret; the reports wait for them.
  const retryable = status === undefined || status >= 500 || status === 401;
  return { answer: { ok: false, status, retryable, rateLimited: false, reason: `GitHub answered ${status} to ${what}: ${said}` } };
}

function messageOfBody(data: unknown): string | undefined {
  if (data === null || typeof data !== 'object') return typeof data === 'string' && data !== '' ? data : undefined;
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  const details = Array.isArray(errors)
    ? errors.map((e) => (typeof e === 'string' ? e : typeof (e as { message?: unknown })?.message === 'string' ? (e as { message: string }).message : JSON.stringify(e))).join('; ')
    : '';
  return [typeof message === 'string' ? message : undefined, details || undefined].filter(Boolean).join(': ') || undefined;
}

/** auth-app's cache, keyed as it keys it; an entry is dropped once its token is about to expire. */
function expiringTokenCache(now: () => number): TokenCache {
  const entries = new Map<string, string>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value === undefined) return '';
      // auth-app stores "token|createdAt|expiresAt|…".
      const expiresAt = Date.parse(value.split('|')[2] ?? '');
      if (Number.isNaN(expiresAt) || now() >= expiresAt - TOKEN_MARGIN_MS) {
        entries.delete(key);
        return '';
      }
      return value;
    },
    set(key, value) {
      entries.set(key, value);
    },
  };
}

function clip(text: string): string {
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
}
