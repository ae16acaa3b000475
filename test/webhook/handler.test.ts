import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { buildBundle, coldStart } from '../support/built-bundle.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch, tagPush } from '../support/github-examples.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { startBridge } from '../../functions/cli/serve.ts';
import { skipWithout } from '../support/command-on-path.ts';
import { loopbackFunctionEnvironment, TEST_AWS_CREDENTIALS } from '../support/function-environment.ts';

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const CLUSTER = 'ci-cluster';
const CREDENTIALS = TEST_AWS_CREDENTIALS;
const recordedEvent = JSON.parse(readFileSync('test/fixtures/api-gateway/http-api-v2-event.json', 'utf8')) as APIGatewayProxyEventV2;

/** A recorded HTTP API v2 event carrying a GitHub delivery, its body plain or base64 as API Gateway sends it. */
function apiGatewayEvent(delivery: { headers: Record<string, string>; body: Buffer }, base64 = false): APIGatewayProxyEventV2 {
  return {
    ...recordedEvent,
    headers: { ...withoutSha1(recordedEvent.headers), ...delivery.headers, 'content-length': String(delivery.body.length) },
    body: base64 ? delivery.body.toString('base64') : delivery.body.toString('utf8'),
    isBase64Encoded: base64,
  };
}

function withoutSha1(headers: APIGatewayProxyEventV2['headers']): Record<string, string> {
  const { 'x-hub-signature': _sha1, ...rest } = headers as Record<string, string>;
  return rest;
}

/** Captures what the function writes to stdout (its log lines) while `run` runs. */
async function captureLogs<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    // node:test's own reporter shares stdout; keep the function's JSON lines.
    lines.push(...String(chunk).split('\n').filter((line) => line.startsWith('{')));
    return true;
  }) as typeof process.stdout.write;
  try {
    return { result: await run(), lines };
  } finally {
    process.stdout.write = write;
  }
}

