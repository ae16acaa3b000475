import assert from 'node:assert/strict';
import https from 'node:https';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { KubernetesObject } from '../../functions/core/delivery-types.ts';
import { createResourceCreator, type KubernetesConnection } from '../../functions/adapters/kubernetes-api.ts';
import { startKubeApiServer, type KubeApiFault, type KubeApiServer } from '../support/kube-api-server.ts';

const TOKEN = 'test-token-5f2c9e';

function pipelineRun(name: string, overrides: Partial<KubernetesObject> & { namespace?: string } = {}): KubernetesObject {
  const { namespace = 'ci', ...rest } = overrides;
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: {
      name,
      namespace,
      labels: {
        'triggers.tekton.dev/eventlistener': 'github-push',
        'triggers.tekton.dev/trigger': 'main-branch',
        'triggers.tekton.dev/triggers-eventid': `delivery-${name}`,
      },
      annotations: { 'tekton-bridge/repository': 'octo/hello', 'tekton-bridge/body-sha256': 'd'.repeat(64) },
    },
    spec: { pipelineRef: { name: 'build-and-deploy' }, params: [{ name: 'revision', value: 'abc123' }] },
    ...rest,
  };
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

interface Row {
  name: string;
  object: KubernetesObject;
  server?: 'tekton' | 'without-tekton';
  faults?: KubeApiFault[];
  forbidden?: boolean;
  createFirst?: boolean;
  staleTokenFirst?: boolean;
  timeoutMs?: number;
  unreachable?: boolean;
  /** Refused by the bridge itself: no request reaches the server. */
  notSent?: boolean;
  expected: { outcome: string; retryable?: boolean; reason?: RegExp | string };
  path?: string;
  landed: boolean;
  forcedRefreshes?: number;
}

