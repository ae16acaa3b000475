import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { projectRoot } from '../../infra/function-bundling.ts';

// Not a measurement (speed lives in `npm run bench`): one round of the cold pairs, so that a change to the stack's
// environment, the handler's contract or the loopback world that would break the bench breaks a test first.
describe('npm run bench, one quick round', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tekton-bridge-bench-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('synthesizes the app, delivers cold through the webhook, the floors and hello world, and reports every ratio', async () => {
    // Act
    const results = path.join(dir, 'results.json');
    await promisify(execFile)(process.execPath, ['bench/run.ts', '--cold-only'], {
      cwd: projectRoot,
      env: { ...process.env, BENCH_QUICK: '1', BENCH_RESULTS: results },
      timeout: 280_000,
      maxBuffer: 16 * 1024 * 1024,
    });

    // Assess
    const report = JSON.parse(readFileSync(results, 'utf8')) as { targets: Record<string, number>; cold: Array<{ name: string; ratio: number; rounds: number; a: { handleMs: number } }>; deployed: { nodeOptions: string | null } };
    assert.equal(Object.keys(report.targets).length, 3);
    for (const [name, ratio] of Object.entries(report.targets)) assert.ok(Number.isFinite(ratio) && ratio > 0, `${name}: ${ratio}`);
    assert.ok(report.cold.length >= 6);
    for (const pair of report.cold) {
      assert.equal(pair.rounds, 1, pair.name);
      assert.ok(pair.a.handleMs > 0, `${pair.name}: the handler ran`);
    }
  });
});
