import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where `serve` keeps the secret it made up on loopback, so `send` can sign with it. Git-ignored. */
export const LOCAL_SECRET_FILE = join('.tekton-bridge', 'webhook-secret');

export function makeLocalSecret(file = LOCAL_SECRET_FILE): string {
  const secret = randomBytes(24).toString('base64url');
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export function readLocalSecret(file = LOCAL_SECRET_FILE): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
