/**
 * The fault matrix: every way the cluster, Secrets Manager, EKS or SQS can fail, through the built webhook and retry
 * bundles against the TLS Kubernetes API test server and moto_server. Each row: the fault, the webhook's answer, what
 * the queue holds, then the queue drained through the retry bundle, and the invariant — every matched delivery
 * created exactly once, or parked in the dead-letter queue with its reason.
 */
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { captureLogs } from '../support/captured-logs.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { startEksFront } from '../support/eks-front.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS } from '../support/moto-server.ts';
import {
  HARNESS_CLUSTER,
  HARNESS_CREDENTIALS,
  HARNESS_MAX_ATTEMPTS,
  HARNESS_SECRET,
  settledExactlyOnce,
  startBridgeHarness,
  type BridgeHarness,
  type WebhookHandler,
} from '../support/bridge-harness.ts';
import { skipWithout } from '../support/command-on-path.ts';

type Env = Record<string, string | undefined>;

interface Row {
  name: string;
  /** The fault, injected before the delivery. */
  arrange?: (bridge: BridgeHarness, send: () => Promise<APIGatewayProxyStructuredResultV2>) => void | Promise<void>;
  webhookEnv?: (bridge: BridgeHarness) => Env;
  status: number;
  outcome: 'created' | 'duplicate' | 'queued' | 'failed';
  reason?: RegExp;
  /** Messages on the retry queue right after the answer. */
  queued: 0 | 1;
  /** Between the answer and the drain: the fault passes (or doesn't). */
  beforeDrain?: (bridge: BridgeHarness) => void | Promise<void>;
  retryEnv?: (bridge: BridgeHarness) => Env;
  /** How it ends: one object on the cluster, or a dead letter with this reason. */
  end: 'created' | RegExp;
  /** What the retry function found, when the webhook queued it and it ends created. */
  retried?: 'created' | 'duplicate';
}

const SLOW_MS = 3300;

let bare: KubeApiServer;

