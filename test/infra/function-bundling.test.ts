import assert from 'node:assert/strict';
import { compileTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { build } from 'esbuild';
import { buildFunctions } from '../../infra/build-functions.ts';
import { builtinModules } from 'node:module';
import { lambdaFunctions } from '../../infra/build-functions.ts';
import { createRequireBanner, functionBundling, nodeBuiltinAliases, projectRoot, toEsbuildOptions, toNodejsBundling } from '../../infra/function-bundling.ts';
import { buildStack, fixtureHandler, invalidTriggersFixture, validTriggersFixture, webhookFunctionResource } from './stack-fixture.ts';

describe('shared esbuild settings', () => {
  it('are the same for the CDK construct and for npm run build', () => {
    const cdk = toNodejsBundling('/tmp/triggers');
    const api = toEsbuildOptions('/x/webhook.ts', '/out');
    assert.equal(cdk.target, api.target);
    assert.equal(cdk.format, api.format);
    assert.equal(cdk.minify, api.minify);
    assert.equal(cdk.sourceMap, api.sourcemap);
    assert.equal(cdk.sourcesContent, api.sourcesContent);
    assert.equal(cdk.keepNames, api.keepNames);
    assert.deepEqual(cdk.mainFields, api.mainFields);
    assert.deepEqual(cdk.externalModules, api.external);
    assert.equal(cdk.banner, api.banner?.js);
    assert.deepEqual(cdk.esbuildArgs?.['--alias'], Object.entries(api.alias ?? {}).map(([from, to]) => `${from}=${to}`));
    assert.equal(api.outfile, '/out/index.mjs');
    assert.deepEqual(
      { target: functionBundling.target, format: functionBundling.format, platform: functionBundling.platform },
      { target: 'node22', format: 'esm', platform: 'node' },
    );
    assert.equal(createRequireBanner, "const require = process.getBuiltinModule('module').createRequire(import.meta.url);");
    assert.deepEqual(cdk.commandHooks?.afterBundling('/in', '/asset'), [
      `'${process.execPath}' '${path.join(projectRoot, 'infra', 'compile-triggers.ts')}' '/tmp/triggers' '/asset/triggers.json'`,
    ]);
  });
});

describe('Node built-ins in the bundles', () => {
  it('each shim hands over the built-in it is named for', () => {
    for (const [name, shim] of Object.entries(nodeBuiltinAliases)) {
      const source = readFileSync(path.join(projectRoot, shim), 'utf8');
      assert.equal(source.trim(), `module.exports = process.getBuiltinModule('node:${name.replace(/^node:/, '')}');`, shim);
    }
  });

  it('no function imports a built-in as an ES module: each one goes through its shim', async () => {
    const names = builtinModules.filter((name) => !name.startsWith('_')).join('|').replaceAll('/', '\\/');
    const esImport = new RegExp(`(?:\\bfrom\\s*|\\bimport\\s*\\(?\\s*)"((?:node:)?(?:${names}))"`, 'g');
    for (const { name } of lambdaFunctions) {
      const entry = path.join(projectRoot, 'functions', `${name}.ts`);
      if (!existsSync(entry)) continue;
      const result = await build({ ...toEsbuildOptions(entry, '/unused'), write: false });
      const bundle = result.outputFiles.find((f) => f.path.endsWith('.mjs'))?.text ?? '';
      const imported = [...new Set([...bundle.matchAll(esImport)].map((m) => m[1]))];
      assert.deepEqual(imported, [], `${name}: add infra/node-builtins/<name>.cjs (fs-promises.cjs for fs/promises) for ${imported.join(', ')}`);
    }
  });
});

describe('bundling for real', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tekton-bridge-bundle-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the construct bundles the handler and compiles the triggers next to it, byte for byte what esbuild’s API builds', async () => {
    // Act
    const { template } = buildStack({ triggersDir: validTriggersFixture }, { bundle: true, outdir: path.join(dir, 'cdk.out') });
    await build({ ...toEsbuildOptions(fixtureHandler, path.join(dir, 'api')) });
    // Assess
    // One bundle (the webhook and retry functions share the fixture handler); the other asset is CDK's prebuilt
    // AwsCustomResource handler for the deploy-time cluster lookup, which is not bundled.
    const assets = readdirSync(path.join(dir, 'cdk.out')).filter((name) => name.startsWith('asset.') && existsSync(path.join(dir, 'cdk.out', name, 'index.mjs')));
    assert.equal(assets.length, 1);
    const asset = path.join(dir, 'cdk.out', assets[0]!);
    assert.deepEqual(readdirSync(asset).sort(), ['github-client.cjs', 'index.mjs', 'index.mjs.map', 'triggers.json']);
    assert.equal(readFileSync(path.join(asset, 'triggers.json'), 'utf8'), compileTriggersDirectory(validTriggersFixture));
    const bundle = readFileSync(path.join(asset, 'index.mjs'), 'utf8');
    assert.ok(bundle.startsWith(createRequireBanner), 'createRequire banner first');
    assert.match(bundle, /\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    assert.equal(bundle, readFileSync(path.join(dir, 'api', 'index.mjs'), 'utf8'));
    const code = webhookFunctionResource(template).resource.Properties.Code;
    assert.match(JSON.stringify(code), new RegExp(assets[0]!.slice('asset.'.length)));
  });

  it('npm run build writes dist/webhook/index.mjs, its metafile and triggers.json, and the bundle loads', async () => {
    // Act
    const built = await buildFunctions({ outRoot: path.join(dir, 'dist') });
    // Assess
    const webhook = built.find((fn) => fn.name === 'webhook');
    assert.ok(webhook, 'webhook built');
    assert.equal(built.some((fn) => fn.name === 'retry'), existsSync(path.join(projectRoot, 'functions', 'retry.ts')));
    const out = path.join(dir, 'dist', 'webhook');
    assert.deepEqual(readdirSync(out).sort(), ['github-client.cjs', 'index.mjs', 'index.mjs.map', 'meta.json', 'triggers.json']);
    // The GitHub client is parsed only by a container that reports: it lives in its own chunk, not in the bundle.
    assert.doesNotMatch(readFileSync(path.join(out, 'index.mjs'), 'utf8'), /octokit-request\.js/);
    assert.match(readFileSync(path.join(out, 'github-client.cjs'), 'utf8'), /octokit-request\.js/);
    assert.equal(readFileSync(path.join(out, 'triggers.json'), 'utf8'), compileTriggersDirectory(path.join(projectRoot, 'triggers')));
    const meta = JSON.parse(readFileSync(path.join(out, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
    assert.ok(Object.keys(meta.inputs).some((input) => input.endsWith('functions/webhook.ts')));
    assert.ok(webhook.bundleBytes > 10_000 && webhook.bundleBytes < 5 * 1024 * 1024, `bundle size ${webhook.bundleBytes}`);
    assert.ok(webhook.largestInputs.length > 0);
    // The bundle is a self-contained ES module exporting `handler` (loaded as Lambda would, with its environment).
    const load = spawnSync(
      process.execPath,
      ['--enable-source-maps', '--input-type=module', '-e', `const m = await import(${JSON.stringify(path.join(out, 'index.mjs'))}); process.stdout.write(typeof m.handler);`],
      {
        cwd: tmpdir(),
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          PATH: process.env.PATH,
          AWS_REGION: 'us-east-1',
          CLUSTER_NAME: 'demo',
          WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:github-webhook-AbCdEf',
          POWERTOOLS_SERVICE_NAME: 'tekton-bridge',
          POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
        },
      },
    );
    assert.equal(load.stdout, 'function', load.stderr);
  });

  it('npm run build refuses an invalid trigger configuration before bundling anything', async () => {
    const outRoot = path.join(dir, 'dist-invalid');
    await assert.rejects(buildFunctions({ outRoot, triggersDir: invalidTriggersFixture }), {
      name: 'ConfigError',
      message: /github-push\.yaml: EventListener\/github-push: spec\.triggers\[0\]\.template\.ref/,
    });
    assert.equal(existsSync(outRoot), false);
  });
});
