// `npm run bench`: what a delivery costs, cold and warm, on this machine, in one run. Prints a table and writes
// bench/results.json; BENCHMARKS.md quotes it. Everything talks real protocols on loopback (moto_server, the TLS
// Kubernetes API test server); nothing here is part of `npm test`.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { buildFunctions } from '../infra/build-functions.ts';
import { toEsbuildOptions } from '../infra/function-bundling.ts';
import { buildCelFeatureChunk, writeFunctionAssets } from '../infra/function-assets.ts';
import { createResourceCreator } from '../functions/adapters/kubernetes-api.ts';
import { loadTriggersDirectory } from '../functions/adapters/triggers-directory.ts';
import { summarizeDelivery } from '../functions/core/delivery-summary.ts';
import { handleDelivery } from '../functions/core/handle-delivery.ts';
import { loadTriggersConfig } from '../functions/core/load-triggers-config.ts';
import { renderResources } from '../functions/core/render-resources.ts';
import { bodyDigestOf } from '../functions/core/resource-names.ts';
import { verifyDelivery } from '../functions/core/verify-delivery.ts';
import { signedDelivery } from '../test/support/deliveries.ts';
import { pushToDefaultBranch } from '../test/support/github-examples.ts';
import { startGithubApiServer } from '../test/support/github-api-server.ts';
import { startKubeApiServer } from '../test/support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer } from '../test/support/moto-server.ts';

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 11);
const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 1000);
// Inside the project, so bundles resolve their external modules from node_modules as Lambda's runtime would.
mkdirSync('.bundles', { recursive: true });
const work = mkdtempSync(join('.bundles', 'bench-'));

const median = (xs: number[]): number => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
const stats = (xs: number[]) => ({ p50: round(median(xs), 3), p99: round(quantile(xs, 0.99), 3) });

/** Runs a fresh process; resolves with its wall time and what it printed. Asynchronous: the servers live here. */
function runProcess(args: string[], env: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ ms: performance.now() - start, stdout }) : reject(new Error(`${args.join(' ')} failed: ${stderr}`))));
  });
}

async function bundleEntry(name: string, source: string): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'entry.ts'), source);
  await build({ ...toEsbuildOptions(join(dir, 'entry.ts'), dir), logLevel: 'error' });
  return join(process.cwd(), dir, 'index.mjs');
}

const apiGatewayEvent = (delivery: { headers: Record<string, string>; body: Buffer }) =>
  JSON.stringify({ version: '2.0', rawPath: '/webhook', headers: delivery.headers, body: delivery.body.toString(), isBase64Encoded: false });

