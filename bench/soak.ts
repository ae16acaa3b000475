// `npm run soak -- --deliveries 500 --concurrency 20 --fault-rate 0.2`: a bounded soak of the whole failure path.
//
// N signed deliveries go over HTTP on loopback, C at a time, through an API Gateway stand-in to the built webhook
// bundle (as the CDK app builds it), which creates on the TLS Kubernetes API test server or queues on moto's SQS; the
// built retry bundle drains that queue meanwhile, as Lambda's event source would (batches of 10, 2 at a time). A share
// of the API requests meets an injected fault, and a share of the deliveries is redelivered by "a person". Then it
// counts: delivered / created / duplicates / queued / DLQ / lost, and exits 1 if anything is lost or runs twice.
// "Lost" is a matched delivery with no run and no dead letter that was not answered 503: a 503 (the queue itself could
// not be written) is counted apart, because the sender was told and the failed-deliveries alarm rings.
//
// Why not `tekton-bridge serve`: serve has no queue (a failed creation is answered 503 for the sender to redeliver),
// so it cannot show "nothing lost"; the deployed path is the webhook bundle + SQS + the retry bundle, and that is what
// runs here, in one process, behind real HTTP.
// Options (or env SOAK_DELIVERIES, SOAK_CONCURRENCY, SOAK_FAULT_RATE, SOAK_REDELIVER_RATE, SOAK_SEED, SOAK_TIMEOUT_SECONDS).
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { signedDelivery } from '../test/support/deliveries.ts';
import { pushToDefaultBranch } from '../test/support/github-examples.ts';
import { startApiGatewayFront } from '../test/support/api-gateway-front.ts';
import { HARNESS_SECRET, startBridgeHarness, type WebhookHandler } from '../test/support/bridge-harness.ts';
import type { KubeApiFault } from '../test/support/kube-api-server.ts';
import { captureLogs } from '../test/support/captured-logs.ts';
import { pollOnce } from '../test/support/sqs-event-source.ts';