describe('createResourceCreator against a Kubernetes API server', { timeout: 60_000 }, () => {
  let api: KubeApiServer;
  let withoutTekton: KubeApiServer;
  let refusedUrl: string;

  before(async () => {
    [api, withoutTekton] = await Promise.all([
      startKubeApiServer({ token: TOKEN, namespaces: ['ci'] }),
      startKubeApiServer({ token: TOKEN, apiVersions: [] }),
    ]);
    refusedUrl = `https://127.0.0.1:${await closedPort()}`;
  });

  after(async () => {
    await Promise.all([api.stop(), withoutTekton.stop()]);
  });

  const rows: Row[] = [
    {
      name: '201 creates a PipelineRun',
      object: pipelineRun('build-201'),
      expected: { outcome: 'created' },
      path: '/apis/tekton.dev/v1/namespaces/ci/pipelineruns',
      landed: true,
    },
    {
      name: '201 creates a v1beta1 TaskRun',
      object: { ...pipelineRun('task-201'), apiVersion: 'tekton.dev/v1beta1', kind: 'TaskRun' },
      expected: { outcome: 'created' },
      path: '/apis/tekton.dev/v1beta1/namespaces/ci/taskruns',
      landed: true,
    },
    {
      name: '409 AlreadyExists is a duplicate',
      object: pipelineRun('build-409'),
      createFirst: true,
      expected: { outcome: 'duplicate' },
      landed: true,
    },
    {
      name: '401 with a stale token, then a fresh token succeeds',
      object: pipelineRun('build-401-once'),
      staleTokenFirst: true,
      expected: { outcome: 'created' },
      landed: true,
      forcedRefreshes: 1,
    },
    {
      name: '401 twice fails, retryable',
      object: pipelineRun('build-401-twice'),
      faults: [{ kind: 'status', code: 401 }, { kind: 'status', code: 401 }],
      expected: { outcome: 'failed', retryable: true, reason: /401 Unauthorized\), even with a fresh token/ },
      landed: false,
      forcedRefreshes: 1,
    },
    {
      name: '403 names the missing RBAC permission',
      object: pipelineRun('build-403'),
      forbidden: true,
      expected: {
        outcome: 'failed',
        retryable: false,
        reason:
          'the bridge\'s role lacks RBAC: create pipelineruns.tekton.dev in namespace ci (forbidden: pipelineruns.tekton.dev is forbidden: ' +
          'User "tekton-bridge" cannot create resource "pipelineruns" in API group "tekton.dev" in the namespace "ci")',
      },
      landed: false,
    },
    {
      name: '404 without Tekton says it is not installed',
      object: pipelineRun('build-404'),
      server: 'without-tekton',
      expected: {
        outcome: 'failed',
        retryable: false,
        reason: 'Tekton Pipelines is not installed (no tekton.dev CRDs): the API has no pipelineruns.tekton.dev/v1',
      },
      landed: false,
    },
    {
      name: '404 for a missing namespace says so',
      object: pipelineRun('build-404-ns', { namespace: 'nightly' }),
      expected: { outcome: 'failed', retryable: false, reason: 'namespace nightly does not exist on the cluster (namespaces "nightly" not found)' },
      path: '/apis/tekton.dev/v1/namespaces/nightly/pipelineruns',
      landed: false,
    },
    {
      name: '422 passes on the API\'s own message',
      object: pipelineRun('build-422'),
      faults: [{ kind: 'status', code: 422 }],
      expected: {
        outcome: 'failed',
        retryable: false,
        reason: /^admission webhook "validation\.webhook\.pipeline\.tekton\.dev" denied the request: validation failed/,
      },
      landed: false,
    },
    {
      name: 'an invalid name is refused before anything is sent',
      object: pipelineRun('Build_422'),
      expected: { outcome: 'failed', retryable: false, reason: 'name "Build_422" is not a DNS-1123 subdomain' },
      notSent: true,
      landed: false,
    },
    {
      name: 'a kind that would climb the path is refused before anything is sent',
      object: { ...pipelineRun('build-kind'), kind: '../../../api/v1/namespaces/kube-system/secrets#' },
      expected: { outcome: 'failed', retryable: false, reason: /^kind "\.\.\/\.\.\/\.\.\/api\/v1\/namespaces\/kube-system\/secrets#" is not a Kubernetes kind$/ },
      notSent: true,
      landed: false,
    },
    {
      name: 'an apiVersion with a path in it is refused before anything is sent',
      object: { ...pipelineRun('build-api'), apiVersion: 'tekton.dev/v1/../../../api/v1' },
      expected: { outcome: 'failed', retryable: false, reason: /^apiVersion "tekton\.dev\/v1\/\.\.\/\.\.\/\.\.\/api\/v1" is not of the form group\/version$/ },
      notSent: true,
      landed: false,
    },
    {
      name: 'a namespace with an encoded slash is refused before anything is sent',
      object: pipelineRun('build-ns', { namespace: 'ci%2F..%2Fkube-system' }),
      expected: { outcome: 'failed', retryable: false, reason: /^namespace "ci%2F\.\.%2Fkube-system" is not a DNS-1123 label$/ },
      notSent: true,
      landed: false,
    },
    {
      name: '429 is retryable and carries Retry-After',
      object: pipelineRun('build-429'),
      faults: [{ kind: 'status', code: 429, retryAfterSeconds: 7 }],
      expected: { outcome: 'failed', retryable: true, reason: 'the Kubernetes API is throttling the bridge (429 Too Many Requests; Retry-After: 7 s)' },
      landed: false,
    },
    {
      name: '500 is retryable',
      object: pipelineRun('build-500'),
      faults: [{ kind: 'status', code: 500 }],
      expected: { outcome: 'failed', retryable: true, reason: 'the Kubernetes API answered 500 Internal Server Error: Internal error occurred: injected fault' },
      landed: false,
    },
    {
      name: '503 is retryable',
      object: pipelineRun('build-503'),
      faults: [{ kind: 'status', code: 503 }],
      expected: { outcome: 'failed', retryable: true, reason: /^the Kubernetes API answered 503 Service Unavailable: / },
      landed: false,
    },
    {
      name: 'no answer before the deadline is retryable',
      object: pipelineRun('build-timeout'),
      faults: [{ kind: 'delay', ms: 1500 }],
      timeoutMs: 250,
      expected: { outcome: 'failed', retryable: true, reason: /did not answer within 250 ms$/ },
      landed: false,
    },
    {
      name: 'a reset connection is retryable',
      object: pipelineRun('build-reset'),
      faults: [{ kind: 'reset' }],
      expected: { outcome: 'failed', retryable: true, reason: /^could not reach the Kubernetes API at https:\/\/127\.0\.0\.1:\d+ \(ECONNRESET/ },
      landed: false,
    },
    {
      name: 'a refused connection is retryable',
      object: pipelineRun('build-refused'),
      unreachable: true,
      expected: { outcome: 'failed', retryable: true, reason: /\(ECONNREFUSED: connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/ },
      landed: false,
    },
  ];

  for (const row of rows) {
    test(row.name, async () => {
      // Prepare
      const server = row.server === 'without-tekton' ? withoutTekton : api;
      const forcedRefreshes: boolean[] = [];
      const connection: KubernetesConnection = {
        server: row.unreachable ? refusedUrl : server.url,
        ca: server.caPem,
        timeoutMs: row.timeoutMs ?? 2000,
        getToken: async (opts) => {
          if (opts?.forceRefresh) forcedRefreshes.push(true);
          return row.staleTokenFirst && forcedRefreshes.length === 0 ? 'expired-token' : TOKEN;
        },
      };
      const create = createResourceCreator(connection);
      if (row.createFirst) assert.deepEqual(await create(row.object), { outcome: 'created' });
      server.setForbidden(row.forbidden ?? false);
      server.injectFault(...(row.faults ?? []));

      // Act
      const requestsBefore = server.requests.length;
      const started = Date.now();
      const result = await create(row.object);
      const elapsed = Date.now() - started;
      server.setForbidden(false);

      // Assess
      assert.equal(result.outcome, row.expected.outcome);
      if (result.outcome === 'failed') {
        assert.equal(result.retryable, row.expected.retryable);
        if (typeof row.expected.reason === 'string') assert.equal(result.reason, row.expected.reason);
        else if (row.expected.reason) assert.match(result.reason, row.expected.reason);
        assert.ok(!result.reason.includes(TOKEN), 'the token is never in a reason');
        assert.ok(!result.reason.includes('build-and-deploy'), 'the body is never in a reason');
      }
      assert.equal(forcedRefreshes.length, row.forcedRefreshes ?? 0);
      assert.ok(elapsed < 2500, `answered in ${elapsed} ms`);

      const name = row.object.metadata.name;
      const posts = server.requests.filter((r) => (r.body as KubernetesObject | undefined)?.metadata?.name === name);
      if (row.unreachable || row.notSent) {
        assert.equal(posts.length, 0);
        if (row.notSent) assert.equal(server.requests.length, requestsBefore, 'no request at all');
      } else {
        assert.ok(posts.length >= 1, 'the request reached the server');
        for (const post of posts) {
          assert.equal(post.method, 'POST');
          assert.equal(post.path, row.path ?? '/apis/tekton.dev/v1/namespaces/ci/pipelineruns');
          assert.deepEqual(post.body, row.object);
          assert.equal(post.headers['content-type'], 'application/json');
          assert.equal(post.headers.authorization, 'Bearer <redacted>');
        }
      }
      const landed = server.objects.filter((o) => o.metadata.name === name);
      assert.equal(landed.length, row.landed ? 1 : 0);
      if (row.landed) {
        assert.equal(landed[0]?.kind, row.object.kind);
        assert.equal(landed[0]?.metadata.namespace, 'ci');
        assert.deepEqual(landed[0]?.metadata.labels, row.object.metadata.labels);
        assert.match(landed[0]?.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
      }
    });
  }

  test('AlreadyExists is a duplicate only when the object came from the same body and trigger', async () => {
    // Prepare: someone else pre-created runs under the names the bridge will render.
    const create = createResourceCreator({ server: api.url, ca: api.caPem, getToken: async () => TOKEN });
    const ours = pipelineRun('build-squatted');
    const squatter = (name: string, edit: (o: KubernetesObject) => void): KubernetesObject => {
      const object = structuredClone({ ...ours, metadata: { ...ours.metadata, name } });
      edit(object);
      return object;
    };
    const cases: [string, KubernetesObject][] = [
      ['no body digest', squatter('squat-no-digest', (o) => delete o.metadata.annotations?.['tekton-bridge/body-sha256'])],
      ['another body', squatter('squat-other-body', (o) => (o.metadata.annotations!['tekton-bridge/body-sha256'] = 'e'.repeat(64)))],
      ['another trigger', squatter('squat-other-trigger', (o) => (o.metadata.labels!['triggers.tekton.dev/trigger'] = 'other'))],
      ['another EventListener', squatter('squat-other-listener', (o) => (o.metadata.labels!['triggers.tekton.dev/eventlistener'] = 'other'))],
    ];
    for (const [why, planted] of cases) {
      assert.deepEqual(await create(planted), { outcome: 'created' }, why);
      const wanted = { ...ours, metadata: { ...ours.metadata, name: planted.metadata.name } };
      // Act
      const result = await create(wanted);
      // Assess
      assert.deepEqual(result, { outcome: 'failed', retryable: false, reason: 'the name is taken by an object the bridge did not create' }, why);
    }
  });

  test('AlreadyExists and a read-back that fails: a failure that may pass', async () => {
    // Prepare: the object is there; the POST meets no fault (a delay of 0), the GET after its 409 meets a 503.
    const create = createResourceCreator({ server: api.url, ca: api.caPem, getToken: async () => TOKEN });
    assert.deepEqual(await create(pipelineRun('build-readback')), { outcome: 'created' });
    api.injectFault({ kind: 'delay', ms: 0 }, { kind: 'status', code: 503 });
    // Act
    const result = await create(pipelineRun('build-readback'));
    // Assess
    assert.deepEqual(result, { outcome: 'failed', retryable: true, reason: 'the name is taken, and reading the object back failed: the Kubernetes API answered 503 Service Unavailable: the server is currently unable to handle the request' });
    assert.deepEqual(await create(pipelineRun('build-readback')), { outcome: 'duplicate' }, 'and once the API is back, a duplicate');
  });

  test('the object from a timed-out request still lands, and its redelivery is a duplicate', async () => {
    // Prepare
    const create = createResourceCreator({ server: api.url, ca: api.caPem, timeoutMs: 200, getToken: async () => TOKEN });
    api.injectFault({ kind: 'delay', ms: 400 });
    const timedOut = await create(pipelineRun('build-slow'));
    assert.equal(timedOut.outcome, 'failed');

    // Act
    await new Promise((resolve) => setTimeout(resolve, 400));
    const redelivered = await create(pipelineRun('build-slow'));

    // Assess
    assert.deepEqual(redelivered, { outcome: 'duplicate' });
    assert.equal(api.objects.filter((o) => o.metadata.name === 'build-slow').length, 1);
  });

  test('a kept-alive socket the server dropped is retried once on a new one', async () => {
    // Prepare
    const create = createResourceCreator({ server: api.url, ca: api.caPem, getToken: async () => TOKEN });
    assert.deepEqual(await create(pipelineRun('build-keepalive-1')), { outcome: 'created' });
    api.injectFault({ kind: 'reset' });

    // Act
    const result = await create(pipelineRun('build-keepalive-2'));

    // Assess
    assert.deepEqual(result, { outcome: 'created' });
  });

  test('a client certificate from the cluster CA authenticates without a token', async () => {
    // Prepare
    const { certPem, keyPem, user } = api.clientCertificate;
    const create = createResourceCreator({ server: api.url, ca: api.caPem, cert: certPem, key: keyPem });

    // Act
    const result = await create(pipelineRun('build-client-cert'));

    // Assess
    assert.deepEqual(result, { outcome: 'created' });
    const post = api.requests.find((r) => (r.body as KubernetesObject).metadata?.name === 'build-client-cert');
    assert.equal(post?.user, user);
    assert.equal(post?.headers.authorization, undefined);
  });

  test('a server certificate from an unknown CA is refused, not retryable', async () => {
    // Prepare
    const create = createResourceCreator({ server: api.url, ca: withoutTekton.caPem, getToken: async () => TOKEN });
    const before = api.requests.length;

    // Act
    const result = await create(pipelineRun('build-unknown-ca'));

    // Assess
    assert.equal(result.outcome, 'failed');
    assert.equal(result.outcome === 'failed' && result.retryable, false);
    assert.match(result.outcome === 'failed' ? result.reason : '', /presented a TLS certificate the bridge does not trust \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
    assert.equal(api.requests.length, before);
  });

  test('without the cluster CA, Node\'s public roots do not trust the test server', async () => {
    // Prepare
    const create = createResourceCreator({ server: api.url, getToken: async () => TOKEN });

    // Act
    const result = await create(pipelineRun('build-no-ca'));

    // Assess
    assert.equal(result.outcome, 'failed');
    assert.match(result.outcome === 'failed' ? result.reason : '', /does not trust/);
  });

  test('the test server reads back what was created, as the API does', async () => {
    // Prepare
    const create = createResourceCreator({ server: api.url, ca: api.caPem, getToken: async () => TOKEN });
    assert.deepEqual(await create(pipelineRun('build-read-back')), { outcome: 'created' });
    const get = (path: string) =>
      new Promise<{ status: number; body: { kind?: string; metadata?: { name?: string }; items?: unknown[] } }>((resolve, reject) => {
        https
          .get(`${api.url}${path}`, { ca: api.caPem, headers: { authorization: `Bearer ${TOKEN}` } }, (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
          })
          .on('error', reject);
      });

    // Act
    const item = await get('/apis/tekton.dev/v1beta1/namespaces/ci/pipelineruns/build-read-back');
    const list = await get('/apis/tekton.dev/v1/namespaces/ci/pipelineruns');
    const missing = await get('/apis/tekton.dev/v1/namespaces/ci/pipelineruns/no-such-run');

    // Assess
    assert.equal(item.status, 200);
    assert.equal(item.body.metadata?.name, 'build-read-back');
    assert.equal(list.body.kind, 'PipelineRunList');
    assert.ok((list.body.items ?? []).length >= 1);
    assert.equal(missing.status, 404);
  });

  test('an http:// server is refused at once', () => {
    assert.throws(() => createResourceCreator({ server: 'http://127.0.0.1:8080' }), /must be reached over https/);
  });

  test('a token source that fails is a retryable failure naming the cause', async () => {
    // Prepare
    const create = createResourceCreator({
      server: api.url,
      ca: api.caPem,
      getToken: async () => {
        throw new Error('no AWS credentials');
      },
    });

    // Act
    const result = await create(pipelineRun('build-no-token'));

    // Assess
    assert.deepEqual(result, { outcome: 'failed', retryable: true, reason: 'could not get a token for the Kubernetes API: no AWS credentials' });
  });
});