// --- Bundles: the webhook as `npm run build` makes it, a hello-world handler built the same way, and one bundle per
// heavy dependency to see what each costs on its own.
const built = await buildFunctions({ outRoot: join(work, 'dist') });
const webhook = built.find((fn) => fn.name === 'webhook');
const retry = built.find((fn) => fn.name === 'retry');
const reporter = built.find((fn) => fn.name === 'reporter');
if (!webhook) throw new Error('no webhook bundle');
const webhookBundle = resolve(webhook.outdir, 'index.mjs');
const helloBundle = await bundleEntry('hello', readFileSync('test/fixtures/lambda/hello.ts', 'utf8'));
const size = (file: string) => ({ bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length });
const dependencyEntries: Record<string, string> = {
  'nothing (esbuild banner only)': '',
  'yaml (not bundled: the config ships as JSON)': "import { parseAllDocuments } from 'yaml'; globalThis.x = parseAllDocuments('a: 1');",
  '@marcbachmann/cel-js': "import { Environment } from '@marcbachmann/cel-js'; globalThis.x = new Environment().parse('1 + 1');",
  'Powertools Logger + Metrics': "import { Logger } from '@aws-lambda-powertools/logger'; import { Metrics } from '@aws-lambda-powertools/metrics'; globalThis.x = [new Logger(), new Metrics({ namespace: 'x' })];",
  '@smithy/signature-v4 (token, secret call)': "import { SignatureV4 } from '@smithy/signature-v4'; import { Hash } from '@smithy/hash-node'; globalThis.x = new SignatureV4({ service: 's', region: 'r', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, sha256: Hash.bind(null, 'sha256') });",
  'node:https (Kubernetes API)': "import https from 'node:https'; globalThis.x = https.Agent;",
  '@aws-sdk/client-secrets-manager (not bundled)': "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; globalThis.x = new SecretsManagerClient({ region: 'us-east-1' });",
  '@aws-sdk/client-eks (not bundled)': "import { EKSClient } from '@aws-sdk/client-eks'; globalThis.x = new EKSClient({ region: 'us-east-1' });",
  '@octokit/request + @octokit/auth-app (GitHub reporting: loaded on the first report)': "import { request } from '@octokit/request'; import { createAppAuth } from '@octokit/auth-app'; globalThis.x = [request, createAppAuth];",
  "@kubernetes/client-node's API client (not bundled)": "import { KubeConfig, CustomObjectsApi } from '@kubernetes/client-node'; globalThis.x = [KubeConfig, CustomObjectsApi];",
};
const dependencyBundles: Record<string, string> = Object.fromEntries(
  await Promise.all(Object.entries(dependencyEntries).map(async ([name, source], i) => [name, await bundleEntry(`dep-${i}`, source)] as const)),
);
// The optional CEL parts, exactly as the build ships them beside the bundle for configs that use them.
const celChunks = { 'RE2 chunk cel-re2.cjs (matches, translate)': 'regex', 'YAML chunk cel-yaml.cjs (parseYAML)': 'yaml' } as const;
for (const [name, feature] of Object.entries(celChunks)) {
  const file = resolve(work, `${feature}-chunk.cjs`);
  await buildCelFeatureChunk(feature, file);
  dependencyBundles[name] = file;
}
// The webhook bundle again, with a config whose CEL uses both: its import loads the two chunks.
const celFeaturesDir = resolve(work, 'cel-features');
mkdirSync(celFeaturesDir);
await build({ ...toEsbuildOptions('functions/webhook.ts', celFeaturesDir), logLevel: 'error' });
await writeFunctionAssets('test/fixtures/triggers/cel-features', join(celFeaturesDir, 'triggers.json'));
const celFeaturesBundle = resolve(celFeaturesDir, 'index.mjs');

