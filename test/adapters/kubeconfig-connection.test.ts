import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeconfigError } from '../../functions/adapters/adapter-errors.ts';
import { connectionFromKubeconfig, findKubeconfig } from '../../functions/adapters/kubeconfig-connection.ts';
import { createResourceCreator } from '../../functions/adapters/kubernetes-api.ts';
import type { KubernetesObject } from '../../functions/core/delivery-types.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';
import { skipWithout } from '../support/command-on-path.ts';

const TOKEN = 'kubeconfig-test-token';
const AWS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'kubeconfig/test+secret' };
const TOKEN_COMMAND = fileURLToPath(new URL('../../functions/cli/token.ts', import.meta.url));

const withoutAwsCli = skipWithout('aws');

function pipelineRun(name: string): KubernetesObject {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name, namespace: 'ci', labels: { 'triggers.tekton.dev/trigger': 'main-branch' } },
    spec: { pipelineRef: { name: 'build' } },
  };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('connectionFromKubeconfig against the Kubernetes API test server', { timeout: 60_000 }, () => {
  let api: KubeApiServer;
  let dir: string;
  let kubeconfig: string;
  let execCounter: string;

  before(async () => {
    api = await startKubeApiServer({ token: TOKEN, eks: { clusterName: 'demo', region: 'us-west-2', credentials: AWS } });
    dir = await mkdtemp(join(tmpdir(), 'kubeconfig-test-'));
    execCounter = join(dir, 'exec-runs');
    const execPlugin = join(dir, 'exec-plugin.mjs');
    await writeFile(
      execPlugin,
      `import { appendFileSync } from 'node:fs';
appendFileSync(${JSON.stringify(execCounter)}, 'run\\n');
console.log(JSON.stringify({ kind: 'ExecCredential', apiVersion: 'client.authentication.k8s.io/v1beta1', spec: {},
  status: { token: ${JSON.stringify(TOKEN)}, expirationTimestamp: new Date(Date.now() + 600000).toISOString() } }));
`,
    );
    const bridgeTokenPlugin = join(dir, 'bridge-token.mjs');
    await writeFile(
      bridgeTokenPlugin,
      `import { runTokenCommand } from ${JSON.stringify(TOKEN_COMMAND)};
await runTokenCommand({ cluster: 'demo', region: 'us-west-2' }, { stdout: (text) => process.stdout.write(text) });
`,
    );
    const awsEnv = [
      { name: 'AWS_ACCESS_KEY_ID', value: AWS.accessKeyId },
      { name: 'AWS_SECRET_ACCESS_KEY', value: AWS.secretAccessKey },
      { name: 'AWS_CONFIG_FILE', value: '/dev/null' },
      { name: 'AWS_SHARED_CREDENTIALS_FILE', value: '/dev/null' },
    ];
    const config = {
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'token',
      clusters: [
        { name: 'test', cluster: { server: api.url, 'certificate-authority-data': b64(api.caPem) } },
        { name: 'insecure', cluster: { server: api.url, 'insecure-skip-tls-verify': true } },
        { name: 'plain-http', cluster: { server: 'http://127.0.0.1:8080', 'certificate-authority-data': b64(api.caPem) } },
      ],
      users: [
        { name: 'token-user', user: { token: TOKEN } },
        {
          name: 'cert-user',
          user: { 'client-certificate-data': b64(api.clientCertificate.certPem), 'client-key-data': b64(api.clientCertificate.keyPem) },
        },
        { name: 'exec-user', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: process.execPath, args: [execPlugin] } } },
        {
          name: 'bridge-token-user',
          user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: process.execPath, args: [bridgeTokenPlugin], env: awsEnv } },
        },
        {
          name: 'aws-cli-user',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1beta1',
              command: 'aws',
              args: ['eks', 'get-token', '--cluster-name', 'demo', '--region', 'us-west-2', '--output', 'json'],
              env: awsEnv,
            },
          },
        },
        { name: 'failing-exec-user', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: process.execPath, args: ['-e', 'console.error("no SSO session"); process.exit(1)'] } } },
      ],
      contexts: [
        { name: 'token', context: { cluster: 'test', user: 'token-user', namespace: 'ci' } },
        { name: 'cert', context: { cluster: 'test', user: 'cert-user' } },
        { name: 'exec', context: { cluster: 'test', user: 'exec-user' } },
        { name: 'bridge-token', context: { cluster: 'test', user: 'bridge-token-user' } },
        { name: 'aws-cli', context: { cluster: 'test', user: 'aws-cli-user' } },
        { name: 'failing-exec', context: { cluster: 'test', user: 'failing-exec-user' } },
        { name: 'insecure', context: { cluster: 'insecure', user: 'token-user' } },
        { name: 'plain-http', context: { cluster: 'plain-http', user: 'token-user' } },
      ],
    };
    kubeconfig = join(dir, 'config');
    // JSON is YAML, and keeps the test free of a YAML writer.
    await writeFile(kubeconfig, JSON.stringify(config, null, 2));
  });

  after(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const createThrough = async (context: string | undefined, name: string) => {
    const connection = await connectionFromKubeconfig({ file: kubeconfig, ...(context !== undefined && { context }) });
    const result = await createResourceCreator(connection)(pipelineRun(name));
    return { connection, result, request: api.requests.findLast((r) => (r.body as KubernetesObject).metadata?.name === name) };
  };

  test('a token user (the current context)', async () => {
    // Act
    const { connection, result, request } = await createThrough(undefined, 'from-token-user');

    // Assess
    assert.deepEqual(result, { outcome: 'created' });
    assert.equal(connection.server, api.url);
    assert.equal(String(connection.ca), api.caPem);
    assert.equal(request?.user, 'tekton-bridge');
    assert.equal(api.objects.at(-1)?.metadata.name, 'from-token-user');
  });

  test('a client-certificate user', async () => {
    // Act
    const { connection, result, request } = await createThrough('cert', 'from-cert-user');

    // Assess
    assert.deepEqual(result, { outcome: 'created' });
    assert.equal(connection.getToken, undefined);
    assert.equal(request?.user, api.clientCertificate.user);
    assert.equal(request?.headers.authorization, undefined);
  });

  test('an exec user, whose plugin runs again after a 401', async () => {
    // Prepare
    await rm(execCounter, { force: true });
    const connection = await connectionFromKubeconfig({ file: kubeconfig, context: 'exec' });
    const create = createResourceCreator(connection);
    api.injectFault({ kind: 'status', code: 401 });

    // Act
    const result = await create(pipelineRun('from-exec-user'));
    const again = await create(pipelineRun('from-exec-user-2'));

    // Assess
    assert.deepEqual(result, { outcome: 'created' });
    assert.deepEqual(again, { outcome: 'created' });
    const runs = (await readFile(execCounter, 'utf8')).trim().split('\n');
    assert.equal(runs.length, 2, 'once to connect, once more after the 401; the cached credential serves the rest');
  });

  test('an exec user running `tekton-bridge token`, checked as EKS checks it', async () => {
    // Act
    const { result, request } = await createThrough('bridge-token', 'from-bridge-token');

    // Assess
    assert.deepEqual(result, { outcome: 'created' });
    assert.equal(request?.user, `aws:${AWS.accessKeyId}`);
  });

  test('an exec user running `aws eks get-token`', { skip: withoutAwsCli }, async () => {
    // Act
    const { result, request } = await createThrough('aws-cli', 'from-aws-cli');

    // Assess
    assert.deepEqual(result, { outcome: 'created' });
    assert.equal(request?.user, `aws:${AWS.accessKeyId}`);
  });

  test('a context with insecure-skip-tls-verify is refused', async () => {
    await assert.rejects(connectionFromKubeconfig({ file: kubeconfig, context: 'insecure' }), (error: unknown) => {
      assert.ok(error instanceof KubeconfigError);
      assert.match(error.message, /^context "insecure" sets insecure-skip-tls-verify for cluster "insecure": the bridge always verifies/);
      return true;
    });
  });

  test('a plain-http server, an unknown context and a failing exec plugin are clear errors', async () => {
    await assert.rejects(connectionFromKubeconfig({ file: kubeconfig, context: 'plain-http' }), /only talks to the Kubernetes API over https/);
    await assert.rejects(connectionFromKubeconfig({ file: kubeconfig, context: 'nope' }), /context "nope" is not in kubeconfig/);
    await assert.rejects(connectionFromKubeconfig({ file: kubeconfig, context: 'failing-exec' }), /could not get credentials for context "failing-exec": no SSO session/);
    await assert.rejects(connectionFromKubeconfig({ file: join(dir, 'missing') }), /could not read kubeconfig .*missing: ENOENT/);
  });

  test('findKubeconfig: explicit file, KUBECONFIG, ~/.kube/config, or none', async () => {
    // Prepare
    const noContext = join(dir, 'no-context');
    await writeFile(noContext, JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] }));
    const emptyHome = await mkdtemp(join(tmpdir(), 'kubeconfig-home-'));

    // Act / Assess
    assert.equal(findKubeconfig({ file: '/given/by/flag', env: {} }), '/given/by/flag');
    assert.equal(findKubeconfig({ env: { KUBECONFIG: `${join(dir, 'missing')}${delimiter}${kubeconfig}` } }), kubeconfig);
    assert.equal(findKubeconfig({ env: { KUBECONFIG: join(dir, 'missing') } }), undefined);
    assert.equal(findKubeconfig({ env: { KUBECONFIG: noContext } }), undefined);
    assert.equal(findKubeconfig({ env: { HOME: emptyHome } }), undefined);
    assert.equal(findKubeconfig({ env: {}, homeDir: emptyHome }), undefined);
    await rm(emptyHome, { recursive: true, force: true });
  });

  test('several files as in KUBECONFIG: the first current-context wins', async () => {
    // Prepare
    const second = join(dir, 'second');
    await writeFile(second, JSON.stringify({ apiVersion: 'v1', kind: 'Config', 'current-context': 'cert', clusters: [], users: [], contexts: [] }));

    // Act
    const connection = await connectionFromKubeconfig({ file: `${kubeconfig}${delimiter}${second}` });

    // Assess
    assert.equal(typeof connection.getToken, 'function', 'the token context from the first file');
  });
});
