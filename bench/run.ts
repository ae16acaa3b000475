// `npm run bench`: what a delivery costs on this machine, in one run. Prints the ratios and writes bench/results.json;
// BENCHMARKS.md quotes it. What is measured is what is deployed: the webhook function's asset as `cdk synth` makes it,
// with the environment the stack gives it, in fresh processes, against moto_server and the TLS Kubernetes API test
// server behind a delay proxy (BENCH_RTT_MS round trip, default 10 ms). Cold figures are medians of per-round paired
// ratios (bench/cold-process.ts). Nothing here is part of `npm test`.
//
//   npm run bench                        BENCH_ROUNDS (31), BENCH_DEPENDENCY_ROUNDS (15), BENCH_RTT_MS (10), BENCH_WARM_RUNS (1000)
//   npm run bench -- --against DIR       also pairs this checkout's webhook with DIR's (another checkout, node_modules in place)
//   npm run bench -- --root DIR          measures DIR's webhook instead of this checkout's (the bench stays this one)
//   npm run bench -- --cold-only         the cold pairs alone: no import costs, memory, warm or growth
//   npm run bench -- --against-only DIR  only the pairs against DIR (what one change bought)
//   BENCH_QUICK=1 npm run bench          one round, tiny counts: does it run at all
//   BENCH_RESULTS=FILE                   where the results go (default bench/results.json)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { buildCelFeatureChunk, writeFunctionAssets } from '../infra/function-assets.ts';
import { toEsbuildOptions } from '../infra/function-bundling.ts';
import type { SynthesizedFunction } from '../test/support/synthesized-app.ts';
import { coldRun, pairedRounds, quantile, type Pair } from './cold-process.ts';
import { startDeployedBridge } from './deployed-bridge.ts';
import { measureWarm } from './warm.ts';

const quick = process.env.BENCH_QUICK === '1';
const ROUNDS = quick ? 1 : Number(process.env.BENCH_ROUNDS ?? 31);
const DEPENDENCY_ROUNDS = quick ? 1 : Number(process.env.BENCH_DEPENDENCY_ROUNDS ?? 15);
const RTT_MS = Number(process.env.BENCH_RTT_MS ?? 10);
const WARM_RUNS = quick ? 5 : Number(process.env.BENCH_WARM_RUNS ?? 1000);
const { values: args } = parseArgs({ options: { against: { type: 'string' }, root: { type: 'string' }, 'cold-only': { type: 'boolean' }, 'against-only': { type: 'string' } } });
if (args['against-only']) Object.assign(args, { against: args['against-only'], 'cold-only': true });

// Inside the project, so bundles resolve their external modules from node_modules as Lambda's runtime would.
mkdirSync('.bundles', { recursive: true });
const work = resolve(mkdtempSync(join('.bundles', 'bench-')));
const progress = (text: string) => process.stderr.write(`bench: ${text}\n`);

async function bundleEntry(name: string, source: string): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'entry.ts'), source);
  await build({ ...toEsbuildOptions(join(dir, 'entry.ts'), dir), logLevel: 'error' });
  return join(dir, 'index.mjs');
}

/** Import cost of each dependency on its own: a bundle holding only it, built with the functions' esbuild options. */
const dependencyEntries: Record<string, string> = {
  '@marcbachmann/cel-js': "import { Environment } from '@marcbachmann/cel-js'; globalThis.x = new Environment().parse('1 + 1');",
  'Powertools Logger': "import { Logger } from '@aws-lambda-powertools/logger'; globalThis.x = new Logger();",
  'Powertools Metrics': "import { Metrics } from '@aws-lambda-powertools/metrics'; globalThis.x = new Metrics({ namespace: 'x' });",
  '@smithy/signature-v4 + hash-node + protocol-http': "import { SignatureV4 } from '@smithy/signature-v4'; import { Hash } from '@smithy/hash-node'; import { HttpRequest } from '@smithy/protocol-http'; globalThis.x = [HttpRequest, new SignatureV4({ service: 's', region: 'r', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, sha256: Hash.bind(null, 'sha256') })];",
  '@aws-sdk/credential-provider-env (not bundled: the three variables read by hand)': "import { fromEnv } from '@aws-sdk/credential-provider-env'; globalThis.x = fromEnv();",
  'node:http + node:https, as the bundle imports them': "import http from 'node:http'; import https from 'node:https'; globalThis.x = [http.Agent, https.Agent];",
  'yaml (not bundled: the config ships as JSON)': "import { parseAllDocuments } from 'yaml'; globalThis.x = parseAllDocuments('a: 1');",
  '@aws-sdk/client-secrets-manager (not bundled: one signed POST)': "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; globalThis.x = new SecretsManagerClient({ region: 'us-east-1' });",
  '@octokit/request + @octokit/auth-app (not bundled: github-client.cjs, required on the first report)': "import { request } from '@octokit/request'; import { createAppAuth } from '@octokit/auth-app'; globalThis.x = [request, createAppAuth];",
  '@aws-sdk/client-eks (not bundled: one signed GET)': "import { EKSClient } from '@aws-sdk/client-eks'; globalThis.x = new EKSClient({ region: 'us-east-1' });",
};

