import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { optionalTools, skipWithout } from './command-on-path.ts';

describe('skipWithout', () => {
  let path: string | undefined;
  beforeEach(() => {
    path = process.env.PATH;
    process.env.PATH = '/nonexistent-tekton-bridge-bin';
  });
  afterEach(() => {
    process.env.PATH = path;
  });

  it('gives one line naming the missing tool and how to install it', () => {
    for (const tool of Object.keys(optionalTools) as Array<keyof typeof optionalTools>) {
      const message = skipWithout(tool, {});
      assert.equal(message, `${tool} is not on PATH; to run these tests: ${optionalTools[tool]}`);
      assert.doesNotMatch(String(message), /\n/);
    }
  });

  it('fails instead under CI=true, where every test must run', () => {
    assert.throws(() => skipWithout('moto_server', { CI: 'true' }), /moto_server is not on PATH; to run these tests: pip install "moto\[server\]" \(CI=true/);
  });

  it('lets the test run when an executable of that name is on PATH', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-bin-'));
    try {
      writeFileSync(join(dir, 'cfn-lint'), '#!/bin/sh\n', { mode: 0o755 });
      process.env.PATH = dir;
      assert.equal(skipWithout('cfn-lint', { CI: 'true' }), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
