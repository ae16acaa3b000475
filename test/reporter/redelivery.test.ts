import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { buildBundle, coldStart } from '../support/built-bundle.ts';
import { captureLogs } from '../support/captured-logs.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { githubAppKeyPair } from '../support/github-app-key.ts';
import { hookKey, startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { loopbackFunctionEnvironment, TEST_AWS_CREDENTIALS } from '../support/function-environment.ts';

type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
type Redelivery = { off?: string; listed?: number; calls?: number; undelivered?: number; redelivered?: number; failed?: number; left?: number; capped?: number; waiting?: number; problems?: string[] };
type ReporterHandler = (event: unknown, context?: { getRemainingTimeInMillis: () => number }) => Promise<{ redelivery: Redelivery }>;

const CLUSTER = 'ci-cluster';
const CREDENTIALS = TEST_AWS_CREDENTIALS;
const GITHUB_TOKEN = 'ghp_redelivery_bundle_test_token';
const HOUR = 3_600_000;
const SHOP = hookKey('octo-org/shop', 11);
const recordedEvent = JSON.parse(readFileSync('test/fixtures/api-gateway/http-api-v2-event.json', 'utf8')) as APIGatewayProxyEventV2;
const keys = githubAppKeyPair();
const SCHEDULE = { version: '0', id: 'c0ffee00-0000-4000-8000-000000000001', 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-12-02T12:00:00Z', region: 'us-east-1', resources: [], detail: {} };
const lambdaContext = { getRemainingTimeInMillis: () => 55_000 };

describe('the built reporter bundle redelivers what failed (GitHub API test server, moto_server, TLS Kubernetes API)', () => {
  let reporterBundle: { dir: string; url: string };
  let webhookBundle: { dir: string; url: string };
  let moto: MotoServer;
  let kube: KubeApiServer;
  let github: GithubApiServer;
  let webhookSecretArn: string;
  let tokenSecretArn: string;
  let appSecretArn: string;
  /** The payload GitHub would send again, by event GUID. */
  const payloads = new Map<string, Record<string, unknown>>();

  const env = (credentialsArn: string, extra: Record<string, string | undefined> = {}) => ({
    ...loopbackFunctionEnvironment({ secretsManagerEndpoint: moto.endpoint, cluster: { name: CLUSTER, url: kube.url, caPem: kube.caPem }, webhookSecretArn: webhookSecretArn }),
    GITHUB_CREDENTIALS_SECRET_ARN: credentialsArn,
    GITHUB_API_URL: github.url,
    POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
    REDELIVER_HOOKS: 'octo-org/shop/11',
    REDELIVER_WINDOW_HOURS: undefined,
    REDELIVER_MAX_ATTEMPTS: undefined,
    REDELIVER_MAX_CALLS: undefined,
    ...extra,
  });
  const reporter = async (credentialsArn: string, extra: Record<string, string | undefined> = {}) =>
    (await coldStart<{ handler: ReporterHandler }>(reporterBundle.url, env(credentialsArn, extra))).handler;
  /** GitHub redelivers by posting the event again: here to the built webhook bundle, whose answer is recorded. */
  const deliverToWebhook = async (): Promise<void> => {
    const webhook = (await coldStart<{ handler: HttpHandler }>(webhookBundle.url, env(tokenSecretArn, { GITHUB_CREDENTIALS_SECRET_ARN: undefined }))).handler;
    github.onRedeliver(async (original) => {
      const delivery = await signedDelivery(original.event, payloads.get(original.guid), { secret: 'webhook-secret', deliveryId: original.guid });
      const answer = await webhook({ ...recordedEvent, headers: delivery.headers, body: delivery.body.toString('utf8'), isBase64Encoded: false });
      return { statusCode: answer.statusCode ?? 500 };
    });
  };
  const failedPush = (guid: string, ago: number, statusCode = 503) => {
    payloads.set(guid, pushToDefaultBranch());
    return { guid, deliveredAt: Date.now() - ago, statusCode };
  };

  before(async () => {
    [reporterBundle, webhookBundle, moto, kube, github] = await Promise.all([
      buildBundle('functions/reporter.ts'),
      buildBundle('functions/webhook.ts'),
      startMotoServer(),
      startKubeApiServer({ eks: { clusterName: CLUSTER, region: 'us-east-1', credentials: CREDENTIALS } }),
      startGithubApiServer({ token: GITHUB_TOKEN, app: { appId: '4242', publicKeyPem: keys.publicKeyPem, installations: [{ id: 9001 }] } }),
    ]);
    const secrets = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
    const create = async (Name: string, SecretString: string) => (await secrets.send(new CreateSecretCommand({ Name, SecretString }))).ARN as string;
    webhookSecretArn = await create('tekton-bridge/webhook', 'webhook-secret');
    tokenSecretArn = await create('tekton-bridge/github-token', JSON.stringify({ token: GITHUB_TOKEN }));
    appSecretArn = await create('tekton-bridge/github-app', JSON.stringify({ appId: '4242', privateKey: keys.privateKeyPem }));
  });
  after(async () => {
    await Promise.all([moto?.stop(), kube?.stop(), github?.stop()]);
    for (const bundle of [reporterBundle, webhookBundle]) if (bundle) rmSync(bundle.dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    github.reset();
    kube.objects.length = 0;
  });

  it('redelivers exactly the events that never got a 2xx, over two pages; the redelivery creates the run; a second pass redelivers nothing new', async () => {
    // Prepare
    const handler = await reporter(tokenSecretArn);
    await deliverToWebhook();
    github.addDeliveries(
      SHOP,
      { ...failedPush('older-than-the-window', 30 * HOUR) },
      { ...failedPush('answered-503', 5 * HOUR) },
      { guid: 'later-succeeded', deliveredAt: Date.now() - 4 * HOUR, statusCode: 503 },
      { guid: 'later-succeeded', deliveredAt: Date.now() - 4 * HOUR + 60_000, statusCode: 202, redelivery: true },
      { guid: 'delivered', deliveredAt: Date.now() - 3 * HOUR, statusCode: 202 },
      { ...failedPush('timed-out', 2 * HOUR, 0) },
      { guid: 'at-the-cap', deliveredAt: Date.now() - 2 * HOUR, statusCode: 503 },
      ...[1, 2, 3].map((n) => ({ guid: 'at-the-cap', deliveredAt: Date.now() - 2 * HOUR + n * 600_000, statusCode: 502, redelivery: true })),
      { guid: 'failed-just-now', deliveredAt: Date.now() - 10_000, statusCode: 503 },
      // A busy hour in front of them: the failed events are on the second page of 100.
      ...Array.from({ length: 150 }, (_, i) => ({ guid: `busy-${i}`, deliveredAt: Date.now() - HOUR - i * 1000, statusCode: 202 })),
    );

    // Act
    const { result: first, entries } = await captureLogs(() => handler(SCHEDULE, lambdaContext));
    const listings = github.calls.filter((c) => c.method === 'GET' && c.path.endsWith('/deliveries')).map((c) => c.query.cursor ?? 'first');
    const second = await handler(SCHEDULE, lambdaContext);

    // Assess
    assert.deepEqual(github.redeliveries.map((r) => r.guid), ['answered-503', 'timed-out']);
    assert.equal(listings.length, 2, 'the second page, by the Link cursor, reaches back past the window start');
    assert.match(listings[1] ?? '', /^v1_\d+$/);
    assert.deepEqual(github.redeliveries.map((r) => r.attempt.status_code), [202, 202], 'the redeliveries reached the webhook, which created their runs');
    assert.equal(kube.objects.length, 2);
    assert.deepEqual(
      kube.objects.map((o) => o.metadata.labels?.['triggers.tekton.dev/triggers-eventid']).sort(),
      ['answered-503', 'timed-out'],
    );
    assert.deepEqual({ redelivered: first.redelivery.redelivered, capped: first.redelivery.capped, waiting: first.redelivery.waiting, undelivered: first.redelivery.undelivered }, { redelivered: 2, capped: 1, waiting: 1, undelivered: 4 });
    const lines = entries.filter((e) => e.message === 'asked GitHub to redeliver a failed delivery');
    assert.deepEqual(lines.map((l) => [l.deliveryId, l.hook, l.attempt, l.maxAttempts, l.lastStatusCode]), [['answered-503', 'octo-org/shop/11', 1, 3, 503], ['timed-out', 'octo-org/shop/11', 1, 3, 0]]);
    const metrics = entries.find((e) => e._aws?.CloudWatchMetrics?.[0]?.Metrics?.some((m: { Name: string }) => m.Name === 'Redelivered'));
    assert.equal(metrics?.Redelivered, 2);
    assert.equal(second.redelivery.redelivered, 0, 'both redeliveries got a 2xx: nothing is due');
    assert.equal(github.redeliveries.length, 2);
    assert.ok(github.calls.every((c) => c.auth === 'token'));
    assert.deepEqual(github.schemaViolations, []);
    assert.doesNotMatch(JSON.stringify(entries), new RegExp(GITHUB_TOKEN));
  });

  it('the cap counts the redeliveries GitHub lists, whoever asked for them (REDELIVER_MAX_ATTEMPTS=1)', async () => {
    const handler = await reporter(tokenSecretArn, { REDELIVER_MAX_ATTEMPTS: '1' });
    github.onRedeliver(() => ({ statusCode: 503 }));
    github.addDeliveries(SHOP, { guid: 'once', deliveredAt: Date.now() - 3 * HOUR, statusCode: 503 }, { guid: 'pressed-by-a-person', deliveredAt: Date.now() - 3 * HOUR, statusCode: 503 });
    github.addDeliveries(SHOP, { guid: 'pressed-by-a-person', deliveredAt: Date.now() - 2 * HOUR, statusCode: 500, redelivery: true });

    const first = await handler(SCHEDULE, lambdaContext);
    const second = await handler(SCHEDULE, lambdaContext);

    assert.deepEqual(github.redeliveries.map((r) => r.guid), ['once']);
    assert.equal(first.redelivery.capped, 1);
    assert.equal(second.redelivery.redelivered, 0);
    assert.equal(second.redelivery.capped, 2, 'the failed redelivery is counted: capped');
  });

  it('keeps to REDELIVER_MAX_CALLS: one page listed, then redeliveries oldest first; the rest is logged and counted as left', async () => {
    const handler = await reporter(tokenSecretArn, { REDELIVER_MAX_CALLS: '3' });
    for (let i = 0; i < 5; i += 1) github.addDeliveries(SHOP, { guid: `failed-${i}`, deliveredAt: Date.now() - (10 - i) * HOUR, statusCode: 502 });

    const { result, entries } = await captureLogs(() => handler(SCHEDULE, lambdaContext));

    assert.equal(github.calls.filter((c) => c.path.includes('/hooks/')).length, 3);
    assert.deepEqual(github.redeliveries.map((r) => r.guid), ['failed-0', 'failed-1']);
    assert.equal(result.redelivery.left, 3);
    assert.deepEqual(entries.filter((e) => e.message === 'redelivery left for the next pass').map((e) => e.deliveryId), ['failed-2', 'failed-3', 'failed-4']);
    assert.equal(entries.find((e) => e.message === 'redelivery pass')?.left, 3);
  });

  it("App mode with no REDELIVER_HOOKS: the App's own webhook, with its JWT", async () => {
    const handler = await reporter(appSecretArn, { REDELIVER_HOOKS: undefined });
    github.addDeliveries('app', { guid: 'app-failed', deliveredAt: Date.now() - HOUR, statusCode: 504 });

    const result = await handler(SCHEDULE, lambdaContext);

    assert.equal(result.redelivery.redelivered, 1);
    assert.deepEqual(github.redeliveries.map((r) => [r.hook, r.guid]), [['app', 'app-failed']]);
    assert.ok(github.calls.filter((c) => c.path.startsWith('/app/hook')).every((c) => c.auth === 'jwt'));
  });

  it('token mode with no REDELIVER_HOOKS: redelivery is off, and says why', async () => {
    const handler = await reporter(tokenSecretArn, { REDELIVER_HOOKS: undefined });
    const result = await handler(SCHEDULE, lambdaContext);
    assert.match(result.redelivery.off ?? '', /name them in REDELIVER_HOOKS/);
    assert.equal(github.calls.filter((c) => c.path.includes('deliveries')).length, 0);
  });

  it('a REDELIVER_HOOKS it cannot read fails the cold start, naming it', async () => {
    await assert.rejects(coldStart(reporterBundle.url, env(tokenSecretArn, { REDELIVER_HOOKS: 'octo-org/shop' })), /REDELIVER_HOOKS: "octo-org\/shop" is not owner\/repo\/hookId/);
    await assert.rejects(coldStart(reporterBundle.url, env(tokenSecretArn, { REDELIVER_WINDOW_HOURS: '100' })), /REDELIVER_WINDOW_HOURS must be a whole number from 1 to 72/);
  });
});
