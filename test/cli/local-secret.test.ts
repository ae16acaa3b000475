import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLocalSecret, readLocalSecret } from '../../functions/cli/local-secret.ts';

function scratch(): { root: string; done: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'tekton-bridge-secret-'));
  return { root, done: () => rmSync(root, { recursive: true, force: true }) };
}

describe("serve's kept secret", () => {
  it('is written 0600 in a 0700 folder, whatever modes were there before', () => {
    const { root, done } = scratch();
    try {
      // Prepare: a folder and a secret file left readable by everyone.
      const dir = join(root, '.tekton-bridge');
      mkdirSync(dir, { mode: 0o755 });
      chmodSync(dir, 0o755);
      writeFileSync(join(dir, 'webhook-secret'), 'old\n', { mode: 0o644 });
      // Act
      const secret = makeLocalSecret(join(dir, 'webhook-secret'));
      // Assess
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dir, 'webhook-secret')).mode & 0o777, 0o600);
      assert.equal(readLocalSecret(join(dir, 'webhook-secret')), secret);
      assert.deepEqual(readdirSync(dir), ['webhook-secret'], 'no temp file left behind');
    } finally {
      done();
    }
  });

  it('never writes through a symlink planted where the file goes', () => {
    const { root, done } = scratch();
    try {
      // Prepare: the secret's path is a symlink to a file the attacker wants overwritten (or read later).
      const dir = join(root, '.tekton-bridge');
      mkdirSync(dir);
      const victim = join(root, 'victim');
      writeFileSync(victim, 'precious\n', { mode: 0o644 });
      symlinkSync(victim, join(dir, 'webhook-secret'));
      // Act
      const secret = makeLocalSecret(join(dir, 'webhook-secret'));
      // Assess
      assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
      assert.ok(lstatSync(join(dir, 'webhook-secret')).isFile(), 'the symlink was replaced by a file');
      assert.equal(readLocalSecret(join(dir, 'webhook-secret')), secret);
    } finally {
      done();
    }
  });

  it('refuses a folder that is a symlink', () => {
    const { root, done } = scratch();
    try {
      mkdirSync(join(root, 'elsewhere'));
      symlinkSync(join(root, 'elsewhere'), join(root, '.tekton-bridge'));
      assert.throws(() => makeLocalSecret(join(root, '.tekton-bridge', 'webhook-secret')), /\.tekton-bridge is not a folder \(a symlink\?\): refusing to keep the webhook secret there/);
      assert.deepEqual(readdirSync(join(root, 'elsewhere')), []);
    } finally {
      done();
    }
  });
});
