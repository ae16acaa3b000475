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
import { startGithubApiServer, type GithubApiServer } from '../support/github-api-server.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { FAILED, RUNNING, SUCCEEDED, TIMED_OUT } from '../support/report-fixtures.ts';
import { loopbackFunctionEnvironment, TEST_AWS_CREDENTIALS } from '../support/function-environment.ts';

type HttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
type ReporterHandler = (event: unknown, context?: { getRemainingTimeInMillis: () => number }) => Promise<APIGatewayProxyStructuredResultV2 & { listed?: number; reported?: number }>;

const CLUSTER = 'ci-cluster';
const CREDENTIALS = TEST_AWS_CREDENTIALS;
const GITHUB_TOKEN = 'ghp_reporter_bundle_test_token';
const DETAILS = 'https://tekton.example.com/#/namespaces/{namespace}/{kind}s/{name}';
const recordedEvent = JSON.parse(readFileSync('test/fixtures/api-gateway/http-api-v2-event.json', 'utf8')) as APIGatewayProxyEventV2;
const keys = githubAppKeyPair();

function webhookEvent(delivery: { headers: Record<string, string>; body: Buffer }): APIGatewayProxyEventV2 {
  const { 'x-hub-signature': _sha1, ...headers } = recordedEvent.headers as Record<string, string>;
  return { ...recordedEvent, headers: { ...headers, ...delivery.headers }, body: delivery.body.toString('utf8'), isBase64Encoded: false };
}

/** What API Gateway hands the reporter for Tekton's POST /tekton/events. */
function tektonEvent(headers: Record<string, string>, body: string): APIGatewayProxyEventV2 {
  return {
    ...recordedEvent,
    routeKey: 'POST /tekton/events',
    rawPath: '/tekton/events',
    headers: { host: recordedEvent.headers.host as string, 'user-agent': 'Go-http-client/1.1', ...headers },
    requestContext: { ...recordedEvent.requestContext, routeKey: 'POST /tekton/events', http: { ...recordedEvent.requestContext.http, path: '/tekton/events', userAgent: 'Go-http-client/1.1' } },
    body,
    isBase64Encoded: false,
  };
}

/** Tekton Pipelines' event for a run, in binary mode (ce-* headers) or structured mode (application/cloudevents+json). */
function runEvent(mode: 'binary' | 'structured', name: string, moment: string, namespace = 'ci'): APIGatewayProxyEventV2 {
  const attributes = {
    specversion: '1.0',
    id: `${name}-${moment}`,
    source: `/apis///namespaces/${namespace}//${name}`,
    type: `dev.tekton.event.pipelinerun.${moment}.v1`,
    subject: name,
  };
  const data = { pipelineRun: { apiVersion: 'tekton.dev/v1beta1', kind: 'PipelineRun', metadata: { name, namespace }, status: { conditions: [{ type: 'Succeeded', status: 'True' }] } } };
  if (mode === 'structured') return tektonEvent({ 'content-type': 'application/cloudevents+json' }, JSON.stringify({ ...attributes, datacontenttype: 'application/json', data }));
  const headers = Object.fromEntries(Object.entries(attributes).map(([key, value]) => [`ce-${key}`, value]));
  return tektonEvent({ ...headers, 'content-type': 'application/json' }, JSON.stringify(data));
}

const SCHEDULE = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-25T12:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/tekton-bridge-reconcile'],
  detail: {},
};
const lambdaContext = { getRemainingTimeInMillis: () => 55_000 };

