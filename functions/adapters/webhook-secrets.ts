import { WebhookSecretUnavailableError } from './adapter-errors.ts';
import type { SecretValueReader } from './secrets-manager-call.ts';
import { messageOf } from './error-message.ts';

const DEFAULT_TTL_MS = 5 * 60_000;
const DEFAULT_MAX_STALE_MS = 60 * 60_000;

/**
 * The webhook secrets to check a delivery's signature against: AWSCURRENT first, then AWSPREVIOUS while a rotation
 * is under way (GitHub may still sign with the old one). Cached for `ttlMs`, so a rotation takes effect within
 * minutes; when Secrets Manager cannot be read, a cached value younger than `maxStaleMs` is still served, because
 * refusing every delivery is worse than checking against a secret a few minutes old.
 * The secret string is used as it is (the raw webhook secret).
 */
export function createWebhookSecretSource(options: {
  client: SecretValueReader;
  secretId: string;
  ttlMs?: number;
  maxStaleMs?: number;
  now?: () => number;
}): () => Promise<string[]> {
  const { client, secretId, ttlMs = DEFAULT_TTL_MS, maxStaleMs = DEFAULT_MAX_STALE_MS, now = Date.now } = options;
  let cached: { secrets: string[]; readAt: number } | undefined;
  let pending: Promise<string[]> | undefined;

  const readStage = async (stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<string | undefined> => {
    try {
      const answer = await client.getSecretValue({ SecretId: secretId, VersionStage: stage });
      if (answer.SecretString === undefined) {
        throw new WebhookSecretUnavailableError(`secret ${secretId} (${stage}) has no SecretString; store the webhook secret as text`);
      }
      return answer.SecretString;
    } catch (error) {
      // Outside a rotation there is no AWSPREVIOUS version, and Secrets Manager says so with ResourceNotFound.
      if (stage === 'AWSPREVIOUS' && (error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  };

  const refresh = async (): Promise<string[]> => {
    try {
      const [current, previous] = await Promise.all([readStage('AWSCURRENT'), readStage('AWSPREVIOUS')]);
      if (!current) throw new WebhookSecretUnavailableError(`secret ${secretId} (AWSCURRENT) is empty`);
      const secrets = previous && previous !== current ? [current, previous] : [current];
      cached = { secrets, readAt: now() };
      return secrets;
    } catch (error) {
      if (cached && now() - cached.readAt < maxStaleMs) return cached.secrets;
      if (error instanceof WebhookSecretUnavailableError) throw error;
      throw new WebhookSecretUnavailableError(
        `could not read the webhook secret ${secretId} from Secrets Manager: ${messageOf(error)}`,
        { cause: error },
      );
    }
  };

  return async () => {
    if (cached && now() - cached.readAt < ttlMs) return cached.secrets;
    pending ??= refresh().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
