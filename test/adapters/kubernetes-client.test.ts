import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKubernetesClient, type KubernetesClient } from '../../functions/adapters/kubernetes-api.ts';
import type { KubernetesObject, ResourceRef } from '../../functions/core/delivery-types.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';

const TOKEN = 'client-test-token';

function run(name: string, labels: Record<string, string> = {}): KubernetesObject {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name, namespace: 'ci', labels: { 'tekton-bridge/test': 'client', ...labels } },
    spec: { pipelineRef: { name: 'build-and-deploy' } },
  };
}

function refOf(name: string): ResourceRef {
  return { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name };
}

describe('the Kubernetes client against a Kubernetes API server', { timeout: 60_000 }, () => {
  let api: KubeApiServer;
  let client: KubernetesClient;

  before(async () => {
    api = await startKubeApiServer({ token: TOKEN, namespaces: ['ci'], impersonable: ['ci/build-bot'] });
    client = createKubernetesClient({ server: api.url, ca: api.caPem, getToken: async () => TOKEN });
  });
  after(() => api.stop());

  test('get finds an object, and says not-found for one that is not there', async () => {
    // Prepare
    await client.create(run('get-me'));
    // Act
    const found = await client.get(refOf('get-me'));
    const missing = await client.get(refOf('not-there'));
    // Assess
    assert.equal(found.outcome, 'found');
    assert.equal(found.outcome === 'found' && found.object.metadata.name, 'get-me');
    assert.deepEqual(missing, { outcome: 'not-found' });
  });

  test('get on a cluster without Tekton is a failure, not a missing object', async () => {
    const bare = await startKubeApiServer({ token: TOKEN, apiVersions: [] });
    try {
      const result = await createKubernetesClient({ server: bare.url, ca: bare.caPem, getToken: async () => TOKEN }).get(refOf('x'));
      assert.equal(result.outcome, 'failed');
      assert.match(result.outcome === 'failed' ? result.reason : '', /Tekton Pipelines is not installed/);
    } finally {
      await bare.stop();
    }
  });

  test('list pages through every object matching a label selector', async () => {
    // Prepare
    for (let i = 0; i < 7; i += 1) await client.create(run(`listed-${i}`, { 'tekton-bridge/group': i % 2 === 0 ? 'even' : 'odd' }));
    const before = api.requests.length;
    // Act
    const even = await client.list({ apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', labelSelector: 'tekton-bridge/group=even', pageSize: 2 });
    // Assess
    assert.equal(even.outcome, 'listed');
    const names = even.outcome === 'listed' ? even.items.map((o) => o.metadata.name) : [];
    assert.deepEqual(names, ['listed-0', 'listed-2', 'listed-4', 'listed-6']);
    assert.equal(api.requests.length - before, 2, 'two pages of two');
    assert.ok(even.outcome === 'listed' && even.items.every((o) => o.kind === 'PipelineRun' && o.apiVersion === 'tekton.dev/v1'));
    const sent = api.requests.at(-1)?.path ?? '';
    assert.match(sent, /labelSelector=tekton-bridge%2Fgroup%3Deven/);
  });

  test('a merge patch based on the stored resourceVersion applies; one based on an older version is a conflict', async () => {
    // Prepare
    await client.create(run('patch-me'));
    const read = await client.get(refOf('patch-me'));
    assert.equal(read.outcome, 'found');
    const version = read.outcome === 'found' ? String(read.object.metadata.resourceVersion) : '';
    // Act
    const first = await client.patch(refOf('patch-me'), { type: 'merge', patch: { metadata: { resourceVersion: version }, spec: { status: 'Cancelled' } } });
    const stale = await client.patch(refOf('patch-me'), { type: 'merge', patch: { metadata: { resourceVersion: version }, spec: { status: 'PipelineRunPending' } } });
    // Assess
    assert.equal(first.outcome, 'patched');
    assert.equal(first.outcome === 'patched' && (first.object.spec as { status?: string }).status, 'Cancelled');
    assert.equal(stale.outcome, 'conflict');
    assert.equal((api.find('ci', 'patch-me')?.spec as { status?: string }).status, 'Cancelled');
  });

  test('a JSON patch whose test op fails is refused and changes nothing', async () => {
    await client.create(run('json-patch'));
    const result = await client.patch(refOf('json-patch'), {
      type: 'json',
      patch: [{ op: 'test', path: '/metadata/annotations', value: { a: 'b' } }, { op: 'add', path: '/metadata/annotations', value: { a: 'c' } }],
    });
    assert.equal(result.outcome, 'failed');
    assert.equal(api.find('ci', 'json-patch')?.metadata.annotations, undefined);
  });

  test('a patch cannot write status: that is the controller\'s, through the status subresource', async () => {
    await client.create(run('status-kept'));
    api.setStatus('ci', 'status-kept', { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'Running' }] });
    const result = await client.patch(refOf('status-kept'), { type: 'merge', patch: { status: { conditions: [] }, metadata: { annotations: { x: 'y' } } } });
    assert.equal(result.outcome, 'patched');
    assert.deepEqual(api.find('ci', 'status-kept')?.status, { conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'Running' }] });
    assert.deepEqual(api.find('ci', 'status-kept')?.metadata.annotations, { x: 'y' });
  });

  test('delete with a resourceVersion precondition deletes only that version', async () => {
    // Prepare
    await client.create(run('delete-me'));
    const stored = api.find('ci', 'delete-me');
    const version = stored?.metadata.resourceVersion ?? '';
    api.setStatus('ci', 'delete-me', { conditions: [{ type: 'Succeeded', status: 'True' }] });
    // Act
    const stale = await client.delete(refOf('delete-me'), { resourceVersion: version });
    const current = await client.delete(refOf('delete-me'), { resourceVersion: api.find('ci', 'delete-me')?.metadata.resourceVersion ?? '' });
    const again = await client.delete(refOf('delete-me'));
    // Assess
    assert.equal(stale.outcome, 'conflict');
    assert.deepEqual(current, { outcome: 'deleted' });
    assert.deepEqual(again, { outcome: 'not-found' });
    assert.equal(api.find('ci', 'delete-me'), undefined);
  });

  test('impersonation sends Impersonate-User for the service account, and a refused one is a 403 naming it', async () => {
    // Act
    const allowed = await client.create(run('as-build-bot'), { impersonate: { namespace: 'ci', name: 'build-bot' } });
    const refused = await client.create(run('as-deployer'), { impersonate: { namespace: 'ci', name: 'deployer' } });
    // Assess
    assert.deepEqual(allowed, { outcome: 'created' });
    const sent = api.requests.filter((r) => r.impersonateUser !== undefined).map((r) => r.impersonateUser);
    assert.deepEqual(sent, ['system:serviceaccount:ci:build-bot', 'system:serviceaccount:ci:deployer']);
    assert.equal(refused.outcome, 'failed');
    assert.equal(refused.outcome === 'failed' && refused.retryable, false);
    assert.match(refused.outcome === 'failed' ? refused.reason : '', /cannot impersonate resource "serviceaccounts"/);
    assert.equal(api.find('ci', 'as-deployer'), undefined);
  });

  test('an impersonation target that is not a namespace and name is refused before anything is sent', async () => {
    const before = api.requests.length;
    await assert.rejects(client.get(refOf('x'), { impersonate: { namespace: 'ci', name: 'a:b' } }), /cannot impersonate/);
    assert.equal(api.requests.length, before);
  });

  test('every operation refuses a path-climbing reference before anything is sent', async () => {
    const before = api.requests.length;
    const bad: ResourceRef = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', namespace: 'ci', name: '../../../../api/v1/namespaces/kube-system/secrets' };
    const results = await Promise.all([
      client.get(bad),
      client.patch(bad, { type: 'merge', patch: {} }),
      client.delete(bad),
      client.list({ apiVersion: 'v1/../../', kind: 'Secret', namespace: 'kube-system' }),
    ]);
    for (const result of results) {
      assert.equal(result.outcome, 'failed');
      assert.equal(result.outcome === 'failed' && result.retryable, false);
    }
    assert.equal(api.requests.length, before);
  });
});