const { values } = parseArgs({
  options: {
    deliveries: { type: 'string', default: process.env.SOAK_DELIVERIES ?? '500' },
    concurrency: { type: 'string', default: process.env.SOAK_CONCURRENCY ?? '20' },
    'fault-rate': { type: 'string', default: process.env.SOAK_FAULT_RATE ?? '0.2' },
    'redeliver-rate': { type: 'string', default: process.env.SOAK_REDELIVER_RATE ?? '0.05' },
    seed: { type: 'string', default: process.env.SOAK_SEED ?? '1' },
    'timeout-seconds': { type: 'string', default: process.env.SOAK_TIMEOUT_SECONDS ?? '180' },
  },
});
const bounded = (name: string, text: string, min: number, max: number): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}, got "${text}"`);
  return n;
};
const N = Math.floor(bounded('deliveries', values.deliveries, 1, 20_000));
const C = Math.floor(bounded('concurrency', values.concurrency, 1, 200));
const FAULT_RATE = bounded('fault-rate', values['fault-rate'], 0, 1);
const REDELIVER_RATE = bounded('redeliver-rate', values['redeliver-rate'], 0, 1);
const TIMEOUT_MS = bounded('timeout-seconds', values['timeout-seconds'], 10, 3600) * 1000;
const SEED = Math.floor(bounded('seed', values.seed, 0, 2 ** 31));

/** mulberry32: a seeded generator, so a run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(SEED);

// The faults, in proportion. "401" alone is cured by the token refresh; twice it is a failure. The delay outlasts the
// bridge's 3 s deadline, and the server then creates anyway: the retry must find it, not make a second. A 422 is
// permanent: that delivery must end in the dead-letter queue with its reason.
const FAULTS: Array<{ name: string; weight: number; faults: KubeApiFault[] }> = [
  { name: '500', weight: 3, faults: [{ kind: 'status', code: 500 }] },
  { name: '503', weight: 3, faults: [{ kind: 'status', code: 503 }] },
  { name: '429 Retry-After', weight: 2, faults: [{ kind: 'status', code: 429, retryAfterSeconds: 1 }] },
  { name: 'connection reset', weight: 2, faults: [{ kind: 'reset' }] },
  { name: '409 Conflict', weight: 1, faults: [{ kind: 'status', code: 409 }] },
  { name: '401 (refreshed)', weight: 2, faults: [{ kind: 'status', code: 401 }] },
  { name: '401 twice', weight: 1, faults: [{ kind: 'status', code: 401 }, { kind: 'status', code: 401 }] },
  { name: 'slow past deadline', weight: 1, faults: [{ kind: 'delay', ms: 3300 }] },
  // Permanent: an admission webhook refuses the object. Parked in the DLQ with the reason, never created.
  { name: '422 Invalid', weight: 1, faults: [{ kind: 'status', code: 422 }] },
];
const totalWeight = FAULTS.reduce((sum, f) => sum + f.weight, 0);
function pickFault(): (typeof FAULTS)[number] {
  let r = rand() * totalWeight;
  for (const fault of FAULTS) if ((r -= fault.weight) < 0) return fault;
  return FAULTS[0] as (typeof FAULTS)[number];
}

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const started = performance.now();
const deadline = Date.now() + TIMEOUT_MS;
process.stderr.write(`soak: building the bundles, starting moto_server ×2 and the TLS Kubernetes API…\n`);
const bridge = await startBridgeHarness();
let exitCode = 1;
try {
  // Lambda gives each concurrent request its own container: up to C warm containers, each used by one request at a time.
  const idle: WebhookHandler[] = [];
  for (let i = 0; i < Math.min(C, 20); i += 1) idle.push(await bridge.coldWebhook({ POWERTOOLS_METRICS_DISABLED: 'true' }));
  const pool = [...idle];
  let next = 0;
  const front = await startApiGatewayFront(() => pool[next++ % pool.length] as WebhookHandler);
  // Backoff of 1 s doubling to 4 s (not 30 s to 15 min): the same code path, in a bounded time.
  const retries = await Promise.all(
    [0, 1].map(() => bridge.coldRetry({ RETRY_MAX_ATTEMPTS: '16', RETRY_BACKOFF_BASE_SECONDS: '1', RETRY_BACKOFF_MAX_SECONDS: '4', POWERTOOLS_METRICS_DISABLED: 'true' })),
  );

  const faultCounts = new Map<string, number>();
  const answers = new Map<string, number>();
  /** Deliveries answered 503: nothing created, nothing queued, and the sender (GitHub) told so; the failure alarm rings. */
  const refused = new Set<string>();
  const latencies: number[] = [];
  const ids = Array.from({ length: N }, (_, i) => `soak-${SEED}-${String(i).padStart(6, '0')}-4000-8000-000000000000`);
  const redeliveries = ids.filter(() => rand() < REDELIVER_RATE);
  const faultPlan = ids.map(() => (rand() < FAULT_RATE ? pickFault() : undefined));
  let sent = 0;
  let trafficDone = false;

  const { result: run, entries } = await captureLogs(async () => {
    // The retry function's event source, polling while the traffic runs and until the queue is empty.
    const pollers = retries.map(async (handler) => {
      let emptyPolls = 0;
      while (Date.now() < deadline) {
        const poll = await pollOnce({ sqs: bridge.sqs, queueUrl: bridge.queueUrl, queueArn: bridge.queueArn, handler, visibilityTimeoutSeconds: 30 });
        if (poll.received > 0) emptyPolls = 0;
        else if (trafficDone && (await bridge.queueDepth()).total === 0 && ++emptyPolls >= 3) return;
        else await sleep(100);
      }
    });

    const send = async (deliveryId: string, index: number | undefined) => {
      const fault = index === undefined ? undefined : faultPlan[index];
      if (fault) {
        faultCounts.set(fault.name, (faultCounts.get(fault.name) ?? 0) + 1);
        bridge.api.injectFault(...fault.faults);
      }
      const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId });
      const start = performance.now();
      const response = await fetch(front.url, { method: 'POST', headers: delivery.headers, body: delivery.body });
      const text = await response.text();
      latencies.push(performance.now() - start);
      sent += 1;
      let outcome = 'error';
      try {
        outcome = (JSON.parse(text) as { results?: { outcome: string }[] }).results?.[0]?.outcome ?? 'error';
      } catch {
        // counted as error
      }
      if (response.status === 503) refused.add(deliveryId);
      const key = `${response.status} ${outcome}`;
      answers.set(key, (answers.get(key) ?? 0) + 1);
    };

    // C workers over the deliveries, then the redeliveries ("a person presses Redeliver").
    const work: Array<[string, number | undefined]> = [...ids.map((id, i): [string, number] => [id, i]), ...redeliveries.map((id): [string, undefined] => [id, undefined])];
    let cursor = 0;
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (cursor < work.length && Date.now() < deadline) {
          const [id, index] = work[cursor++] as [string, number | undefined];
          await send(id, index);
        }
      }),
    );
    trafficDone = true;
    await Promise.all(pollers);
    // A slow create may still be finishing on the server; let it, then sweep the queue once more.
    await sleep(3500);
    await Promise.all(retries.map((handler) => bridge.drain(handler, { timeoutMs: Math.max(1000, deadline - Date.now()) })));
    await bridge.takeDeadLetters();
    return { complete: cursor >= work.length && sent === work.length };
  });
  await front.close();

  // Count.
  const retried = new Map<string, number>();
  for (const e of entries) if (typeof e.message === 'string' && e.message.startsWith('pending creation')) retried.set(e.outcome, (retried.get(e.outcome) ?? 0) + 1);
  const perDelivery = ids.map((id) => ({ id, objects: bridge.objectsFor(id).length, deadLetters: bridge.deadLetters.filter((d) => d.deliveryId === id).length }));
  const created = perDelivery.filter((d) => d.objects === 1).length;
  const duplicated = perDelivery.filter((d) => d.objects > 1).length;
  const parked = perDelivery.filter((d) => d.objects === 0 && d.deadLetters > 0).length;
  const unqueued = perDelivery.filter((d) => d.objects === 0 && d.deadLetters === 0 && refused.has(d.id)).length;
  const lost = perDelivery.filter((d) => d.objects === 0 && d.deadLetters === 0 && !refused.has(d.id)).length;
  const names = bridge.api.objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
  const depth = await bridge.queueDepth();
  const queued = [...answers].filter(([k]) => k.endsWith(' queued')).reduce((s, [, n]) => s + n, 0);
  const seconds = (performance.now() - started) / 1000;

  const line = (label: string, value: string | number) => process.stdout.write(`  ${label.padEnd(46)} ${value}\n`);
  process.stdout.write(`\ntekton-bridge soak — ${new Date().toISOString()}, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, Node ${process.version}\n`);
  process.stdout.write(`  ${N} deliveries, concurrency ${C}, fault rate ${FAULT_RATE}, redeliver rate ${REDELIVER_RATE}, seed ${SEED}\n\n`);
  line('delivered (HTTP requests, redeliveries incl.)', `${sent} (${redeliveries.length} redeliveries)`);
  line('faults injected', [...faultCounts].map(([k, n]) => `${k} ${n}`).join(', ') || 'none');
  line('answers', [...answers].sort().map(([k, n]) => `${k}: ${n}`).join(', '));
  line('queued by the webhook', queued);
  line('retry function', [...retried].sort().map(([k, n]) => `${k} ${n}`).join(', ') || 'nothing to do');
  line('created (deliveries with exactly one run)', created);
  line('duplicates (deliveries with two runs or more)', duplicated);
  line('objects on the cluster / distinct names', `${names.length} / ${new Set(names).size}`);
  line('DLQ (deliveries parked with a reason)', `${parked} (${bridge.deadLetters.length} messages)`);
  const stale = perDelivery.filter((d) => d.objects === 1 && d.deadLetters > 0).length;
  if (stale > 0) line('  created, and a stale dead letter too', `${stale} (a redrive of it answers duplicate)`);
  const clip = (text: string) => (text.length > 110 ? `${text.slice(0, 110)}…` : text);
  for (const reason of [...new Set(bridge.deadLetters.map((d) => d.reason.replace(/run-[a-z0-9]{10}/, 'run-…')))].slice(0, 2)) line('  e.g.', clip(reason));
  line('refused (503: not created, not queued)', unqueued);
  line('lost (no run, no dead letter, no 503)', lost);
  line('left on the retry queue', depth.total);
  line('answer latency p50 / p99 / max (ms)', `${quantile(latencies, 0.5).toFixed(1)} / ${quantile(latencies, 0.99).toFixed(1)} / ${Math.max(...latencies).toFixed(1)}`);
  line('wall time (s), incl. setup', seconds.toFixed(1));

  const ok = run.complete && lost === 0 && duplicated === 0 && depth.total === 0 && new Set(names).size === names.length && created + parked + unqueued === N;
  process.stdout.write(`\n${ok ? 'OK: every delivery created exactly once, or parked with its reason' : 'FAILED: see the counts above'}\n`);
  exitCode = ok ? 0 : 1;
} finally {
  await bridge.stop();
}
process.exit(exitCode);
