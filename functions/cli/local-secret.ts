import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from './cli-io.ts';

/** Where `serve` keeps the secret it made up on loopback, so `send` can sign with it. Git-ignored. */
export const LOCAL_SECRET_FILE = join('.tekton-bridge', 'webhook-secret');

/**
 * Makes a secret and keeps it readable by this user alone: the folder 0700 (and a real folder, not a symlink), the file
 * written 0600 to a new temp file beside it (O_EXCL: never through an existing file or symlink) and renamed over the
 * old one, which replaces a symlink there rather than writing where it points.
 */
export function makeLocalSecret(file = LOCAL_SECRET_FILE): string {
  const secret = randomBytes(24).toString('base64url');
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!lstatSync(dir).isDirectory()) throw new UsageError(`${dir} is not a folder (a symlink?): refusing to keep the webhook secret there`);
  chmodSync(dir, 0o700);
  const temp = join(dir, `.webhook-secret-${randomBytes(6).toString('hex')}`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, `${secret}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return secret;
}

export function readLocalSecret(file = LOCAL_SECRET_FILE): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
