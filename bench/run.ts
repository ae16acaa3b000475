// `npm run bench`: what a delivery costs, cold and warm, on this machine, in one run. Writes bench/results.json.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { buildFunctions } from '../infra/build-functions.ts';
import { toEsbuildOptions } from '../infra/function-bundling.ts';
import { createResourceCreator } from '../functions/adapters/kubernetes-api.ts';
import { loadTriggersDirectory } from '../functions/adapters/triggers-directory.ts';
import { handleDelivery } from '../functions/core/handle-delivery.ts';
import { verifyDelivery } from '../functions/core/verify-delivery.ts';
import { signedDelivery } from '../test/support/deliveries.ts';
import { pushToDefaultBranch } from '../test/support/github-examples.ts';
import { startKubeApiServer } from '../test/support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer } from '../test/support/moto-server.ts';

const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 11);
const WARM_RUNS = Number(process.env.BENCH_WARM_RUNS ?? 1000);
const work = mkdtempSync(join(tmpdir(), 'tekton-bridge-bench-'));

const median = (xs: number[]): number => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** Wall time of a whole fresh process. Asynchronous: the API servers it talks to live in this process. */
function timeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`${args.join(' ')} failed: ${stderr}`))));
  });
}

// Bundles: the webhook as `npm run build` makes it, and a hello-world handler built the same way.
const [webhook] = await buildFunctions({ outRoot: join(work, 'dist') });
if (!webhook) throw new Error('no webhook bundle');
const helloDir = join(work, 'hello');
await build(toEsbuildOptions('test/fixtures/lambda/hello.ts', helloDir));
const bundles = { webhook: join(webhook.outdir, 'index.mjs'), hello: join(helloDir, 'index.mjs') };
const size = (file: string) => ({ bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length });

