import type { GithubCredentials } from '../core/reporting/github-credentials.ts';
import type { CredentialsSource } from './github-credentials-source.ts';
import type { GithubApi } from './github-api.ts';

export type ReportingAccess = { on: true; api: GithubApi } | { on: false; reason: string };

export interface GithubReportingOptions {
  readCredentials: CredentialsSource;
  apiUrl: string | undefined;
  warn?: (message: string) => void;
  /** Tests shorten GitHub's waits. */
  maxWaitMs?: number;
  timeoutMs?: number;
}

/**
 * The GitHub API with the credentials of the moment. The octokit libraries are imported on the first call, so a
 * container that never reports never loads them; the client is kept (its token cache with it) until the
 * credentials change.
 */
export function createGithubReporting(options: GithubReportingOptions): () => Promise<ReportingAccess> {
  let current: { key: string; api: GithubApi } | undefined;
  return async () => {
    const parsed = await options.readCredentials();
    if (parsed.ok === 'empty') return { on: false, reason: 'the GitHub credentials are not filled in yet: nothing is reported' };
    if (parsed.ok === false) return { on: false, reason: parsed.reason };
    const key = identityOf(parsed.credentials);
    if (current?.key !== key) {
      const { createGithubApi } = await import('./github-api.ts');
      current = { key, api: createGithubApi({ credentials: parsed.credentials, baseUrl: options.apiUrl, warn: options.warn, maxWaitMs: options.maxWaitMs, timeoutMs: options.timeoutMs }) };
    }
    return { on: true, api: current.api };
  };
}

function identityOf(credentials: GithubCredentials): string {
  return credentials.mode === 'token' ? `token:${credentials.token}` : `app:${credentials.appId}:${credentials.privateKey}`;
}