const size = (file: string) => ({ bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length });
const assetBytes = (dir: string) => readdirSync(dir).reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);

progress(`synthesizing the app and starting the loopback world (round trip ${RTT_MS} ms)`);
const bridge = await startDeployedBridge({ work, roundTripMs: RTT_MS, ...(args.root && { root: resolve(args.root) }), ...(args.against && { against: resolve(args.against) }) });
try {
  const webhook = bridge.webhook.current as SynthesizedFunction;
  const webhookBundle = join(webhook.assetDir, 'index.mjs');
  const floor = resolve('bench/floor-handler.mjs');
  const hello = await bundleEntry('hello', readFileSync('test/fixtures/lambda/hello.ts', 'utf8'));
  const deployed = bridge.deployedEnv(webhook);
  const describing = bridge.describeEnv(webhook);
  const deliver = (bundle: string, env: NodeJS.ProcessEnv) => async () => coldRun(bundle, await bridge.newEvent(), env);
  const withNodeOptions = (env: NodeJS.ProcessEnv, change: (flags: string[]) => string[]): NodeJS.ProcessEnv => {
    const flags = change((env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean));
    const { NODE_OPTIONS: _, ...rest } = env;
    return flags.length > 0 ? { ...rest, NODE_OPTIONS: flags.join(' ') } : rest;
  };
  const sourceMapsOn = withNodeOptions(deployed, (flags) => [...new Set([...flags, '--enable-source-maps'])]);
  const sourceMapsOff = withNodeOptions(deployed, (flags) => flags.filter((flag) => flag !== '--enable-source-maps'));
  const compileCacheDir = join(work, 'compile-cache');
  const compileCached = { ...deployed, NODE_COMPILE_CACHE: compileCacheDir };
  // Two runs fill the cache (the first writes it, the second checks it is read back).
  if (!args['against-only']) for (let i = 0; i < 2; i += 1) await deliver(webhookBundle, compileCached)();

  const pairs: Pair[] = args['against-only'] ? [] : [
    { name: 'deployed path: webhook ÷ floor', a: deliver(webhookBundle, deployed), b: deliver(floor, deployed) },
    { name: 'deployed path: webhook ÷ hello world', a: deliver(webhookBundle, deployed), b: deliver(hello, deployed) },
    { name: 'DescribeCluster path: webhook ÷ its floor', a: deliver(webhookBundle, describing), b: deliver(floor, describing) },
    { name: 'floor ÷ hello world', a: deliver(floor, deployed), b: deliver(hello, deployed) },
    { name: 'webhook with --enable-source-maps ÷ without', a: deliver(webhookBundle, sourceMapsOn), b: deliver(webhookBundle, sourceMapsOff) },
    { name: 'webhook with a V8 compile cache ÷ without', a: deliver(webhookBundle, compileCached), b: deliver(webhookBundle, deployed) },
    { name: 'webhook reporting to GitHub ÷ not reporting', a: deliver(webhookBundle, bridge.reportingEnv(webhook)), b: deliver(webhookBundle, deployed) },
  ];
  const against = bridge.webhook.against;
  if (against) {
    const againstBundle = join(against.assetDir, 'index.mjs');
    pairs.push(
      { name: `deployed path: webhook ÷ ${args.against}'s`, a: deliver(webhookBundle, deployed), b: deliver(againstBundle, bridge.deployedEnv(against)) },
      { name: `DescribeCluster path: webhook ÷ ${args.against}'s`, a: deliver(webhookBundle, describing), b: deliver(againstBundle, bridge.describeEnv(against)) },
    );
  }
  progress(`${pairs.length} pairs × ${ROUNDS} rounds of cold deliveries`);
  const cold = await pairedRounds(pairs, ROUNDS, (round) => progress(`round ${round + 1}/${ROUNDS}`));

  const extras = args['cold-only'] ? undefined : await measureBeyondCold(webhookBundle, hello, deployed);
  const ratioOf = (name: string) => cold.find((pair) => pair.name === name) ?? { ratio: null };
  const results = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, roundTripMs: RTT_MS },
    deployed: {
      functionName: webhook.functionName,
      runtime: webhook.runtime,
      architectures: webhook.architectures,
      nodeOptions: webhook.environment.NODE_OPTIONS ?? null,
    },
    bundle: { webhook: { ...size(webhookBundle), assetBytes: assetBytes(webhook.assetDir) }, hello: size(hello) },
    targets: {
      'deployed path: webhook ÷ floor (≤ 1.3)': ratioOf('deployed path: webhook ÷ floor').ratio,
      'deployed path: webhook ÷ hello world (≤ 2.2)': ratioOf('deployed path: webhook ÷ hello world').ratio,
      'DescribeCluster path: webhook ÷ its floor (≤ 1.5)': ratioOf('DescribeCluster path: webhook ÷ its floor').ratio,
    },
    cold,
    ...extras,
  };
  writeFileSync(process.env.BENCH_RESULTS ?? 'bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
  if (bridge.created() === 0) throw new Error('no PipelineRun was created: the cold deliveries did not reach the cluster');

  console.log(`tekton-bridge bench — ${results.date}, ${results.machine.cpu} × ${results.machine.cores}, Node ${results.machine.node}, round trip ${RTT_MS} ms, ${ROUNDS} rounds\n`);
  console.log('cold deliveries, median of per-round paired ratios (A and B back to back, order alternating):');
  console.table(
    Object.fromEntries(
      cold.map((pair) => [pair.name, { ratio: pair.ratio, 'IQR': pair.ratioIqr.join('–'), 'A − B ms': pair.differenceMs, 'A ms': pair.a.wallMs, 'B ms': pair.b.wallMs, 'A import': pair.a.importMs, 'A handler': pair.a.handleMs }]),
    ),
  );
  console.log('targets:');
  console.table(results.targets);
  console.log(`webhook asset: index.mjs ${results.bundle.webhook.bytes} B (gzip ${results.bundle.webhook.gzipBytes} B), whole asset ${results.bundle.webhook.assetBytes} B; NODE_OPTIONS as deployed: ${results.deployed.nodeOptions ?? '(none)'}`);
  if (extras) printBeyondCold(extras);
} finally {
  await bridge.stop();
  rmSync(work, { recursive: true, force: true });
}

