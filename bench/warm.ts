// The warm side of `npm run bench`: the core in this process, stage by stage, against a TLS Kubernetes API; the 6 MB
// verification against one raw HMAC; and how a dry-run delivery grows with the payload, the commits and the triggers.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
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
import { startKubeApiServer } from '../test/support/kube-api-server.ts';
import { quantile } from './cold-process.ts';

const median = (xs: number[]): number => quantile(xs, 0.5);
const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits;
const stats = (xs: number[]) => ({ p50: round(median(xs)), p99: round(quantile(xs, 0.99)) });

export async function measureWarm(options: { warmRuns: number; growthRuns: number }) {
  const WARM_RUNS = options.warmRuns;
  // --- Warm: the core in this process against a TLS API, stage by stage.
  const config = loadTriggersDirectory('triggers');
  const warmApi = await startKubeApiServer({ token: 'warm' });
  const createResource = createResourceCreator({ server: warmApi.url, ca: warmApi.caPem, getToken: async () => 'warm' });
  const stages = { totalMs: [] as number[], verifyMs: [] as number[], parseMs: [] as number[], evaluateMs: [] as number[], renderMs: [] as number[], apiMs: [] as number[], overheadMs: [] as number[] };
  const push = pushToDefaultBranch();
  const listener = config.eventListeners[0];
  const trigger = listener?.triggers[0];
  if (!listener || !trigger) throw new Error('default config has no trigger');
  const warmUp = Math.min(100, WARM_RUNS);
  for (let i = 0; i < WARM_RUNS + warmUp; i += 1) {
    const deliveryId = `warm-${i}`;
    // Each a push of its own (its own pushed_at, so its own bytes): the same bytes would answer duplicate.
    const push = pushToDefaultBranch();
    const delivery = await signedDelivery('push', push, { secret: 'bench-secret', deliveryId });
    const start = performance.now();
    const report = await handleDelivery({ headers: delivery.headers, body: delivery.body }, { config, secrets: ['bench-secret'], createResource, wallClock: Date.now, now: () => performance.now() });
    const total = performance.now() - start;
    if (report.answer.status !== 202) throw new Error(`warm delivery answered ${report.answer.status}`);
    const renderStart = performance.now();
    renderResources({ template: trigger.template, params: new Map([['repo-url', 'u'], ['revision', 'r'], ['repo-name', 'n']]), deliveryId, bodyDigest: bodyDigestOf(delivery.body), trigger: trigger.name, eventListener: listener.name, namespace: 'ci', summary: summarizeDelivery(push) });
    const renderMs = performance.now() - renderStart;
    if (i < warmUp) continue; // JIT warm-up
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
  const bigPush = { ...push, padding: 'x'.repeat(6_000_000 - 8_000) };
  const bigDelivery = await signedDelivery('push', bigPush, { secret: 'bench-secret' });
  const verifyRuns = { bridge: [] as number[], raw: [] as number[] };
  for (let i = 0; i < Math.max(3, Math.round(options.growthRuns * 1.5)); i += 1) {
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
  const payloadSizes = [1_000, 10_000, 100_000, 1_000_000, 6_000_000];
  const bySize = [];
  for (const bytes of payloadSizes) {
    const payload = { ...push, padding: 'x'.repeat(Math.max(0, bytes - JSON.stringify(push).length - 20)) };
    const ms = await dryRun(config, payload, Math.max(1, bytes >= 1_000_000 ? Math.round(options.growthRuns / 2) : options.growthRuns));
    bySize.push({ bytes, ms, msPerMB: round((ms / bytes) * 1e6, 3) });
  }
  const commitCounts = [1, 16, 128, 1024, 2048];
  const byCommits = [];
  for (const commits of commitCounts) {
    const commit = push.commits[0];
    const payload = { ...push, commits: Array.from({ length: commits }, (_, i) => ({ ...commit, id: `${i}`.padStart(40, '0'), added: [`src/file-${i}.ts`], modified: ['README.md'] })) };
    byCommits.push({ commits, bytes: JSON.stringify(payload).length, ms: await dryRun(config, payload, options.growthRuns) });
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
    const ms = await dryRun(cfg, push, options.growthRuns);
    byTriggers.push({ triggers: count, ms, msPerTrigger: round(ms / count, 4) });
  }
  return {
    warm: { runs: WARM_RUNS, ...(Object.fromEntries(Object.entries(stages).map(([k, xs]) => [k, stats(xs)])) as Record<keyof typeof stages, { p50: number; p99: number }>) },
    verification6MB: { bridgeMs: round(median(verifyRuns.bridge)), rawHmacMs: round(median(verifyRuns.raw)), rawOverBridge: round(median(verifyRuns.raw) / median(verifyRuns.bridge)) },
    growth: { bySize, byCommits, byTriggers },
  };
}
