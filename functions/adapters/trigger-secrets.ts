import { readFileSync } from 'node:fs';
import { TriggerSecretError, type TriggerSecretStore } from '../core/cel/evaluation-scope.ts';
import { messageOf } from './error-message.ts';
import type { SecretValueReader } from './secrets-manager-call.ts';

/**
 * The secrets Tekton's CEL `compareSecret(key, name)` reads from Kubernetes Secrets, kept by the bridge as one JSON
 * document `{"<secretName>": {"<secretKey>": "value"}}`: a Secrets Manager secret in AWS, a file locally. Errors name
 * the document, a secret and a key, never a value.
 */
export function parseTriggerSecrets(text: string, source: string): TriggerSecretStore {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new TriggerSecretError(`${source} is not JSON: expected {"<secretName>": {"<secretKey>": "value"}}`);
  }
  if (!isRecord(document)) throw new TriggerSecretError(`${source} must be a JSON object of secrets: {"<secretName>": {"<secretKey>": "value"}}`);
  const secrets = new Map<string, Map<string, string>>();
  for (const [name, keys] of Object.entries(document)) {
    if (!isRecord(keys)) throw new TriggerSecretError(`${source}: secret "${name}" must be an object of keys, {"<secretKey>": "value"}`);
    const values = new Map<string, string>();
    for (const [key, value] of Object.entries(keys)) {
      if (typeof value !== 'string') throw new TriggerSecretError(`${source}: key "${key}" of secret "${name}" must be a string`);
      values.set(key, value);
    }
    secrets.set(name, values);
  }
  return (secretName, secretKey) => secrets.get(secretName)?.get(secretKey);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** `serve --trigger-secrets FILE` and `render --trigger-secrets FILE`. */
export function readTriggerSecretsFile(file: string): TriggerSecretStore {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new TriggerSecretError(`cannot read the trigger secrets file ${file}: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`);
  }
  return parseTriggerSecrets(text, `the trigger secrets file ${file}`);
}

const DEFAULT_TTL_MS = 5 * 60_000;
const DEFAULT_MAX_STALE_MS = 60 * 60_000;

/**
 * The trigger secrets from Secrets Manager (AWSCURRENT), cached like the webhook secret: re-read after `ttlMs`, and a
 * copy younger than `maxStaleMs` still served while Secrets Manager cannot be read.
 */
export function createTriggerSecretsSource(options: {
  client: SecretValueReader;
  secretId: string;
  ttlMs?: number;
  maxStaleMs?: number;
  now?: () => number;
}): () => Promise<TriggerSecretStore> {
  const { client, secretId, ttlMs = DEFAULT_TTL_MS, maxStaleMs = DEFAULT_MAX_STALE_MS, now = Date.now } = options;
  let cached: { store: TriggerSecretStore; readAt: number } | undefined;
  let pending: Promise<TriggerSecretStore> | undefined;
  const refresh = async (): Promise<TriggerSecretStore> => {
    try {
      const answer = await client.getSecretValue({ SecretId: secretId, VersionStage: 'AWSCURRENT' });
      if (answer.SecretString === undefined) throw new TriggerSecretError(`the trigger secrets ${secretId} have no SecretString; store them as JSON text`);
      const store = parseTriggerSecrets(answer.SecretString, `the trigger secrets ${secretId}`);
      cached = { store, readAt: now() };
      return store;
    } catch (error) {
      if (cached && now() - cached.readAt < maxStaleMs) return cached.store;
      if (error instanceof TriggerSecretError) throw error;
      throw new TriggerSecretError(`could not read the trigger secrets ${secretId} from Secrets Manager: ${messageOf(error)}`, { cause: error });
    }
  };
  return async () => {
    if (cached && now() - cached.readAt < ttlMs) return cached.store;
    pending ??= refresh().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/** When the store cannot be read, only the triggers that call compareSecret fail, each saying why. */
export function unavailableTriggerSecrets(reason: string): TriggerSecretStore {
  return () => {
    throw new TriggerSecretError(reason);
  };
}