// The outside world on loopback: Secrets Manager on moto_server, the Kubernetes API over TLS.
const [moto, api] = await Promise.all([startMotoServer(), startKubeApiServer({ eks: { clusterName: 'bench', region: 'us-east-1' } })]);
try {
  const secrets = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
  const secretArn = (await secrets.send(new CreateSecretCommand({ Name: 'bench', SecretString: 'bench-secret' }))).ARN as string;
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

  const events: string[] = [];
  for (let i = 0; i < COLD_RUNS; i += 1) {
    const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: 'bench-secret', deliveryId: `cold-${i}` });
    const file = join(work, `event-${i}.json`);
    writeFileSync(file, JSON.stringify({ version: '2.0', rawPath: '/webhook', headers: delivery.headers, body: delivery.body.toString(), isBase64Encoded: false }));
    events.push(file);
  }
  const cold = { webhook: [] as number[], hello: [] as number[], importOnly: [] as number[], node: [] as number[] };
  for (let i = 0; i < COLD_RUNS; i += 1) {
    cold.node.push(await timeProcess(['-e', ''], lambdaEnv));
    cold.hello.push(await timeProcess(['bench/invoke-once.mjs', pathToFileURL(bundles.hello).href, events[i] as string], lambdaEnv));
    cold.importOnly.push(await timeProcess(['bench/invoke-once.mjs', pathToFileURL(bundles.webhook).href], lambdaEnv));
    cold.webhook.push(await timeProcess(['bench/invoke-once.mjs', pathToFileURL(bundles.webhook).href, events[i] as string], lambdaEnv));
  }
  if (api.objects.length !== COLD_RUNS) throw new Error(`expected ${COLD_RUNS} PipelineRuns, found ${api.objects.length}`);

  // Warm: the core in one process against the same TLS API, split by stage.
  const config = loadTriggersDirectory('triggers');
  const warmApi = await startKubeApiServer({ token: 'warm' });
  const createResource = createResourceCreator({ server: warmApi.url, ca: warmApi.caPem, getToken: async () => 'warm' });
  const stages = { totalMs: [] as number[], verifyMs: [] as number[], parseMs: [] as number[], evaluateMs: [] as number[], apiMs: [] as number[], overheadMs: [] as number[] };
  const push = pushToDefaultBranch();
  for (let i = 0; i < WARM_RUNS + 50; i += 1) {
    const delivery = await signedDelivery('push', push, { secret: 'bench-secret', deliveryId: `warm-${i}` });
    const start = performance.now();
    const report = await handleDelivery({ headers: delivery.headers, body: delivery.body }, { config, secrets: ['bench-secret'], createResource, now: () => performance.now() });
    const total = performance.now() - start;
    if (report.answer.status !== 202) throw new Error(`warm delivery answered ${report.answer.status}`);
    if (i < 50) continue; // JIT warm-up
    stages.totalMs.push(total);
    stages.verifyMs.push(report.timings.verifyMs);
    stages.parseMs.push(report.timings.parseMs);
    stages.evaluateMs.push(report.timings.evaluateMs);
    stages.apiMs.push(report.timings.createMs);
    stages.overheadMs.push(total - report.timings.createMs);
  }
  await warmApi.stop();

  // Verification of a 6 MB body: the bridge's verifier against one raw HMAC of the same bytes.
  const big = Buffer.from(JSON.stringify({ ...push, padding: 'x'.repeat(6 * 1000 * 1000 - 8000) }));
  const bigDelivery = await signedDelivery('push', big.toString(), { secret: 'bench-secret' });
  const verifyRuns = { bridge: [] as number[], raw: [] as number[] };
  for (let i = 0; i < 30; i += 1) {
    let start = performance.now();
    createHmac('sha256', 'bench-secret').update(bigDelivery.body).digest('hex');
    verifyRuns.raw.push(performance.now() - start);
    start = performance.now();
    const check = verifyDelivery(bigDelivery.body, bigDelivery.headers, ['bench-secret']);
    verifyRuns.bridge.push(performance.now() - start);
    if (!check.valid) throw new Error('6 MB body did not verify');
  }

  const results = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
    bundle: { webhook: size(bundles.webhook), hello: size(bundles.hello), largestPackages: webhook.largestInputs },
    cold: {
      runs: COLD_RUNS,
      nodeStartMs: round(median(cold.node)),
      helloDeliveryMs: round(median(cold.hello)),
      webhookImportMs: round(median(cold.importOnly)),
      webhookDeliveryMs: round(median(cold.webhook)),
      ratioToHello: round(median(cold.webhook) / median(cold.hello)),
      importBeyondNodeStartMs: round(median(cold.importOnly) - median(cold.node)),
    },
    warm: {
      runs: WARM_RUNS,
      ...(Object.fromEntries(Object.entries(stages).map(([k, xs]) => [k, { p50: round(median(xs), 3), p99: round(quantile(xs, 0.99), 3) }])) as Record<keyof typeof stages, { p50: number; p99: number }>),
    },
    verification6MB: { bridgeMs: round(median(verifyRuns.bridge)), rawHmacMs: round(median(verifyRuns.raw)), rawOverBridge: round(median(verifyRuns.raw) / median(verifyRuns.bridge)) },
  };
  writeFileSync('bench/results.json', `${JSON.stringify(results, null, 2)}\n`);
  console.log(`tekton-bridge bench — ${results.date}, ${results.machine.cpu} × ${results.machine.cores}, Node ${results.machine.node}\n`);
  console.table({
    'bundle (bytes / gzip)': { value: `${results.bundle.webhook.bytes} / ${results.bundle.webhook.gzipBytes}` },
    'cold delivery, webhook (median ms)': { value: results.cold.webhookDeliveryMs },
    'cold delivery, hello world (median ms)': { value: results.cold.helloDeliveryMs },
    'cold ratio webhook / hello': { value: results.cold.ratioToHello },
    'import only (median ms)': { value: results.cold.webhookImportMs },
    'node -e "" (median ms)': { value: results.cold.nodeStartMs },
    'warm total p50 / p99 (ms)': { value: `${results.warm.totalMs.p50} / ${results.warm.totalMs.p99}` },
    'warm overhead beyond API p50 / p99 (ms)': { value: `${results.warm.overheadMs.p50} / ${results.warm.overheadMs.p99}` },
    '6 MB verify: raw HMAC / bridge': { value: results.verification6MB.rawOverBridge },
  });
} finally {
  await Promise.all([moto.stop(), api.stop()]);
  rmSync(work, { recursive: true, force: true });
}
