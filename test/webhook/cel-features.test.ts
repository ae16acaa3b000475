import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { build } from 'esbuild';
import { toEsbuildOptions } from '../../infra/function-bundling.ts';
import { writeFunctionAssets } from '../../infra/function-assets.ts';
import { coldStart } from '../support/built-bundle.ts';
import { signedDelivery } from '../support/deliveries.ts';
import { pushToDefaultBranch } from '../support/github-examples.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

const CLUSTER = 'ci-cluster';
const CREDENTIALS = { accessKeyId: 'AKIDTEKTONBRIDGETEST', secretAccessKey: 'tekton-bridge-test-secret-access-key' };
const recordedEvent = JSON.parse(readFileSync('test/fixtures/api-gateway/http-api-v2-event.json', 'utf8')) as APIGatewayProxyEventV2;

describe('a bundle whose config uses RE2, parseYAML and compareSecret', { timeout: 120_000 }, () => {
  // Outside the project, so nothing can be found in node_modules: the optional parts must come from their chunks.
  const dir = mkdtempSync(join(tmpdir(), 'tekton-bridge-cel-bundle-'));
  let moto: MotoServer;
  let api: KubeApiServer;
  let env: Record<string, string>;

  before(async () => {
    [moto, api] = await Promise.all([startMotoServer(), startKubeApiServer({ eks: { clusterName: CLUSTER, region: 'us-east-1', credentials: CREDENTIALS } })]);
    await build(toEsbuildOptions('functions/webhook.ts', dir));
    await writeFunctionAssets('test/fixtures/triggers/cel-features', join(dir, 'triggers.json'));
    const secrets = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
    const webhook = (await secrets.send(new CreateSecretCommand({ Name: 'webhook', SecretString: 'hook-secret' }))).ARN as string;
    const trigger = (await secrets.send(new CreateSecretCommand({ Name: 'trigger-secrets', SecretString: JSON.stringify({ 'deploy-token': { token: 'open-sesame' } }) }))).ARN as string;
    env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: moto.endpoint,
      CLUSTER_NAME: CLUSTER,
      CLUSTER_ENDPOINT: api.url,
      CLUSTER_CA: Buffer.from(api.caPem).toString('base64'),
      WEBHOOK_SECRET_ARN: webhook,
      TRIGGER_SECRETS_ARN: trigger,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
  });
  after(async () => {
    await Promise.all([moto?.stop(), api?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('ships the two chunks beside the bundle, and keeps both libraries out of index.mjs', () => {
    assert.deepEqual(readdirSync(dir).sort(), ['cel-re2.cjs', 'cel-yaml.cjs', 'github-client.cjs', 'index.mjs', 'index.mjs.map', 'triggers.json']);
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    assert.doesNotMatch(bundle, /RE2JSSyntaxException|YAMLParseError/);
    assert.match(readFileSync(join(dir, 'cel-re2.cjs'), 'utf8'), /RE2JSSyntaxException/);
  });

  it('creates the run when the token matches the trigger secret, and fails the trigger when it does not', async () => {
    // Prepare
    const { handler } = await coldStart<{ handler: Handler }>(pathToFileURL(join(dir, 'index.mjs')).href, env);
    const push = pushToDefaultBranch();
    push.repository.name = 'Shop_Manifests';
    const event = async (token: string, id: string): Promise<APIGatewayProxyEventV2> => {
      const delivery = await signedDelivery('push', push, { secret: 'hook-secret', deliveryId: id, headers: { 'x-deploy-token': token } });
      return { ...recordedEvent, headers: delivery.headers, body: delivery.body.toString('utf8'), isBase64Encoded: false };
    };
    // Act
    const created = await handler(await event('open-sesame', 'bbbbbbbb-0000-4000-8000-000000000001'));
    const refused = await handler(await event('guess', 'bbbbbbbb-0000-4000-8000-000000000002'));
    // Assess
    assert.equal(created.statusCode, 202, created.body);
    const params = (api.objects[0]?.spec as { params: { name: string; value: string }[] }).params;
    assert.deepEqual(Object.fromEntries(params.map((p) => [p.name, p.value])), { app: 'shop-manifests', replicas: '2' });
    assert.equal(refused.statusCode, 200, refused.body);
    assert.match(JSON.parse(refused.body as string).results[0].reason, /CEL filter is false/);
    assert.doesNotMatch(`${created.body}${refused.body}`, /open-sesame/);
  });
});
