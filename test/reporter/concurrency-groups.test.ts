import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createKubernetesClient } from '../../functions/adapters/kubernetes-api.ts';
import { buildBundle, coldStart } from '../support/built-bundle.ts';
import { captureLogs } from '../support/captured-logs.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { runningIn } from '../support/group-fixtures.ts';
import { phasesOf, tektonController } from '../support/tekton-controller.ts';
import { loopbackFunctionEnvironment, TEST_AWS_CREDENTIALS } from '../support/function-environment.ts';

type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
type ReporterHandler = (event: unknown, context?: { getRemainingTimeInMillis: () => number }) => Promise<APIGatewayProxyStructuredResultV2 & { groups?: number }>;

const TRIGGERS = 'test/fixtures/triggers/concurrency';
const CLUSTER = 'ci-cluster';
const CREDENTIALS = TEST_AWS_CREDENTIALS;
const GITHUB_TOKEN = 'ghp_concurrency_groups_test_token';
const OTHER_USER_TOKEN = 'someone-who-may-create-runs';
const WEBHOOK_SECRET = 'concurrency-webhook-secret';
const DETAILS = 'https://tekton.example.com/#/namespaces/{namespace}/{kind}s/{name}';
const recordedEvent = JSON.parse(readFileSync('test/fixtures/api-gateway/http-api-v2-event.json', 'utf8')) as APIGatewayProxyEventV2;
const SCHEDULE = { version: '0', id: 'c0ffee00-0000-4000-8000-000000000001', 'detail-type': 'Scheduled Event', source: 'aws.events', account: '123456789012', time: '2026-11-25T12:00:00Z', region: 'us-east-1', resources: [], detail: {} };
const lambdaContext = { getRemainingTimeInMillis: () => 55_000 };
const SECONDS_NOW = Math.floor(Date.now() / 1000);

function webhookEvent(delivery: { headers: Record<string, string>; body: Buffer }): APIGatewayProxyEventV2 {
  const { 'x-hub-signature': _sha1, ...headers } = recordedEvent.headers as Record<string, string>;
  return { ...recordedEvent, headers: { ...headers, ...delivery.headers }, body: delivery.body.toString('utf8'), isBase64Encoded: false };
}

/** Tekton's CloudEvent for a run (binary mode), as config-events sends it to POST /tekton/events. */
function runEvent(name: string, moment: string): APIGatewayProxyEventV2 {
  return {
    ...recordedEvent,
    routeKey: 'POST /tekton/events',
    rawPath: '/tekton/events',
    headers: {
      host: recordedEvent.headers.host as string,
      'content-type': 'application/json',
      'ce-specversion': '1.0',
      'ce-id': `${name}-${moment}`,
      'ce-source': `/apis///namespaces/ci//${name}`,
      'ce-type': `dev.tekton.event.pipelinerun.${moment}.v1`,
      'ce-subject': name,
    },
    requestContext: { ...recordedEvent.requestContext, routeKey: 'POST /tekton/events', http: { ...recordedEvent.requestContext.http, path: '/tekton/events' } },
    body: JSON.stringify({ pipelineRun: { metadata: { name, namespace: 'ci' } } }),
    isBase64Encoded: false,
  };
}

