import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createKubernetesTransport } from '../../functions/adapters/kubernetes-transport.ts';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.ts';

const TOKEN = 'transport-test-token';

/** A loopback TCP forwarder to the API server that counts the connections made through it. */
async function countingForwarder(target: URL): Promise<{ url: string; connections: Socket[]; server: Server }> {
  const connections: Socket[] = [];
  const server = createServer((socket) => {
    connections.push(socket);
    const upstream = connect(Number(target.port), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `https://127.0.0.1:${port}`, connections, server };
}

const stop = (server: Server, connections: Socket[]) =>
  new Promise<void>((resolve) => {
    for (const socket of connections) socket.destroy();
    server.close(() => resolve());
  });

describe('the Kubernetes transport opening its first connection at once', { timeout: 10_000 }, () => {
  let api: KubeApiServer;

  before(async () => {
    api = await startKubeApiServer({ token: TOKEN, namespaces: ['ci'] });
  });
  after(() => api.stop());

  test('the connection is made before any request, and the first request goes over it', async () => {
    // Prepare
    const forwarder = await countingForwarder(new URL(api.url));
    try {
      const transport = createKubernetesTransport({ server: forwarder.url, ca: api.caPem, getToken: async () => TOKEN, connectNow: true });
      if (forwarder.connections.length === 0) await once(forwarder.server, 'connection');
      const requestsBefore = api.requests.length;
      // Act
      const answer = await transport({ method: 'GET', path: '/apis/tekton.dev/v1/namespaces/ci/pipelineruns' });
      // Assess
      assert.equal(requestsBefore, api.requests.length - 1);
      assert.equal(answer.kind === 'answer' && answer.statusCode, 200);
      assert.equal(forwarder.connections.length, 1);
    } finally {
      await stop(forwarder.server, forwarder.connections);
    }
  });

  test('without connectNow, nothing is connected until the first request', async () => {
    // Prepare
    const forwarder = await countingForwarder(new URL(api.url));
    try {
      const transport = createKubernetesTransport({ server: forwarder.url, ca: api.caPem, getToken: async () => TOKEN });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const connectedBefore = forwarder.connections.length;
      // Act
      const answer = await transport({ method: 'GET', path: '/apis/tekton.dev/v1/namespaces/ci/pipelineruns' });
      // Assess
      assert.equal(connectedBefore, 0);
      assert.equal(answer.kind === 'answer' && answer.statusCode, 200);
      assert.equal(forwarder.connections.length, 1);
    } finally {
      await stop(forwarder.server, forwarder.connections);
    }
  });

  test('a connection opened at once to a server the CA does not vouch for fails the first request as it would have, without crashing', async () => {
    // Prepare
    const other = await startKubeApiServer({ token: TOKEN });
    try {
      const transport = createKubernetesTransport({ server: other.url, ca: api.caPem, getToken: async () => TOKEN, connectNow: true });
      await new Promise((resolve) => setTimeout(resolve, 50));
      // Act
      const answer = await transport({ method: 'GET', path: '/apis/tekton.dev/v1/namespaces/ci/pipelineruns' });
      // Assess
      assert.equal(answer.kind, 'no-answer');
      assert.equal(answer.kind === 'no-answer' && answer.retryable, false);
      assert.match(answer.kind === 'no-answer' ? answer.reason : '', /does not trust/);
      assert.equal(other.requests.length, 0);
    } finally {
      await other.stop();
    }
  });
});