/** Import costs by dependency, the bundle's compile, peak RSS, and the warm side. */
async function measureBeyondCold(webhookBundle: string, hello: string, deployed: NodeJS.ProcessEnv) {
  // --- Where the import goes: each dependency alone against an empty bundle, and the bundle's own compile.
  const empty = await bundleEntry('empty', '');
  const dependencyBundles: Array<readonly [string, string]> = await Promise.all(Object.entries(dependencyEntries).map(async ([name, source], i) => [name, await bundleEntry(`dep-${i}`, source)] as const));
  // The optional CEL parts, as the build ships them beside the bundle for configs that use them (loaded by require).
  const celChunks = { 'RE2 chunk cel-re2.cjs (matches, translate)': 'regex', 'YAML chunk cel-yaml.cjs (parseYAML)': 'yaml' } as const;
  for (const [name, feature] of Object.entries(celChunks)) {
    const file = join(work, `${feature}-chunk.cjs`);
    await buildCelFeatureChunk(feature, file);
    dependencyBundles.push([name, file]);
  }
  // The webhook bundle again, with a config whose CEL uses both: its import loads the two chunks.
  const celFeaturesDir = join(work, 'cel-features');
  mkdirSync(celFeaturesDir);
  await build({ ...toEsbuildOptions('functions/webhook.ts', celFeaturesDir), logLevel: 'error' });
  await writeFunctionAssets('test/fixtures/triggers/cel-features', join(celFeaturesDir, 'triggers.json'));
  // And with a config whose github interceptors ask GitHub's API (addChangedFiles, githubOwners): nothing more loads
  // at import; the GitHub client and the YAML chunk wait for the first pull request.
  const githubApiDir = join(work, 'github-api');
  mkdirSync(githubApiDir);
  await build({ ...toEsbuildOptions('functions/webhook.ts', githubApiDir), logLevel: 'error' });
  await writeFunctionAssets('test/fixtures/triggers/github-api', join(githubApiDir, 'triggers.json'));
  const importOnly = (bundle: string) => () => coldRun(bundle, undefined, deployed);
  const dependencies = await pairedRounds(
    [
      { name: 'the webhook bundle', a: importOnly(webhookBundle), b: importOnly(empty), measure: (run) => run.importMs },
      { name: 'the webhook bundle with a config using RE2 and YAML', a: importOnly(join(celFeaturesDir, 'index.mjs')), b: importOnly(empty), measure: (run) => run.importMs },
      { name: "the webhook bundle with a config asking GitHub's API (addChangedFiles, githubOwners)", a: importOnly(join(githubApiDir, 'index.mjs')), b: importOnly(empty), measure: (run) => run.importMs },
      ...dependencyBundles.map(([name, bundle]) => ({ name, a: importOnly(bundle), b: importOnly(empty), measure: (run: { importMs: number }) => run.importMs })),
    ],
    DEPENDENCY_ROUNDS,
    (round) => progress(`dependency round ${round + 1}/${DEPENDENCY_ROUNDS}`),
  );
  const compileMs = compileTimes(webhookBundle, DEPENDENCY_ROUNDS);

  // --- Peak RSS of a cold process handling a 6 MB push, and of hello world.
  const bigEvent = await bridge.newEvent(6_000_000 - 8_000);
  const peakRss = (await coldRun(webhookBundle, bigEvent, deployed)).maxRssMiB;
  const helloRss = (await coldRun(hello, await bridge.newEvent(), deployed)).maxRssMiB;

  progress('warm deliveries and growth, in this process');
  const warm = await measureWarm({ warmRuns: WARM_RUNS, growthRuns: quick ? 1 : 20 });

  return {
    imports: {
      rounds: DEPENDENCY_ROUNDS,
      beyondEmptyBundleMs: Object.fromEntries(dependencies.map((d) => [d.name, d.differenceMs])),
      emptyBundleMs: dependencies[0]?.b.importMs,
      webhookCompileMs: compileMs,
      celChunkBytes: Object.fromEntries(Object.keys(celChunks).map((name) => [name, size(dependencyBundles.find(([n]) => n === name)?.[1] as string)])),
    },
    memory: { peakRssMiB6MBPush: peakRss, peakRssMiBHello: helloRss },
    ...warm,
  };
}

