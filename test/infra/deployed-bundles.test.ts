import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildFunctions } from '../../infra/build-functions.ts';
import { projectRoot } from '../../infra/function-bundling.ts';
import { synthesizeApp } from '../support/synthesized-app.ts';

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUPlaceholder\n-----END CERTIFICATE-----\n').toString('base64');

describe('what npm run build makes is what cdk synth deploys', { timeout: 300_000 }, () => {
  // Both output folders two levels below one folder, so the source maps' relative paths are the same too.
  mkdirSync(path.join(projectRoot, '.bundles'), { recursive: true });
  const work = mkdtempSync(path.join(projectRoot, '.bundles', 'deployed-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('every function: the same files, byte for byte, in dist/<function>/ and in its CDK asset', async () => {
    // Act
    const [built, app] = await Promise.all([
      buildFunctions({ outRoot: path.join(work, 'dist') }),
      synthesizeApp({ outdir: path.join(work, 'cdk.out'), context: { clusterName: 'demo', clusterEndpoint: 'https://k8s.example', clusterCa: CA } }),
    ]);

    // Assess
    assert.deepEqual(built.map((fn) => fn.name).sort(), Object.keys(app.functions).sort(), 'the same functions');
    for (const fn of built) {
      const deployed = app.functions[fn.name]!;
      const shipped = readdirSync(deployed.assetDir).sort();
      assert.deepEqual(shipped, readdirSync(fn.outdir).filter((file) => file !== 'meta.json').sort(), `${fn.name}: the same files`);
      assert.ok(shipped.includes('index.mjs'), `${fn.name}: the bundle is index.mjs`);
      for (const file of shipped) {
        assert.ok(readFileSync(path.join(deployed.assetDir, file)).equals(readFileSync(path.join(fn.outdir, file))), `${fn.name}/${file}: the same bytes`);
      }
      assert.equal(deployed.handler, 'index.handler', fn.name);
    }
  });
});
