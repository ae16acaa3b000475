import { readFileSync } from 'node:fs';
import { parseGithubCredentials, type ParsedCredentials } from '../core/reporting/github-credentials.ts';
import { messageOf } from './error-message.ts';
import type { SecretValueReader } from './secrets-manager-call.ts';

const DEFAULT_TTL_MS = 5 * 60_000;

export type CredentialsSource = () => Promise<ParsedCredentials>;

/**
 * The GitHub credentials from their Secrets Manager secret, read again every `ttlMs` so a new token or key takes
 * effect within minutes. A read that fails serves the last good value; with none, it says why (never the value).
 */
export function credentialsFromSecretsManager(options: { client: SecretValueReader; secretId: string; ttlMs?: number; now?: () => number }): CredentialsSource {
  const { client, secretId, ttlMs = DEFAULT_TTL_MS, now = Date.now } = options;
  let cached: { parsed: ParsedCredentials; readAt: number } | undefined;
  let pending: Promise<ParsedCredentials> | undefined;
  const refresh = async (): Promise<ParsedCredentials> => {
    try {
      const answer = await client.getSecretValue({ SecretId: secretId });
      const parsed = parseGithubCredentials(answer.SecretString);
      cached = { parsed, readAt: now() };
      return parsed;
    } catch (error) {
      if (cached?.parsed.ok === true) return cached.parsed;
      return { ok: false, reason: `the GitHub credentials secret ${secretId} could not be read: ${messageOf(error)}` };
    }
  };
  return async () => {
    if (cached && now() - cached.readAt < ttlMs) return cached.parsed;
    pending ??= refresh().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/** `serve`: `--github-token`, or a file holding the same JSON as the secret. */
export function credentialsFromFlags(flags: { token?: string; file?: string }): CredentialsSource {
  let parsed: ParsedCredentials;
  if (flags.token) parsed = parseGithubCredentials(JSON.stringify({ token: flags.token }));
  else if (flags.file) {
    let text: string;
    try {
      text = readFileSync(flags.file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the GitHub credentials file ${flags.file}: ${messageOf(error)}`);
    }
    parsed = parseGithubCredentials(text);
    if (parsed.ok === false) throw new Error(`${flags.file}: ${parsed.reason}`);
  } else parsed = { ok: 'empty' };
  return async () => parsed;
}