describe('the built webhook bundle, against moto_server and a TLS Kubernetes API', { skip: skipWithout('moto_server') }, () => {
  let bundle: { dir: string; url: string };
  let moto: MotoServer;
  let api: KubeApiServer;
  let secretArn: string;
  let secrets: SecretsManagerClient;

  const lambdaEnv = (extra: Record<string, string | undefined> = {}): Record<string, string | undefined> => ({
    ...loopbackFunctionEnvironment({ secretsManagerEndpoint: moto.endpoint, cluster: { name: CLUSTER, url: api.url, caPem: api.caPem }, webhookSecretArn: secretArn }),
    AWS_ENDPOINT_URL_EKS: moto.endpoint,
    POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
    ...extra,
  });

  before(async () => {
    [bundle, moto, api] = await Promise.all([
      buildBundle('functions/webhook.ts'),
      startMotoServer(),
      startKubeApiServer({ eks: { clusterName: CLUSTER, region: 'us-east-1', credentials: CREDENTIALS } }),
    ]);
    secrets = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
    secretArn = (await secrets.send(new CreateSecretCommand({ Name: 'tekton-bridge/webhook', SecretString: 'first-secret' }))).ARN as string;
  });
  after(async () => {
    await Promise.all([moto?.stop(), api?.stop()]);
    if (bundle) rmSync(bundle.dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    api.objects.length = 0;
    api.requests.length = 0;
    api.setForbidden(false);
  });

  it('creates the PipelineRun with an EKS token, the cluster CA, the right path, body, name and labels; a redelivery is a duplicate', async () => {
    // Prepare
    const { handler } = await coldStart<{ handler: Handler }>(bundle.url, lambdaEnv());
    const push = pushToDefaultBranch();
    const delivery = await signedDelivery('push', push, { secret: 'first-secret', deliveryId: 'aaaaaaaa-0000-4000-8000-000000000001' });

    // Act
    const { result: first, lines } = await captureLogs(() => handler(apiGatewayEvent(delivery, true)));
    const again = await handler(apiGatewayEvent(delivery));

    // Assess
    assert.equal(first.statusCode, 202, first.body);
    const body = JSON.parse(first.body as string);
    assert.equal(body.results[0].outcome, 'created');
    assert.equal(api.objects.length, 1);
    const [object] = api.objects;
    assert.equal(object?.metadata.name, body.results[0].resources[0].name);
    assert.equal(object?.metadata.labels?.['triggers.tekton.dev/triggers-eventid'], 'aaaaaaaa-0000-4000-8000-000000000001');
    const create = api.requests.find((r) => r.method === 'POST');
    assert.equal(create?.path, '/apis/tekton.dev/v1/namespaces/ci/pipelineruns');
    assert.match(create?.user ?? '', new RegExp(CREDENTIALS.accessKeyId));
    assert.equal(create?.authError, undefined);
    assert.equal(again.statusCode, 200);
    assert.equal(JSON.parse(again.body as string).results[0].outcome, 'duplicate');

    const logLine = lines.map((l) => JSON.parse(l)).find((l) => l.message === 'delivery handled');
    assert.ok(logLine, lines.join('\n'));
    assert.equal(logLine.deliveryId, 'aaaaaaaa-0000-4000-8000-000000000001');
    assert.equal(logLine.repository, push.repository.full_name);
    assert.equal(logLine.cluster, CLUSTER);
    assert.equal(logLine.outcome, 'created');
    assert.deepEqual(logLine.results.map((r: { trigger: string; outcome: string }) => [r.trigger, r.outcome]), [['default-branch', 'created']]);
    assert.ok(logLine.results[0].durationMs > 0, 'per-trigger duration');
    for (const key of ['secretMs', 'lookupMs', 'tokenMs', 'apiMs', 'verifyMs']) assert.equal(typeof logLine.timings[key], 'number', key);
    const everything = lines.join('\n');
    assert.doesNotMatch(everything, /first-secret|k8s-aws-v1\.|X-Amz-Signature|Initial commit/);
  });

  const failures: { name: string; arrange: () => void; reason: RegExp; server?: () => Promise<KubeApiServer> }[] = [
    { name: '403 → RBAC', arrange: () => api.setForbidden(true), reason: /lacks RBAC: create pipelineruns\.tekton\.dev in namespace ci/ },
    { name: '500', arrange: () => api.injectFault({ kind: 'status', code: 500 }), reason: /500/ },
    { name: '503', arrange: () => api.injectFault({ kind: 'status', code: 503 }), reason: /503/ },
    { name: '429 with Retry-After', arrange: () => api.injectFault({ kind: 'status', code: 429, retryAfterSeconds: 7 }), reason: /429.*7/ },
    { name: 'connection reset', arrange: () => api.injectFault({ kind: 'reset' }), reason: /.+/ },
  ];
  for (const { name, arrange, reason } of failures) {
    it(`answers 503 with a clear reason and creates nothing on ${name}`, async () => {
      const { handler } = await coldStart<{ handler: Handler }>(bundle.url, lambdaEnv());
      arrange();
      const result = await handler(apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: 'first-secret', deliveryId: `fail-${name.length}` })));
      assert.equal(result.statusCode, 503, result.body);
      const answer = JSON.parse(result.body as string);
      assert.equal(answer.results[0].outcome, 'failed');
      assert.match(answer.results[0].reason, reason);
      assert.doesNotMatch(result.body as string, /k8s-aws-v1|first-secret/);
      assert.equal(api.objects.length, 0);
    });
  }

  it('refreshes the token once after a 401 and creates', async () => {
    const { handler } = await coldStart<{ handler: Handler }>(bundle.url, lambdaEnv());
    api.injectFault({ kind: 'status', code: 401 });
    const result = await handler(apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: 'first-secret', deliveryId: 'retry-401' })));
    assert.equal(result.statusCode, 202, result.body);
    assert.equal(api.objects.length, 1);
  });

  it('says Tekton is not installed when the API has no tekton.dev resources', async () => {
    const bare = await startKubeApiServer({ apiVersions: [], eks: { clusterName: CLUSTER, region: 'us-east-1', credentials: CREDENTIALS } });
    try {
      const { handler } = await coldStart<{ handler: Handler }>(bundle.url, lambdaEnv({ CLUSTER_ENDPOINT: bare.url, CLUSTER_CA: Buffer.from(bare.caPem).toString('base64') }));
      const result = await handler(apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: 'first-secret' })));
      assert.equal(result.statusCode, 503);
      assert.match(JSON.parse(result.body as string).results[0].reason, /Tekton Pipelines is not installed/);
    } finally {
      await bare.stop();
    }
  });

  it('looks the cluster up with eks:DescribeCluster when no endpoint is configured', async () => {
    const eks = new EKSClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
    const cluster = await eks.send(new CreateClusterCommand({ name: 'looked-up', roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: {} }));
    const { handler } = await coldStart<{ handler: Handler }>(bundle.url, lambdaEnv({ CLUSTER_NAME: 'looked-up', CLUSTER_ENDPOINT: undefined, CLUSTER_CA: undefined }));
    const result = await handler(apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: 'first-secret' })));
    // moto's endpoint is not a real host: the lookup succeeded when the failure names it.
    const host = new URL(cluster.cluster?.endpoint as string).host;
    assert.equal(result.statusCode, 503, result.body);
    assert.ok((result.body as string).includes(host) || /not reach|ENOTFOUND|EAI_AGAIN|connect/i.test(result.body as string), result.body);
    const missing = await coldStart<{ handler: Handler }>(bundle.url, lambdaEnv({ CLUSTER_NAME: 'no-such-cluster', CLUSTER_ENDPOINT: undefined, CLUSTER_CA: undefined }));
    const notFound = await missing.handler(apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: 'first-secret' })));
    assert.equal(notFound.statusCode, 503);
    assert.match(notFound.body as string, /no-such-cluster/);
  });

  it('rejects a wrong signature with 401 without touching the cluster, and skips a tag push with 200', async () => {
    const { handler } = await coldStart<{ handler: Handler }>(bundle.url, lambdaEnv());
    const wrong = await handler(apiGatewayEvent(await signedDelivery('push', pushToDefaultBranch(), { secret: 'not-the-secret' })));
    assert.equal(wrong.statusCode, 401);
    const skipped = await handler(apiGatewayEvent(await signedDelivery('push', tagPush(), { secret: 'first-secret' })));
    assert.equal(skipped.statusCode, 200);
    assert.equal(api.requests.length, 0);
  });

  it('accepts the old and the new secret after a rotation (AWSPREVIOUS and AWSCURRENT)', async () => {
    await secrets.send(new PutSecretValueCommand({ SecretId: secretArn, SecretString: 'second-secret' }));
    const { handler } = await coldStart<{ handler: Handler }>(bundle.url, lambdaEnv());
    for (const secret of ['first-secret', 'second-secret']) {
      const result = await handler(apiGatewayEvent(await signedDelivery('push', tagPush(), { secret })));
      assert.equal(result.statusCode, 200, `${secret}: ${result.body}`);
    }
    assert.equal((await handler(apiGatewayEvent(await signedDelivery('push', tagPush(), { secret: 'third-secret' })))).statusCode, 401);
  });

  it('gives the same answer as serve for the same delivery (one core)', async () => {
    const { handler } = await coldStart<{ handler: Handler }>(bundle.url, lambdaEnv());
    const delivery = await signedDelivery('push', pushToDefaultBranch(), { secret: 'second-secret', deliveryId: 'same-answer-1' });
    const lambda = await handler(apiGatewayEvent(delivery));
    const local = await startKubeApiServer({ token: 't' });
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-same-'));
    writeFileSync(join(dir, 'config'), JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: local.url, 'certificate-authority-data': Buffer.from(local.caPem).toString('base64') } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
    }));
    const bridge = await startBridge({ port: 0, host: '127.0.0.1', triggersDir: 'triggers', secret: 'second-secret', dryRun: false, kubeconfig: join(dir, 'config') }, { stdout: () => {}, stderr: () => {}, env: {} });
    try {
      const served = await fetch(bridge.url, { method: 'POST', headers: delivery.headers, body: delivery.body });
      assert.equal(served.status, lambda.statusCode);
      assert.deepEqual(await served.json(), JSON.parse(lambda.body as string));
    } finally {
      await bridge.close();
      await local.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails the cold start naming a missing variable', async () => {
    await assert.rejects(coldStart(bundle.url, lambdaEnv({ WEBHOOK_SECRET_ARN: undefined })), /WEBHOOK_SECRET_ARN is not set/);
    await assert.rejects(coldStart(bundle.url, lambdaEnv({ CLUSTER_CA: undefined })), /CLUSTER_ENDPOINT and CLUSTER_CA go together/);
  });
});