describe('the built webhook and reporter bundles report runs to GitHub (moto_server, TLS Kubernetes API, GitHub API)', () => {
  let webhookBundle: { dir: string; url: string };
  let reporterBundle: { dir: string; url: string };
  let moto: MotoServer;
  let kube: KubeApiServer;
  let github: GithubApiServer;
  let secretArn: string;
  let tokenSecretArn: string;
  let appSecretArn: string;
  let emptySecretArn: string;
  let deliveries = 0;

  const lambdaEnv = (credentialsArn: string, extra: Record<string, string | undefined> = {}) => ({
    ...loopbackFunctionEnvironment({ secretsManagerEndpoint: moto.endpoint, cluster: { name: CLUSTER, url: kube.url, caPem: kube.caPem }, webhookSecretArn: secretArn }),
    GITHUB_CREDENTIALS_SECRET_ARN: credentialsArn,
    GITHUB_API_URL: github.url,
    DETAILS_URL_TEMPLATE: DETAILS,
    POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
    ...extra,
  });
  const start = async (credentialsArn: string, extra: Record<string, string | undefined> = {}) => ({
    webhook: (await coldStart<{ handler: HttpHandler }>(webhookBundle.url, lambdaEnv(credentialsArn, extra))).handler,
    reporter: (await coldStart<{ handler: ReporterHandler }>(reporterBundle.url, lambdaEnv(credentialsArn, extra))).handler,
  });
  /** A push whose run is created; answers with the run's name. */
  const push = async (webhook: HttpHandler, payload: Record<string, unknown> = pushToDefaultBranch()): Promise<{ name: string; answer: APIGatewayProxyStructuredResultV2 }> => {
    deliveries += 1;
    const delivery = await signedDelivery('push', payload, { secret: 'webhook-secret', deliveryId: `reporting-${deliveries}` });
    const answer = await webhook(webhookEvent(delivery));
    const body = JSON.parse(answer.body as string);
    return { name: body.results?.[0]?.resources?.[0]?.name, answer };
  };
  const statusesOf = (name: string) => github.statuses.filter((s) => s.target_url?.endsWith(`/pipelineruns/${name}`)).map((s) => s.state);
  const checkRunOf = (name: string) => github.checkRuns.find((c) => c.external_id === `ci/${name}`);

  before(async () => {
    [webhookBundle, reporterBundle, moto, kube, github] = await Promise.all([
      buildBundle('functions/webhook.ts'),
      buildBundle('functions/reporter.ts'),
      startMotoServer(),
      startKubeApiServer({ eks: { clusterName: CLUSTER, region: 'us-east-1', credentials: CREDENTIALS } }),
      startGithubApiServer({ token: GITHUB_TOKEN, app: { appId: '31337', publicKeyPem: keys.publicKeyPem, installations: [{ id: 9001 }] } }),
    ]);
    const secrets = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
    const create = async (Name: string, SecretString: string) => (await secrets.send(new CreateSecretCommand({ Name, SecretString }))).ARN as string;
    secretArn = await create('tekton-bridge/webhook', 'webhook-secret');
    tokenSecretArn = await create('tekton-bridge/github-token', JSON.stringify({ token: GITHUB_TOKEN }));
    appSecretArn = await create('tekton-bridge/github-app', JSON.stringify({ appId: '31337', privateKey: keys.privateKeyPem }));
    emptySecretArn = await create('tekton-bridge/github-empty', '{}');
  });
  after(async () => {
    await Promise.all([moto?.stop(), kube?.stop(), github?.stop()]);
    for (const bundle of [webhookBundle, reporterBundle]) if (bundle) rmSync(bundle.dir, { recursive: true, force: true });
  });
  beforeEach(() => github.reset());

  it('token mode: push → pending within the delivery; Succeeded=True and a binary-mode event → success; the same event again → no call', async () => {
    // Prepare
    const { webhook, reporter } = await start(tokenSecretArn);

    // Act
    const { result: pushed, lines } = await captureLogs(() => push(webhook));
    const pendingNow = statusesOf(pushed.name);
    kube.setStatus('ci', pushed.name, SUCCEEDED);
    const event = await reporter(runEvent('binary', pushed.name, 'successful'));
    const callsBefore = github.calls.length;
    const again = await reporter(runEvent('binary', pushed.name, 'successful'));

    // Assess
    assert.equal(pushed.answer.statusCode, 202, pushed.answer.body);
    assert.deepEqual(pendingNow, ['pending']);
    assert.equal(event.statusCode, 202, event.body);
    assert.equal(JSON.parse(event.body as string).outcome, 'reported');
    assert.deepEqual(statusesOf(pushed.name), ['pending', 'success']);
    const success = github.statuses.at(-1);
    assert.equal(success?.context, 'tekton-bridge/github-push/default-branch');
    assert.equal(success?.description, 'Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0');
    assert.equal(JSON.parse(again.body as string).outcome, 'unchanged');
    assert.equal(github.calls.length, callsBefore, 'the same state twice is one call');
    const reported = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'reported pending to GitHub');
    assert.ok(reported, lines.join('\n'));
    assert.equal(reported.run, `PipelineRun ci/${pushed.name}`);
    assert.equal(reported.deliveryId, `reporting-${deliveries}`);
    assert.doesNotMatch(lines.join('\n'), new RegExp(GITHUB_TOKEN));
  });

  it('a structured-mode event reports failure, and an event that claims more than the API says changes nothing', async () => {
    const { webhook, reporter } = await start(tokenSecretArn);
    const { name } = await push(webhook);
    kube.setStatus('ci', name, RUNNING);

    // The event says "successful"; the run says Running: the bridge reports what the API says.
    const forged = await reporter(runEvent('structured', name, 'successful'));
    kube.setStatus('ci', name, FAILED);
    const failed = await reporter(runEvent('structured', name, 'failed'));

    assert.equal(JSON.parse(forged.body as string).reports[0].state, 'running');
    assert.equal(failed.statusCode, 202);
    assert.deepEqual(statusesOf(name), ['pending', 'pending', 'failure']);
    assert.equal(kube.find('ci', name)?.metadata.labels?.['tekton-bridge/report'], 'done');
  });

  it('a run that failed with no event is reported by the schedule, a timed-out one as error', async () => {
    const { webhook, reporter } = await start(tokenSecretArn);
    const { name: failedRun } = await push(webhook);
    const { name: timedOut } = await push(webhook);
    kube.setStatus('ci', failedRun, FAILED);
    kube.setStatus('ci', timedOut, TIMED_OUT);

    const { result, lines } = await captureLogs(() => reporter(SCHEDULE, lambdaContext));
    const second = await reporter(SCHEDULE, lambdaContext);

    assert.ok((result.reported ?? 0) >= 2, JSON.stringify(result));
    assert.deepEqual(statusesOf(failedRun), ['pending', 'failure']);
    assert.deepEqual(statusesOf(timedOut), ['pending', 'error']);
    assert.equal(second.listed, 0, 'nothing open is left');
    const summary = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'reconciled');
    assert.deepEqual(summary?.namespaces, ['ci']);
  });

  it('GitHub down: the creation still answers 202, and the next schedule reports pending', async () => {
    const { webhook, reporter } = await start(tokenSecretArn);
    github.setDown(true);

    const { result: pushed, lines } = await captureLogs(() => push(webhook));
    const whileDown = statusesOf(pushed.name);
    github.setDown(false);
    await reporter(SCHEDULE, lambdaContext);

    assert.equal(pushed.answer.statusCode, 202, pushed.answer.body);
    assert.equal(JSON.parse(pushed.answer.body as string).results[0].outcome, 'created');
    assert.deepEqual(whileDown, []);
    assert.ok(lines.some((l) => JSON.parse(l).message.startsWith('report to GitHub failed')), lines.join('\n'));
    assert.deepEqual(statusesOf(pushed.name), ['pending']);
  });

  it('App mode: a check run queued within the delivery, completed on the event, with an installation token from a verified JWT', async () => {
    const { webhook, reporter } = await start(appSecretArn);
    const payload = { ...pushToDefaultBranch(), installation: { id: 9001, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uOTAwMQ==' } };

    const { name } = await push(webhook, payload);
    const queued = { ...checkRunOf(name) };
    kube.setStatus('ci', name, SUCCEEDED);
    await reporter(runEvent('binary', name, 'successful'));

    assert.equal(queued.status, 'queued');
    assert.equal(queued.name, 'tekton-bridge/github-push/default-branch');
    const done = checkRunOf(name);
    assert.equal(done?.id, queued.id, 'the same check run, updated');
    assert.equal(done?.status, 'completed');
    assert.equal(done?.conclusion, 'success');
    assert.equal(done?.details_url, `https://tekton.example.com/#/namespaces/ci/pipelineruns/${name}`);
    assert.equal(kube.find('ci', name)?.metadata.annotations?.['tekton-bridge/check-run-id'], String(queued.id));
    const tokenCalls = github.calls.filter((c) => c.path === '/app/installations/9001/access_tokens');
    assert.ok(tokenCalls.length >= 1 && tokenCalls.every((c) => c.auth === 'jwt' && c.status === 201), JSON.stringify(tokenCalls));
    assert.ok(github.calls.filter((c) => c.path.includes('/check-runs')).every((c) => c.auth === 'installation'));
  });

  it('/tekton/events: malformed → 400, not ours → 202 ignored with a reason, and nothing reaches GitHub', async () => {
    const { reporter } = await start(tokenSecretArn);
    const malformed = await reporter(tektonEvent({ 'content-type': 'application/cloudevents+json' }, '{"specversion":'));
    const otherNamespace = await reporter(runEvent('binary', 'build-x', 'successful', 'kube-system'));
    const customRun = await reporter(tektonEvent({ 'ce-specversion': '1.0', 'ce-id': '1', 'ce-source': '/x', 'ce-type': 'dev.tekton.event.customrun.started.v1' }, ''));
    const unknownRun = await reporter(runEvent('binary', 'never-created', 'failed'));
    const wrongRoute = await reporter({ ...tektonEvent({}, ''), rawPath: '/tekton/other' });

    assert.equal(malformed.statusCode, 400);
    assert.match(JSON.parse(malformed.body as string).error, /not valid JSON/);
    for (const answer of [otherNamespace, customRun]) {
      assert.equal(answer.statusCode, 202);
      assert.equal(JSON.parse(answer.body as string).outcome, 'ignored');
      assert.ok(JSON.parse(answer.body as string).reason);
    }
    assert.equal(JSON.parse(unknownRun.body as string).outcome, 'gone');
    assert.equal(wrongRoute.statusCode, 404);
    assert.equal(github.calls.length, 0);
  });

  it('credentials not filled in yet: deliveries are answered as before and nothing is reported', async () => {
    const { webhook, reporter } = await start(emptySecretArn);
    const { answer } = await push(webhook);
    const scheduled = await reporter(SCHEDULE, lambdaContext);
    assert.equal(answer.statusCode, 202);
    assert.equal(scheduled.reported, 0);
    assert.equal(github.calls.length, 0);
  });

  it('refuses to start without WEBHOOK_SECRET_ARN (run signatures are checked with it), or with a details template it cannot fill', async () => {
    await assert.rejects(coldStart(reporterBundle.url, lambdaEnv(tokenSecretArn, { WEBHOOK_SECRET_ARN: undefined })), /WEBHOOK_SECRET_ARN is not set/);
    await assert.rejects(coldStart(reporterBundle.url, lambdaEnv(tokenSecretArn, { DETAILS_URL_TEMPLATE: 'https://x/{run}' })), /DETAILS_URL_TEMPLATE has the unknown placeholder \{run\}/);
  });
});
