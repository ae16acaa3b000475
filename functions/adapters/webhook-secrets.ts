import { WebhookSecretUnavailableError } from './adapter-errors.ts';
import type { SecretValue, SecretValueReader } from './secrets-manager-call.ts';
import { messageOf } from './error-message.ts';

const DEFAULT_TTL_MS = 5 * 60_000;
const DEFAULT_MAX_STALE_MS = 60 * 60_000;
const DEFAULT_GRACE_MS = 24 * 60 * 60_000;

export interface WebhookSecretSource {
  /** AWSCURRENT. Throws WebhookSecretUnavailableError when it cannot be read (and no cached value may serve). */
  current: () => Promise<string[]>;
  /**
   * AWSPREVIOUS, while the current version is younger than the grace period; otherwise none. Read only when asked —
   * when the current secret did not verify a delivery — and never throws: without it, the delivery is a 401.
   */
  previous: () => Promise<string[]>;
}

interface Cached<T> {
  value: T;
  readAt: number;
}

/**
 * The webhook secrets to check a delivery's signature against. AWSCURRENT is what GitHub signs with; after a rotation
 * GitHub may still sign with the old one until a person updates the hook, so AWSPREVIOUS is accepted too — but only for
 * `graceMs` after the current version was created (GetSecretValue's CreatedDate), so a rotation revokes the old secret
 * by itself. Each is cached for `ttlMs`, so a rotation takes effect within minutes; when Secrets Manager cannot be read, a
 * cached value younger than `maxStaleMs` is still served, because refusing every delivery is worse than checking
 * against a secret a few minutes old. The secret string is used as it is (the raw webhook secret).
 */
export function createWebhookSecretSource(options: {
  client: SecretValueReader;
  secretId: string;
  ttlMs?: number;
  maxStaleMs?: number;
  graceMs?: number;
  now?: () => number;
}): WebhookSecretSource {
  const { client, secretId, ttlMs = DEFAULT_TTL_MS, maxStaleMs = DEFAULT_MAX_STALE_MS, graceMs = DEFAULT_GRACE_MS, now = Date.now } = options;

  const readStage = async (stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<SecretValue | undefined> => {
    try {
      const answer = await client.getSecretValue({ SecretId: secretId, VersionStage: stage });
      if (answer.SecretString === undefined) {
        throw new WebhookSecretUnavailableError(`secret ${secretId} (${stage}) has no SecretString; store the webhook secret as text`);
      }
      return answer;
    } catch (error) {
      // Outside a rotation (or once it was revoked) there is no AWSPREVIOUS version: ResourceNotFound says so.
      if (stage === 'AWSPREVIOUS' && (error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  };

  const current = cachedRead<{ secret: string; createdAtMs: number | undefined }>(ttlMs, maxStaleMs, now, async () => {
    try {
      const answer = (await readStage('AWSCURRENT')) as SecretValue;
      if (!answer.SecretString?.trim()) throw new WebhookSecretUnavailableError(`secret ${secretId} (AWSCURRENT) is empty or whitespace: it would verify anyone's signature`);
      return { secret: answer.SecretString, createdAtMs: answer.CreatedDate === undefined ? undefined : answer.CreatedDate * 1000 };
    } catch (error) {
      if (error instanceof WebhookSecretUnavailableError) throw error;
      throw new WebhookSecretUnavailableError(`could not read the webhook secret ${secretId} from Secrets Manager: ${messageOf(error)}`, { cause: error });
    }
  });
  const previous = cachedRead<string | undefined>(ttlMs, maxStaleMs, now, async () => (await readStage('AWSPREVIOUS'))?.SecretString);

  return {
    current: async () => [(await current()).secret],
    previous: async () => {
      try {
        const { secret, createdAtMs } = await current();
        // Without a creation time the grace period cannot be told: the previous secret is not accepted.
        if (createdAtMs === undefined || now() - createdAtMs > graceMs) return [];
        const old = await previous();
        return old !== undefined && old.trim() !== '' && old !== secret ? [old] : [];
      } catch {
        return [];
      }
    },
  };
}

/** One value read at most once per `ttlMs` (concurrent callers share the read), served stale up to `maxStaleMs`. */
function cachedRead<T>(ttlMs: number, maxStaleMs: number, now: () => number, read: () => Promise<T>): () => Promise<T> {
  let cached: Cached<T> | undefined;
  let pending: Promise<T> | undefined;
  const refresh = async (): Promise<T> => {
    try {
      const value = await read();
      cached = { value, readAt: now() };
      return value;
    } catch (error) {
      if (cached && now() - cached.readAt < maxStaleMs) return cached.value;
      throw error;
    }
  };
  return async () => {
    if (cached && now() - cached.readAt < ttlMs) return cached.value;
    pending ??= refresh().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