describe('concurrency groups through the built webhook and reporter bundles (moto_server, TLS Kubernetes API, GitHub API)', () => {
  let webhookBundle: { dir: string; url: string };
  let reporterBundle: { dir: string; url: string };
  let moto: MotoServer;
  let kube: KubeApiServer;
  let github: GithubApiServer;
  let tekton: ReturnType<typeof tektonController>;
  let env: Record<string, string | undefined>;
  let deliveries = 0;

  const webhook = async () => (await coldStart<{ handler: HttpHandler }>(webhookBundle.url, env)).handler;
  const reporter = async (extra: Record<string, string | undefined> = {}) => (await coldStart<{ handler: ReporterHandler }>(reporterBundle.url, { ...env, ...extra })).handler;
  /** A push to `branch` made `secondsAgo` seconds ago (its signed repository.pushed_at); answers with its run's name. */
  const push = async (handler: HttpHandler, branch: string, secondsAgo: number): Promise<string> => {
    deliveries += 1;
    const payload = pushToDefaultBranch();
    payload.ref = `refs/heads/${branch}`;
    payload.repository.pushed_at = SECONDS_NOW - secondsAgo;
    payload.after = payload.head_commit.id = (deliveries.toString(16).padStart(7, '0') + payload.after).slice(0, 40);
    const answer = await handler(webhookEvent(await signedDelivery('push', payload, { secret: WEBHOOK_SECRET, deliveryId: `groups-${deliveries}` })));
    assert.equal(answer.statusCode, 202, answer.body);
    const created = (JSON.parse(answer.body as string).results as Array<{ outcome: string; resources?: Array<{ name: string }> }>).find((r) => r.outcome === 'created');
    return created?.resources?.[0]?.name as string;
  };
  const group = (branch: string) => (run: { metadata: { annotations?: Record<string, string> } }) => run.metadata.annotations?.['tekton-bridge/concurrency-group'] === `Hello-World-refs/heads/${branch}`;
  const statusesOf = (name: string) => github.statuses.filter((s) => s.target_url?.endsWith(`/pipelineruns/${name}`)).map((s) => `${s.state}: ${s.description}`);

  before(async () => {
    [webhookBundle, reporterBundle, moto, kube, github] = await Promise.all([
      buildBundle('functions/webhook.ts', TRIGGERS),
      buildBundle('functions/reporter.ts', TRIGGERS),
      startMotoServer(),
      // Another user of the cluster, who may create runs in ci, holds the token.
      startKubeApiServer({ token: OTHER_USER_TOKEN, eks: { clusterName: CLUSTER, region: 'us-east-1', credentials: CREDENTIALS } }),
      startGithubApiServer({ token: GITHUB_TOKEN }),
    ]);
    tekton = tektonController(kube);
    const secrets = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
    const create = async (Name: string, SecretString: string) => (await secrets.send(new CreateSecretCommand({ Name, SecretString }))).ARN as string;
    env = {
      ...loopbackFunctionEnvironment({
        secretsManagerEndpoint: moto.endpoint,
        cluster: { name: CLUSTER, url: kube.url, caPem: kube.caPem },
        webhookSecretArn: await create('tekton-bridge/webhook', WEBHOOK_SECRET),
      }),
      GITHUB_CREDENTIALS_SECRET_ARN: await create('tekton-bridge/github-token', JSON.stringify({ token: GITHUB_TOKEN })),
      GITHUB_API_URL: github.url,
      DETAILS_URL_TEMPLATE: DETAILS,
      POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
    };
  });
  after(async () => {
    await Promise.all([moto?.stop(), kube?.stop(), github?.stop()]);
    for (const bundle of [webhookBundle, reporterBundle]) if (bundle) rmSync(bundle.dir, { recursive: true, force: true });
  });
  beforeEach(() => github.reset());

  it('cancel-in-progress: three pushes delivered out of order → the newest runs, the two older are cancelled, and GitHub is told why', async () => {
    // Prepare
    const handler = await webhook();
    const events = await reporter();

    // Act: the middle push arrives first, then the newest, then the oldest.
    const { result: names, entries } = await captureLogs(async () => {
      const middle = await push(handler, 'main', 20);
      tekton.reconcileAll();
      const newest = await push(handler, 'main', 10);
      const oldest = await push(handler, 'main', 30);
      return { middle, newest, oldest };
    });
    tekton.reconcileAll();
    for (const name of [names.middle, names.oldest]) await events(runEvent(name, 'failed'));

    // Assess
    assert.deepEqual(phasesOf(kube, group('main')), { [names.middle]: 'cancelled', [names.newest]: 'running', [names.oldest]: 'cancelled' });
    assert.equal((kube.find('ci', names.middle)?.spec as { status?: string }).status, 'CancelledRunFinally', 'the running one: finally tasks still run');
    assert.equal((kube.find('ci', names.oldest)?.spec as { status?: string }).status, 'Cancelled', 'the stale one never started');
    assert.equal(kube.find('ci', names.oldest)?.metadata.annotations?.['tekton-bridge/started'], undefined, 'the bridge never started it');
    const superseded = `superseded by a newer push in group Hello-World-refs/heads/main: PipelineRun ${names.newest}`;
    assert.equal(statusesOf(names.oldest).at(-1)?.startsWith(`error: Cancelled: ${superseded}`.slice(0, 140)), true, statusesOf(names.oldest).join('\n'));
    assert.equal(statusesOf(names.middle).at(-1)?.startsWith('error: Cancelled: superseded'), true, statusesOf(names.middle).join('\n'));
    const cancels = entries.filter((e) => e.message === 'run cancelled');
    assert.deepEqual(cancels.map((e) => e.run).sort(), [`PipelineRun ci/${names.middle}`, `PipelineRun ci/${names.oldest}`].sort());
    assert.equal(cancels[0]?.group, 'Hello-World-refs/heads/main');
    assert.match(cancels[0]?.reason, /^superseded by a newer push/);
    const metrics = entries.filter((e) => e._aws?.CloudWatchMetrics?.[0]?.Metrics?.some((m: { Name: string }) => m.Name === 'RunsCancelled'));
    assert.deepEqual(metrics.map((m) => m.RunsCancelled), [1, 1]);
  });

  it('max-running 1, five deliveries at once in five containers → one running, four queued; each finish starts the next in push order', async () => {
    // Prepare: five cold containers, five pushes made 50…10 seconds ago.
    const handlers = await Promise.all([1, 2, 3, 4, 5].map(() => webhook()));
    const events = await reporter();
    let most = 0;
    const stop = kube.onChange(() => (most = Math.max(most, runningIn(kube, 'Hello-World-refs/heads/queue').length)));

    // Act
    const names = await Promise.all(handlers.map((handler, i) => push(handler, 'queue', 50 - i * 10)));
    tekton.reconcileAll();
    const afterDeliveries = phasesOf(kube, group('queue'));
    const order: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const [current] = runningIn(kube, 'Hello-World-refs/heads/queue');
      if (!current) break;
      order.push(current.metadata.name);
      tekton.finish('ci', current.metadata.name);
      await events(runEvent(current.metadata.name, 'successful'));
      tekton.reconcileAll();
    }
    stop();

    // Assess
    assert.equal(most, 1, 'never two running');
    const phases = Object.values(afterDeliveries);
    assert.deepEqual([phases.filter((p) => p === 'running').length, phases.filter((p) => p === 'pending').length], [1, 4], JSON.stringify(afterDeliveries));
    assert.equal(order.length, 5, order.join(', '));
    const rest = order.slice(1);
    assert.deepEqual(rest, names.filter((n) => rest.includes(n)), 'after the first, the queue goes oldest push first');
    const queued = names.find((n) => n !== order[0]) as string;
    assert.match(statusesOf(queued)[0] ?? '', /^pending: Queued: max-running 1 reached in group Hello-World-refs\/heads\/queue; \w+ in line$/);
    assert.deepEqual(Object.values(phasesOf(kube, group('queue'))), ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
  });

  it('max-keep-runs 2 over ten runs → two finished runs left, each deleted only after GitHub heard its result', async () => {
    const handler = await webhook();
    const events = await reporter();

    for (let i = 0; i < 10; i += 1) {
      const name = await push(handler, 'keep', 100 - i);
      tekton.reconcileAll();
      tekton.finish('ci', name);
      await events(runEvent(name, 'successful'));
    }

    const left = kube.live().filter(group('keep'));
    assert.equal(left.length, 2, left.map((r) => r.metadata.name).join(', '));
    assert.deepEqual(left.map((r) => r.metadata.labels?.['tekton-bridge/report']), ['done', 'done']);
    assert.equal(github.statuses.filter((s) => s.state === 'success').length, 10, 'every run was reported before it was deleted');
  });

  it('a lost event: the every-minute schedule starts the next waiting run', async () => {
    const handler = await webhook();
    const first = await push(handler, 'queue', 8);
    const second = await push(handler, 'queue', 4);
    tekton.reconcileAll();
    const before = phasesOf(kube, (r) => [first, second].includes(r.metadata.name));
    tekton.finish('ci', first);
    // No CloudEvent arrives; the reporter runs on its schedule.
    const { result } = await captureLogs(async () => (await reporter())(SCHEDULE, lambdaContext));

    assert.deepEqual(before, { [first]: 'running', [second]: 'pending' });
    assert.ok((result.groups ?? 0) >= 1, JSON.stringify(result));
    assert.deepEqual(phasesOf(kube, (r) => [first, second].includes(r.metadata.name)), { [first]: 'succeeded', [second]: 'running' });
  });

  it('without GitHub credentials the reporter still runs the queues; a run whose signature does not verify is left alone with a reason', async () => {
    // Prepare: a run waiting in the queue group, forged by someone who may create runs: the bridge's labels and annotations, its signature altered.
    const handler = await webhook();
    const real = await push(handler, 'queue', 2);
    tekton.reconcileAll();
    const stored = kube.find('ci', real);
    assert.ok(stored);
    const { uid: _uid, resourceVersion: _rv, creationTimestamp: _ts, ...metadata } = stored.metadata;
    const forged = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { ...metadata, name: 'forged-run', annotations: { ...metadata.annotations, 'tekton-bridge/push-order': '2099-01-01T00:00:00.000Z -' } }, spec: { pipelineRef: { name: 'build-and-deploy' }, status: 'PipelineRunPending' } };
    const otherUser = createKubernetesClient({ server: kube.url, ca: kube.caPem, getToken: async () => OTHER_USER_TOKEN });
    assert.equal((await otherUser.create(forged)).outcome, 'created');
    const groupsOnly = await reporter({ GITHUB_CREDENTIALS_SECRET_ARN: undefined });

    // Act
    tekton.finish('ci', real);
    const calls = github.calls.length;
    const { result, entries } = await captureLogs(() => groupsOnly(SCHEDULE, lambdaContext));

    // Assess
    assert.ok((result.groups ?? 0) >= 1);
    assert.equal(phasesOf(kube, (r) => r.metadata.name === 'forged-run')['forged-run'], 'pending', 'never started');
    const ignored = entries.find((e) => e.message === 'run left alone by its concurrency group' && e.run === 'PipelineRun ci/forged-run');
    assert.match(ignored?.reason ?? '', /does not verify/);
    assert.equal(github.calls.length, calls, 'the reporter without credentials told GitHub nothing');
  });
});