// --- The outside world on loopback.
const [moto, api, github] = await Promise.all([
  startMotoServer(),
  startKubeApiServer({ eks: { clusterName: 'bench', region: 'us-east-1' } }),
  startGithubApiServer({ token: 'ghp_bench' }),
]);
try {
  const secrets = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
  const secretArn = (await secrets.send(new CreateSecretCommand({ Name: 'bench', SecretString: 'bench-secret' }))).ARN as string;
  const githubSecretArn = (await secrets.send(new CreateSecretCommand({ Name: 'bench-github', SecretString: '{"token":"ghp_bench"}' }))).ARN as string;
  const lambdaEnv: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDBENCH',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
    CLUSTER_NAME: 'bench',
    CLUSTER_ENDPOINT: api.url,
    CLUSTER_CA: Buffer.from(api.caPem).toString('base64'),
    WEBHOOK_SECRET_ARN: secretArn,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  // The same function reporting to GitHub: the first report loads the octokit libraries and reports pending.
  const reportingEnv: NodeJS.ProcessEnv = { ...lambdaEnv, GITHUB_CREDENTIALS_SECRET_ARN: githubSecretArn, GITHUB_API_URL: github.url };

  // --- Cold: whole fresh processes, interleaved so machine noise hits every series alike.
  const events: string[] = [];
  for (let i = 0; i < COLD_RUNS; i += 1) {
    const file = join(work, `event-${i}.json`);
    writeFileSync(file, apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: 'bench-secret', deliveryId: `cold-${i}` })));
    events.push(file);
  }
  const reportingEvents: string[] = [];
  for (let i = 0; i < COLD_RUNS; i += 1) {
    const file = join(work, `event-reporting-${i}.json`);
    writeFileSync(file, apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: 'bench-secret', deliveryId: `cold-reporting-${i}` })));
    reportingEvents.push(file);
  }
  const cold = { node: [] as number[], hello: [] as number[], webhook: [] as number[], importMs: [] as number[], webhookReporting: [] as number[], importReportingMs: [] as number[], celFeaturesImportMs: [] as number[] };
  const dependencyImportMs: Record<string, number[]> = Object.fromEntries(Object.keys(dependencyBundles).map((k) => [k, []]));
  for (let i = 0; i < COLD_RUNS; i += 1) {
    cold.node.push((await runProcess(['-e', ''], lambdaEnv)).ms);
    cold.hello.push((await runProcess(['bench/invoke-once.mjs', pathToFileURL(helloBundle).href, events[i] as string], lambdaEnv)).ms);
    cold.webhook.push((await runProcess(['bench/invoke-once.mjs', pathToFileURL(webhookBundle).href, events[i] as string], lambdaEnv)).ms);
    cold.importMs.push(Number((await runProcess(['bench/import-once.mjs', pathToFileURL(webhookBundle).href], lambdaEnv)).stdout));
    cold.celFeaturesImportMs.push(Number((await runProcess(['bench/import-once.mjs', pathToFileURL(celFeaturesBundle).href], lambdaEnv)).stdout));
    cold.webhookReporting.push((await runProcess(['bench/invoke-once.mjs', pathToFileURL(webhookBundle).href, reportingEvents[i] as string], reportingEnv)).ms);
    cold.importReportingMs.push(Number((await runProcess(['bench/import-once.mjs', pathToFileURL(webhookBundle).href], reportingEnv)).stdout));
    for (const [name, file] of Object.entries(dependencyBundles)) {
      const once = file.endsWith('.cjs') ? ['bench/require-once.cjs', file] : ['bench/import-once.mjs', pathToFileURL(file).href];
      dependencyImportMs[name]?.push(Number((await runProcess(once, lambdaEnv)).stdout));
    }
  }
  if (api.objects.length !== 2 * COLD_RUNS) throw new Error(`expected ${2 * COLD_RUNS} PipelineRuns, found ${api.objects.length}`);
  if (github.statuses.length !== COLD_RUNS) throw new Error(`expected ${COLD_RUNS} pending statuses, found ${github.statuses.length}`);

  // --- Peak RSS of a cold process handling a 6 MB push.
  const bigPush = { ...pushToDefaultBranch(), padding: 'x'.repeat(6_000_000 - 8_000) };
  const bigFile = join(work, 'event-6mb.json');
  writeFileSync(bigFile, apiGatewayEvent(await signedDelivery('push', bigPush, { secret: 'bench-secret', deliveryId: 'rss-6mb' })));
  const peakRssMiB = Number((await runProcess(['bench/rss-once.mjs', pathToFileURL(webhookBundle).href, bigFile], lambdaEnv)).stdout);
  const helloRssMiB = Number((await runProcess(['bench/rss-once.mjs', pathToFileURL(helloBundle).href, events[0] as string], lambdaEnv)).stdout);

  // --- Warm: the core in this process against a TLS API, stage by stage.
  const config = loadTriggersDirectory('triggers');
  const warmApi = await startKubeApiServer({ token: 'warm' });
  const createResource = createResourceCreator({ server: warmApi.url, ca: warmApi.caPem, getToken: async () => 'warm' });
  const stages = { totalMs: [] as number[], verifyMs: [] as number[], parseMs: [] as number[], evaluateMs: [] as number[], renderMs: [] as number[], apiMs: [] as number[], overheadMs: [] as number[] };
  const listener = config.eventListeners[0];
  const trigger = listener?.triggers[0];
  if (!listener || !trigger) throw new Error('default config has no trigger');
  for (let i = 0; i < WARM_RUNS + 100; i += 1) {
    const deliveryId = `warm-${i}`;
    // Each a push of its own (its own pushed_at, so its own bytes): the same bytes would answer duplicate.
    const push = pushToDefaultBranch();
    const delivery = await signedDelivery('push', push, { secret: 'bench-secret', deliveryId });
    const start = performance.now();
    const report = await handleDelivery(
      { headers: delivery.headers, body: delivery.body },
      { config, secrets: ['bench-secret'], createResource, wallClock: Date.now, now: () => performance.now() },
    );
    const total = performance.now() - start;
    if (report.answer.status !== 202) throw new Error(`warm delivery answered ${report.answer.status}`);
    const renderStart = performance.now();
    renderResources({ template: trigger.template, params: new Map([['repo-url', 'u'], ['revision', 'r'], ['repo-name', 'n']]), deliveryId, bodyDigest: bodyDigestOf(delivery.body), trigger: trigger.name, eventListener: listener.name, namespace: 'ci', summary: summarizeDelivery(push) });
    const renderMs = performance.now() - renderStart;
    if (i < 100) continue; // JIT warm-up
    stages.totalMs.push(total);
    stages.verifyMs.push(report.timings.verifyMs);
    stages.parseMs.push(report.timings.parseMs);
    stages.evaluateMs.push(report.timings.evaluateMs);
    stages.renderMs.push(renderMs);
    stages.apiMs.push(report.timings.createMs);
    stages.overheadMs.push(total - report.timings.createMs);
  }
  await warmApi.stop();

  // --- Verification of a 6 MB body: the bridge's verifier against one raw HMAC of the same bytes.
  const bigDelivery = await signedDelivery('push', bigPush, { secret: 'bench-secret' });
  const verifyRuns = { bridge: [] as number[], raw: [] as number[] };
  for (let i = 0; i < 30; i += 1) {
    let start = performance.now();
    createHmac('sha256', 'bench-secret').update(bigDelivery.body).digest();
    verifyRuns.raw.push(performance.now() - start);
    start = performance.now();
    if (!verifyDelivery(bigDelivery.body, bigDelivery.headers, ['bench-secret']).valid) throw new Error('6 MB body did not verify');
    verifyRuns.bridge.push(performance.now() - start);
  }

  // --- Growth: warm dry-run deliveries (no API) as the payload, the commits and the triggers grow.
  const dryRun = async (cfg: typeof config, payload: unknown, runs: number): Promise<number> => {
    const delivery = await signedDelivery('push', payload, { secret: 'bench-secret' });
    const xs: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      const start = performance.now();
      const report = await handleDelivery({ headers: delivery.headers, body: delivery.body }, { config: cfg, secrets: ['bench-secret'], wallClock: Date.now });
      xs.push(performance.now() - start);
      if (report.answer.status >= 400) throw new Error(`growth delivery answered ${report.answer.status}`);
    }
    return round(median(xs), 3);
  };
  const push = pushToDefaultBranch();
  const payloadSizes = [1_000, 10_000, 100_000, 1_000_000, 6_000_000];
  const bySize = [];
  for (const bytes of payloadSizes) {
    const payload = { ...push, padding: 'x'.repeat(Math.max(0, bytes - JSON.stringify(push).length - 20)) };
    const ms = await dryRun(config, payload, bytes >= 1_000_000 ? 10 : 50);
    bySize.push({ bytes, ms, msPerMB: round((ms / bytes) * 1e6, 3) });
  }
  const commitCounts = [1, 16, 128, 1024, 2048];
  const byCommits = [];
  for (const commits of commitCounts) {
    const commit = push.commits[0];
    const payload = { ...push, commits: Array.from({ length: commits }, (_, i) => ({ ...commit, id: `${i}`.padStart(40, '0'), added: [`src/file-${i}.ts`], modified: ['README.md'] })) };
    byCommits.push({ commits, bytes: JSON.stringify(payload).length, ms: await dryRun(config, payload, 20) });
  }
  const triggerCounts = [1, 10, 50, 100, 200];
  const byTriggers = [];
  const template = readFileSync('triggers/trigger-template.yaml', 'utf8');
  const binding = readFileSync('triggers/trigger-binding.yaml', 'utf8');
  for (const count of triggerCounts) {
    const triggers = Array.from({ length: count }, (_, i) => `    - name: t-${i}
      interceptors:
        - ref: {name: github}
          params: [{name: eventTypes, value: [push]}]
        - ref: {name: cel}
          params: [{name: filter, value: "body.ref == 'refs/heads/' + body.repository.default_branch && '${i}' != 'x'"}]
      bindings: [{ref: github-push}]
      template: {ref: build-and-deploy}`).join('\n');
    const listenerYaml = `apiVersion: triggers.tekton.dev/v1beta1\nkind: EventListener\nmetadata: {name: many, namespace: ci}\nspec:\n  triggers:\n${triggers}\n`;
    const cfg = loadTriggersConfig([{ file: 'l.yaml', text: listenerYaml }, { file: 'b.yaml', text: binding }, { file: 't.yaml', text: template }]);
    const ms = await dryRun(cfg, push, 20);
    byTriggers.push({ triggers: count, ms, msPerTrigger: round(ms / count, 4) });
  }

  const dependencyCosts = Object.fromEntries(Object.entries(dependencyImportMs).map(([name, xs]) => [name, round(median(xs))]));
  const baseline = dependencyCosts['nothing (esbuild banner only)'] ?? 0;
  const results = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
    bundle: {
      webhook: size(webhookBundle),
      retry: retry ? size(resolve(retry.outdir, 'index.mjs')) : undefined,
      reporter: reporter ? size(resolve(reporter.outdir, 'index.mjs')) : undefined,
      hello: size(helloBundle),
      celChunks: Object.fromEntries(Object.keys(celChunks).map((name) => [name, size(dependencyBundles[name] as string)])),
      largestPackages: webhook.largestInputs,
    },
    cold: {
      runs: COLD_RUNS,
      nodeStartMs: round(median(cold.node)),
      helloDeliveryMs: round(median(cold.hello)),
      webhookDeliveryMs: round(median(cold.webhook)),
      ratioToHello: round(median(cold.webhook) / median(cold.hello)),
      webhookImportMs: round(median(cold.importMs)),
      webhookWithCelFeaturesImportMs: round(median(cold.celFeaturesImportMs)),
      webhookReportingDeliveryMs: round(median(cold.webhookReporting)),
      webhookImportWithCredentialsMs: round(median(cold.importReportingMs)),
      dependencyImportMs: Object.fromEntries(Object.entries(dependencyCosts).map(([k, v]) => [k, { importMs: v, beyondEmptyMs: round(v - baseline) }])),
    },
    memory: { peakRssMiB6MBPush: peakRssMiB, peakRssMiBHello: helloRssMiB },
    warm: { runs: WARM_RUNS, ...(Object.fromEntries(Object.entries(stages).map(([k, xs]) => [k, stats(xs)])) as Record<keyof typeof stages, { p50: number; p99: number }>) },
    verification6MB: { bridgeMs: round(median(verifyRuns.bridge)), rawHmacMs: round(median(verifyRuns.raw)), rawOverBridge: round(median(verifyRuns.raw) / median(verifyRuns.bridge)) },
    growth: { bySize, byCommits, byTriggers },
  };
  writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);

  console.log(`tekton-bridge bench — ${results.date}, ${results.machine.cpu} × ${results.machine.cores}, Node ${results.machine.node}\n`);
  console.table({
    'bundle bytes / gzip': { value: `${results.bundle.webhook.bytes} / ${results.bundle.webhook.gzipBytes}` },
    'cold delivery median ms (webhook / hello)': { value: `${results.cold.webhookDeliveryMs} / ${results.cold.helloDeliveryMs}` },
    'cold ratio webhook ÷ hello (target ≤ 3)': { value: results.cold.ratioToHello },
    'import of the bundle, median ms': { value: results.cold.webhookImportMs },
    'import with a config using RE2 + YAML, median ms': { value: results.cold.webhookWithCelFeaturesImportMs },
    'cold delivery reporting pending to GitHub, median ms': { value: results.cold.webhookReportingDeliveryMs },
    'import of the bundle with GitHub credentials set, median ms': { value: results.cold.webhookImportWithCredentialsMs },
    'warm total p50 / p99 ms': { value: `${results.warm.totalMs.p50} / ${results.warm.totalMs.p99}` },
    'warm overhead beyond API p50 / p99 ms (≤ 2 / 10)': { value: `${results.warm.overheadMs.p50} / ${results.warm.overheadMs.p99}` },
    '6 MB verify, raw HMAC ÷ bridge (≥ 0.9)': { value: results.verification6MB.rawOverBridge },
    'peak RSS, 6 MB push, MiB (≤ 128)': { value: results.memory.peakRssMiB6MBPush },
  });
  console.log('import cost by dependency (median ms, fresh process):');
  console.table(results.cold.dependencyImportMs);
  console.log('warm stages (ms):');
  console.table(results.warm);
  console.log('growth (dry run, warm, median ms):');
  console.table(bySize);
  console.table(byCommits);
  console.table(byTriggers);
} finally {
  await Promise.all([moto.stop(), api.stop(), github.stop()]);
  rmSync(work, { recursive: true, force: true });
}