function printBeyondCold(extras: Awaited<ReturnType<typeof measureBeyondCold>>): void {
  const { imports, memory, warm, verification6MB, growth } = extras;
  console.log(`import cost beyond an empty bundle (median of per-round differences, ms; the empty bundle: ${imports.emptyBundleMs} ms); compile of the webhook bundle: ${imports.webhookCompileMs} ms`);
  console.table(imports.beyondEmptyBundleMs);
  console.table({
    'peak RSS, 6 MB push / hello, MiB (≤ 128)': { value: `${memory.peakRssMiB6MBPush} / ${memory.peakRssMiBHello}` },
    'warm total p50 / p99 ms': { value: `${warm.totalMs.p50} / ${warm.totalMs.p99}` },
    'warm overhead beyond API p50 / p99 ms (≤ 2 / 10)': { value: `${warm.overheadMs.p50} / ${warm.overheadMs.p99}` },
    '6 MB verify, raw HMAC ÷ bridge (≥ 0.9)': { value: verification6MB.rawOverBridge },
  });
  console.log('growth (dry run, warm, median ms):');
  console.table(growth.bySize);
  console.table(growth.byCommits);
  console.table(growth.byTriggers);
}

/**
 * V8's parse and compile of the bundle's top level, in fresh processes: the module's source compiled as a function
 * body (vm.compileFunction, which accepts the same code once `import`/`export` are out of the way, inside an async
 * function for its top-level awaits), not run.
 */
function compileTimes(bundle: string, rounds: number): number {
  const script = `
    const { readFileSync } = require('node:fs');
    const { compileFunction } = require('node:vm');
    const source = readFileSync(${JSON.stringify(bundle)}, 'utf8')
      .replace(/^import[^;]*;/gm, '').replace(/\\bimport(\\{[^}]*\\}|\\s*\\*\\s*as\\s+\\w+|\\s+\\w+)\\s*from\\s*"[^"]*";?/g, '').replace(/\\bexport\\s*\\{[^}]*\\};?/g, '').replaceAll('import.meta', '({})');
    const start = performance.now();
    // The body of an async function, as the webhook's entry awaits at its top level.
    compileFunction('return (async () => {\\n' + source + '\\n})', [], { filename: 'bundle.js' });
    process.stdout.write(String(performance.now() - start));`;
  const times = Array.from({ length: rounds }, () => Number(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })));
  return Math.round(quantile(times, 0.5) * 100) / 100;
}