const rows: Row[] = [
  { name: 'healthy API', status: 202, outcome: 'created', queued: 0, end: 'created' },
  {
    name: 'API down (connection refused), back after a while',
    webhookEnv: (b) => ({ CLUSTER_ENDPOINT: b.downEndpoint }),
    status: 202,
    outcome: 'queued',
    reason: /could not reach the Kubernetes API.*ECONNREFUSED.*queued, the bridge will retry/,
    queued: 1,
    beforeDrain: async (b) => {
      // Still down for the first two retries: the message stays, nothing is parked.
      const stillDown = await b.coldRetry({ CLUSTER_ENDPOINT: b.downEndpoint });
      const report = await b.drain(stillDown, { maxPolls: 2 });
      assert.equal(report.failed, 2);
      assert.equal((await b.queueDepth()).total, 1);
      assert.equal(b.deadLetters.length, 0);
    },
    end: 'created',
  },
  {
    name: `API slow past the 3 s deadline (answers after ${SLOW_MS} ms, and creates)`,
    arrange: (b) => b.api.injectFault({ kind: 'delay', ms: SLOW_MS }),
    status: 202,
    outcome: 'queued',
    reason: /did not answer within 3000 ms/,
    queued: 1,
    // The slow server finishes creating; the retry then finds it (AlreadyExists), and does not make a second.
    beforeDrain: () => new Promise((resolve) => setTimeout(resolve, SLOW_MS - 3000 + 200)),
    end: 'created',
    retried: 'duplicate',
  },
  {
    name: '401 once (token refused, refreshed, then fine)',
    arrange: (b) => b.api.injectFault({ kind: 'status', code: 401 }),
    status: 202,
    outcome: 'created',
    queued: 0,
    end: 'created',
  },
  {
    name: '401 twice (an expired token that fails again after the refresh)',
    arrange: (b) => b.api.injectFault({ kind: 'status', code: 401 }, { kind: 'status', code: 401 }),
    status: 202,
    outcome: 'queued',
    reason: /401 Unauthorized\), even with a fresh token/,
    queued: 1,
    end: 'created',
  },
  {
    name: '403 Forbidden (RBAC missing)',
    arrange: (b) => b.api.setForbidden(true),
    status: 503,
    outcome: 'failed',
    reason: /lacks RBAC: create pipelineruns\.tekton\.dev in namespace ci.*kept in the dead-letter queue/,
    queued: 1,
    end: /not retried, no retry will cure it: the bridge's role lacks RBAC/,
  },
  {
    name: '404 (Tekton not installed: no tekton.dev CRDs)',
    webhookEnv: () => ({ CLUSTER_ENDPOINT: bare.url, CLUSTER_CA: Buffer.from(bare.caPem).toString('base64') }),
    status: 503,
    outcome: 'failed',
    reason: /Tekton Pipelines is not installed/,
    queued: 1,
    retryEnv: () => ({ CLUSTER_ENDPOINT: bare.url, CLUSTER_CA: Buffer.from(bare.caPem).toString('base64') }),
    end: /Tekton Pipelines is not installed/,
  },
  {
    name: '409 AlreadyExists (a redelivery of a delivery already created)',
    arrange: async (_b, send) => {
      assert.equal((await send()).statusCode, 202);
    },
    status: 200,
    outcome: 'duplicate',
    queued: 0,
    end: 'created',
  },
  {
    name: '409 Conflict (not AlreadyExists)',
    arrange: (b) => b.api.injectFault({ kind: 'status', code: 409 }),
    status: 202,
    outcome: 'queued',
    reason: /conflict creating pipelineruns\.tekton\.dev/,
    queued: 1,
    end: 'created',
  },
  {
    name: '422 Invalid (an admission webhook refuses the object)',
    arrange: (b) => b.api.injectFault({ kind: 'status', code: 422 }),
    status: 503,
    outcome: 'failed',
    reason: /denied the request.*kept in the dead-letter queue/,
    queued: 1,
    end: /denied the request/,
  },
  {
    name: '429 Too Many Requests with Retry-After',
    arrange: (b) => b.api.injectFault({ kind: 'status', code: 429, retryAfterSeconds: 7 }),
    status: 202,
    outcome: 'queued',
    reason: /429 Too Many Requests; Retry-After: 7 s/,
    queued: 1,
    end: 'created',
  },
  { name: '500', arrange: (b) => b.api.injectFault({ kind: 'status', code: 500 }), status: 202, outcome: 'queued', reason: /500 Internal Server Error/, queued: 1, end: 'created' },
  { name: '503', arrange: (b) => b.api.injectFault({ kind: 'status', code: 503 }), status: 202, outcome: 'queued', reason: /503 Service Unavailable/, queued: 1, end: 'created' },
  { name: 'connection reset', arrange: (b) => b.api.injectFault({ kind: 'reset' }), status: 202, outcome: 'queued', reason: /could not reach|socket hang up|ECONNRESET/, queued: 1, end: 'created' },
  {
    name: `503 on every attempt: parked after ${HARNESS_MAX_ATTEMPTS} attempts`,
    arrange: (b) => b.api.injectFault(...Array.from({ length: HARNESS_MAX_ATTEMPTS }, () => ({ kind: 'status' as const, code: 503 as const }))),
    status: 202,
    outcome: 'queued',
    reason: /503/,
    queued: 1,
    end: new RegExp(`503 Service Unavailable.*gave up after ${HARNESS_MAX_ATTEMPTS} attempts`),
  },
];

