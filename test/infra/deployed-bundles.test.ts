import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { buildFunctions } from '../../infra/build-functions.ts';
import { projectRoot } from '../../infra/function-bundling.ts';
import { synthesizeApp } from '../support/synthesized-app.ts';

// With GitHub credentials the stack has every function there is (the reporter too).
const GITHUB_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:tekton-bridge/github-AbCdEf';
const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUPlaceholder\n-----END CERTIFICATE-----\n').toString('base64');

describe('what npm run build makes is what cdk synth deploys', { timeout: 300_000 }, () => {
  // Both output folders two levels below one folder, so the source maps' relative paths are the same too.
  mkdirSync(path.join(projectRoot, '.bundles'), { recursive: true });
  const work = mkdtempSync(path.join(projectRoot, '.bundles', 'deployed-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  it('every deployed function: the same files, byte for byte, in dist/<function>/ and in its CDK asset', async () => {
    // Act
    const [built, app] = await Promise.all([
      buildFunctions({ outRoot: path.join(work, 'dist') }),
      synthesizeApp({ outdir: path.join(work, 'cdk.out'), context: { clusterName: 'demo', clusterEndpoint: 'https://k8s.example', clusterCa: CA, githubCredentialsSecretArn: GITHUB_SECRET } }),
    ]);

    // Assess
    // Every function the app deploys is one `npm run build` makes (it may build one the app does not deploy yet).
    const deployedNames = Object.keys(app.functions).sort();
    assert.ok(deployedNames.includes('webhook') && deployedNames.includes('retry'), deployedNames.join(', '));
    for (const name of deployedNames) {
      const fn = built.find((candidate) => candidate.name === name);
      assert.ok(fn, `${name} is deployed but npm run build does not build it`);
      const deployed = app.functions[name]!;
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