describe('fault matrix: the built webhook and retry bundles against a failing cluster, SQS, Secrets Manager and EKS', { skip: skipWithout('moto_server') }, () => {
  let bridge: BridgeHarness;
  /** Every delivery a trigger matched, and how it must end. */
  const matched = new Map<string, 'created' | RegExp>();
  const allLines: string[] = [];

  before(async () => {
    [bridge, bare] = await Promise.all([
      startBridgeHarness(),
      startKubeApiServer({ apiVersions: [], eks: { clusterName: HARNESS_CLUSTER, region: 'us-east-1', credentials: HARNESS_CREDENTIALS } }),
    ]);
  });
  after(async () => {
    await Promise.all([bridge?.stop(), bare?.stop()]);
  });

  rows.forEach((row, index) => {
    it(`${row.name}: ${row.status} ${row.outcome}, then ${row.end === 'created' ? 'exactly one object' : 'a dead letter with the reason'}`, async () => {
      // Prepare
      const deliveryId = `fault-${String(index).padStart(2, '0')}-0000-4000-8000-000000000000`;
      const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId });
      const webhook = await bridge.coldWebhook(row.webhookEnv?.(bridge));
      const send = () => webhook(bridge.apiGatewayEvent(delivery));
      await captureLogs(async () => row.arrange?.(bridge, send));

      // Act
      const { result: answer, lines } = await captureLogs(send);
      allLines.push(...lines);
      const depthAfterAnswer = (await bridge.queueDepth()).total;
      const { lines: retryLines } = await captureLogs(async () => {
        await row.beforeDrain?.(bridge);
        const report = await bridge.drain(await bridge.coldRetry(row.retryEnv?.(bridge)));
        assert.ok(report.empty, `the retry queue was not drained: ${JSON.stringify(report)}`);
      });
      allLines.push(...retryLines);
      bridge.api.setForbidden(false);

      // Assess: the answer
      assert.equal(answer.statusCode, row.status, answer.body);
      const body = JSON.parse(answer.body as string);
      assert.equal(body.results[0].outcome, row.outcome, answer.body);
      if (row.reason) assert.match(body.results[0].reason, row.reason);
      assert.doesNotMatch(answer.body as string, /k8s-aws-v1|harness-webhook-secret|X-Amz-Signature/);
      // …what the queue held…
      assert.equal(depthAfterAnswer, row.queued, 'messages queued by the webhook');
      // …and how it ended.
      matched.set(deliveryId, row.end);
      const retried = retryLines.map((l) => JSON.parse(l)).filter((l) => l.deliveryId === deliveryId && l.message === 'pending creation retried');
      if (row.queued === 1 && row.end === 'created') {
        assert.deepEqual(retried.map((l) => l.outcome), [row.retried ?? 'created'], 'the retry function created it (or found it created)');
      }
      const settled = settledExactlyOnce(bridge, deliveryId);
      if (row.end === 'created') {
        assert.deepEqual({ objects: settled.objects, deadLetters: settled.deadLetters }, { objects: 1, deadLetters: 0 }, settled.reasons.join('\n'));
      } else {
        assert.deepEqual({ objects: settled.objects, deadLetters: settled.deadLetters }, { objects: 0, deadLetters: 1 });
        assert.match(settled.reasons[0] ?? '', row.end);
        const letter = bridge.deadLetters.find((d) => d.deliveryId === deliveryId);
        assert.equal(letter?.body.permanent, false, 'a redrive to the retry queue tries it again');
        assert.equal(letter?.body.trigger, 'default-branch', 'the dead letter names the trigger…');
        assert.equal(typeof letter?.body.params?.revision, 'string', '…and carries what renders its resources again');
        assert.equal(letter?.body.objects, undefined, 'never the objects themselves');
        const logged = retryLines.map((l) => JSON.parse(l)).find((l) => l.message === 'pending creation dead-lettered');
        assert.equal(logged?.deliveryId, deliveryId, 'the parking is logged with the delivery id');
        assert.match(logged?.reason ?? '', row.end);
      }
    });
  });

  it('DescribeCluster throttled: queued, then created once the lookup succeeds', async () => {
    // Prepare: no CLUSTER_ENDPOINT, so both functions describe the cluster (one signed GET each, through a front on
    // moto that answers with the test API's endpoint and CA, and is throttled first).
    await new EKSClient({ endpoint: bridge.moto.endpoint, ...MOTO_CLIENT_SETTINGS }).send(
      new CreateClusterCommand({ name: HARNESS_CLUSTER, roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: {} }),
    );
    const eks = await startEksFront({ upstream: bridge.moto.endpoint, serving: { endpoint: bridge.api.url, caPem: bridge.api.caPem } });
    eks.injectFault({ status: 429, type: 'ThrottlingException', message: 'Rate exceeded' });
    const noEndpoint = { CLUSTER_ENDPOINT: undefined, CLUSTER_CA: undefined, AWS_ENDPOINT_URL_EKS: eks.endpoint };
    const deliveryId = 'fault-describe-throttled-0000-000000000000';
    try {
      const webhook = await bridge.coldWebhook(noEndpoint);
      // Act
      const { result: answer } = await captureLogs(async () =>
        webhook(bridge.apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId }))),
      );
      await captureLogs(async () => bridge.drain(await bridge.coldRetry(noEndpoint)));
      // Assess
      assert.equal(answer.statusCode, 202, answer.body);
      const body = JSON.parse(answer.body as string);
      assert.equal(body.results[0].outcome, 'queued');
      assert.match(body.results[0].reason, /could not describe EKS cluster ci-cluster.*Rate exceeded/);
      matched.set(deliveryId, 'created');
      assert.deepEqual(settledExactlyOnce(bridge, deliveryId), { objects: 1, deadLetters: 0, reasons: [] });
      assert.deepEqual(eks.requests.map((r) => `${r.method} ${r.path}`), [`GET /clusters/${HARNESS_CLUSTER}`, `GET /clusters/${HARNESS_CLUSTER}`]);
    } finally {
      await eks.stop();
    }
  });

  it('token expiry mid-burst: 10 deliveries at once while the API refuses tokens, each created exactly once', async () => {
    // Prepare: a warm container, then the API starts refusing (some requests twice in a row, past the refresh).
    const webhook = await bridge.coldWebhook();
    bridge.api.requests.length = 0;
    const ids = Array.from({ length: 10 }, (_, i) => `fault-burst-${String(i).padStart(2, '0')}-4000-8000-000000000000`);
    const deliveries = await Promise.all(ids.map((deliveryId) => signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId })));
    bridge.api.injectFault(...Array.from({ length: 6 }, () => ({ kind: 'status' as const, code: 401 as const })));
    // Act
    const { result: answers } = await captureLogs(() => Promise.all(deliveries.map((d) => webhook(bridge.apiGatewayEvent(d)))));
    await captureLogs(async () => bridge.drain(await bridge.coldRetry()));
    // Assess
    for (const answer of answers) {
      assert.equal(answer.statusCode, 202, answer.body);
      assert.match(JSON.parse(answer.body as string).results[0].outcome, /^(created|queued)$/);
    }
    assert.equal(bridge.api.requests.filter((r) => r.status === 401).length, 6, 'every refused token was seen');
    for (const id of ids) {
      matched.set(id, 'created');
      assert.deepEqual(settledExactlyOnce(bridge, id), { objects: 1, deadLetters: 0, reasons: [] }, id);
    }
  });

  it('the queue cannot be written: 503 with both reasons, and the failure is logged as an error (the alarm rings)', async () => {
    // Prepare
    const webhook = await bridge.coldWebhook({ RETRY_QUEUE_URL: `${bridge.moto.endpoint}/123456789012/no-such-queue` });
    bridge.api.injectFault({ kind: 'status', code: 503 });
    const deliveryId = 'fault-no-queue-0000-4000-8000-000000000000';
    // Act
    const { result: answer, lines } = await captureLogs(async () =>
      webhook(bridge.apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId }))),
    );
    // Assess
    assert.equal(answer.statusCode, 503, answer.body);
    const result = JSON.parse(answer.body as string).results?.[0];
    assert.ok(result, answer.body);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason, /503 Service Unavailable.*it could not be queued either: the retry queue could not be written \(QueueDoesNotExist/);
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'delivery handled');
    assert.equal(logged?.level, 'ERROR');
    assert.equal(logged?.outcome, 'failed');
    assert.equal(typeof logged?.timings?.queueMs, 'number');
    assert.equal(bridge.objectsFor(deliveryId).length, 0);
  });

  it('SQS accepts the connection but never answers: the enqueue gives up within its budget, 503 with both reasons', async (t) => {
    // Prepare: a TCP server that takes connections and says nothing.
    const sockets: Socket[] = [];
    const blackhole = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      blackhole.close();
    });
    const webhook = await bridge.coldWebhook({ AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${(blackhole.address() as AddressInfo).port}` });
    bridge.api.injectFault({ kind: 'status', code: 503 });
    const deliveryId = 'fault-sqs-silent-0000-4000-8000-000000000000';
    // Act
    const started = performance.now();
    const { result: answer } = await captureLogs(async () =>
      webhook(bridge.apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId }))),
    );
    const tookMs = performance.now() - started;
    // Assess: two SDK attempts of 2 s each, well inside the function's 9 s and GitHub's 10 s.
    assert.equal(answer.statusCode, 503, answer.body);
    assert.match(JSON.parse(answer.body as string).results[0].reason, /it could not be queued either: the retry queue did not confirm in time \(TimeoutError.*\); a redelivery is safe/);
    assert.ok(tookMs < 6000, `took ${Math.round(tookMs)} ms`);
    assert.equal(bridge.objectsFor(deliveryId).length, 0);
  });

  // Last but one: it stops the Secrets Manager emulator.
  it('Secrets Manager unavailable: the cached secret serves past its TTL, then a clear 503; nothing is created without a verified signature', async (t) => {
    // Prepare: the clock is mocked (Date only) before the cold start, so the secret cache's TTL can be passed.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    t.after(() => mock.timers.reset());
    const webhook = await bridge.coldWebhook();
    const send = async (deliveryId: string) =>
      webhook(bridge.apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId })));
    const { result: warm } = await captureLogs(() => send('fault-sm-warm-0000-4000-8000-000000000000'));
    assert.equal(warm.statusCode, 202, warm.body);
    matched.set('fault-sm-warm-0000-4000-8000-000000000000', 'created');

    // Act: Secrets Manager goes away
    await bridge.secretsMoto.stop();
    const { result: cached } = await captureLogs(() => send('fault-sm-cached-0000-4000-8000-000000000000'));
    mock.timers.tick(6 * 60_000); // past the 5-minute TTL: the refresh fails, the stale secret still serves
    const { result: stale } = await captureLogs(() => send('fault-sm-stale-0000-4000-8000-000000000000'));
    mock.timers.tick(60 * 60_000); // past the hour a stale secret may serve
    const { result: gone, lines } = await captureLogs(() => send('fault-sm-gone-0000-4000-8000-000000000000'));
    // …and a fresh container has no cache at all.
    const coldWebhook = await bridge.coldWebhook();
    const { result: cold } = await captureLogs(async () =>
      coldWebhook(bridge.apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: HARNESS_SECRET, deliveryId: 'fault-sm-cold-0000-4000-8000-000000000000' }))),
    );

    // Assess
    assert.equal(cached.statusCode, 202, cached.body);
    assert.equal(stale.statusCode, 202, stale.body);
    matched.set('fault-sm-cached-0000-4000-8000-000000000000', 'created');
    matched.set('fault-sm-stale-0000-4000-8000-000000000000', 'created');
    for (const answer of [gone, cold]) {
      assert.equal(answer.statusCode, 503, answer.body);
      assert.equal(JSON.parse(answer.body as string).error, 'the webhook secret cannot be read right now; redeliver later');
    }
    assert.equal(bridge.objectsFor('fault-sm-gone-0000-4000-8000-000000000000').length, 0);
    assert.equal(bridge.objectsFor('fault-sm-cold-0000-4000-8000-000000000000').length, 0);
    const logged = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'webhook secret unavailable');
    assert.match(logged?.error ?? '', /could not read the webhook secret .* from Secrets Manager/);
    assert.equal((await bridge.queueDepth()).total, 0, 'an unverified delivery is never queued');
  });

  it('the sum: every matched delivery created exactly once, or in the dead-letter queue with its reason; the queue is empty', async () => {
    assert.ok(matched.size >= rows.length + 10, `${matched.size} deliveries`);
    for (const [deliveryId, end] of matched) {
      const settled = settledExactlyOnce(bridge, deliveryId);
      if (end === 'created') assert.deepEqual([deliveryId, settled.objects, settled.deadLetters], [deliveryId, 1, 0]);
      else assert.deepEqual([deliveryId, settled.objects, settled.deadLetters], [deliveryId, 0, 1]);
    }
    assert.equal(bridge.api.objects.length, [...matched.values()].filter((end) => end === 'created').length, 'no object for anything else');
    // Never two objects of one name, whatever the path.
    const names = bridge.api.objects.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    assert.equal(new Set(names).size, names.length);
    assert.equal((await bridge.queueDepth()).total, 0);
    // Nothing secret in any line either function logged.
    const everything = allLines.join('\n');
    assert.doesNotMatch(everything, /harness-webhook-secret|k8s-aws-v1\.|X-Amz-Signature|tekton-bridge-retry-test-secret-access-key/);
  });
});
