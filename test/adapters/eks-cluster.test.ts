import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { ClusterLookupError } from '../../functions/adapters/adapter-errors.ts';
import { clusterAccessFromSettings, createClusterLookup } from '../../functions/adapters/eks-cluster.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { skipWithout } from '../support/command-on-path.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUPlaceholderOnlyForParsingTests\n-----END CERTIFICATE-----\n';

function countedEksClient(endpoint: string): { eks: EKSClient; calls: string[] } {
  const eks = new EKSClient({ endpoint, ...MOTO_CLIENT_SETTINGS });
  const calls: string[] = [];
  eks.middlewareStack.add(
    (next, context) => (args) => {
      calls.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize' },
  );
  return { eks, calls };
}

async function createCluster(eks: EKSClient, name: string): Promise<void> {
  await eks.send(
    new CreateClusterCommand({
      name,
      roleArn: 'arn:aws:iam::123456789012:role/eks-cluster',
      resourcesVpcConfig: { subnetIds: ['subnet-1234'] },
    }),
  );
}

describe('createClusterLookup against moto', { timeout: 60_000, skip: skipWithout('moto_server') }, () => {
  let moto: MotoServer;

  before(async () => {
    moto = await startMotoServer();
  });

  after(async () => {
    await moto.stop();
  });

  test('finds the endpoint and decodes the CA, then answers from its cache', async () => {
    // Prepare
    const { eks, calls } = countedEksClient(moto.endpoint);
    await createCluster(eks, 'ci-cluster');
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'ci-cluster' }));
    calls.length = 0;
    const lookup = createClusterLookup({ eks, clusterName: 'ci-cluster' });

    // Act
    const first = await lookup();
    const second = await lookup();

    // Assess
    assert.equal(first.endpoint, cluster?.endpoint);
    assert.match(first.endpoint, /^https:\/\//);
    assert.equal(first.ca, Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').toString('utf8'));
    assert.deepEqual(second, first);
    assert.deepEqual(calls, ['DescribeClusterCommand']);
  });

  test('a missing cluster is named, with its region', async () => {
    // Prepare
    const { eks } = countedEksClient(moto.endpoint);
    const lookup = createClusterLookup({ eks, clusterName: 'no-such-cluster' });

    // Act
    const failure = await lookup().catch((error: unknown) => error);

    // Assess
    assert.ok(failure instanceof ClusterLookupError);
    assert.equal(failure.name, 'ClusterLookupError');
    assert.equal(failure.message, 'EKS cluster no-such-cluster not found in region us-east-1');
    assert.equal((failure.cause as Error).name, 'ResourceNotFoundException');
  });

  test('a failed lookup is not cached: the next call asks again', async () => {
    // Prepare
    const { eks, calls } = countedEksClient(moto.endpoint);
    const lookup = createClusterLookup({ eks, clusterName: 'late-cluster' });
    await assert.rejects(lookup(), ClusterLookupError);
    await createCluster(eks, 'late-cluster');

    // Act
    const found = await lookup();

    // Assess
    assert.match(found.endpoint, /^https:\/\//);
    assert.deepEqual(calls, ['DescribeClusterCommand', 'CreateClusterCommand', 'DescribeClusterCommand']);
  });

  test('after moto stops, the cached cluster is still served and a new lookup fails clearly', async () => {
    // Prepare
    const { eks } = countedEksClient(moto.endpoint);
    await createCluster(eks, 'cached-cluster');
    const lookup = createClusterLookup({ eks, clusterName: 'cached-cluster' });
    const before = await lookup();
    await moto.stop();

    // Act
    const cached = await lookup();
    const failure = await createClusterLookup({ eks, clusterName: 'cached-cluster' })().catch((error: unknown) => error);

    // Assess
    assert.deepEqual(cached, before);
    assert.ok(failure instanceof ClusterLookupError);
    assert.match(failure.message, /^could not describe EKS cluster cached-cluster in region us-east-1: .*ECONNREFUSED/);
  });
});

describe('clusterAccessFromSettings', () => {
  test('takes a PEM CA as it is', () => {
    assert.deepEqual(clusterAccessFromSettings({ endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com', ca: PEM }), {
      endpoint: 'https://ABC.gr7.us-east-1.eks.amazonaws.com',
      ca: PEM.trim(),
    });
  });

  test('decodes a base64 CA, as EKS and kubeconfig carry it', () => {
    const access = clusterAccessFromSettings({ endpoint: 'https://k8s.example', ca: Buffer.from(PEM).toString('base64') });
    assert.equal(access.ca, PEM);
  });

  test('refuses values that cannot work', () => {
    assert.throws(() => clusterAccessFromSettings({ endpoint: 'k8s.example', ca: PEM }), /CLUSTER_ENDPOINT is not a URL/);
    assert.throws(() => clusterAccessFromSettings({ endpoint: 'http://k8s.example', ca: PEM }), /must be an https:\/\/ URL/);
    assert.throws(
      () => clusterAccessFromSettings({ endpoint: 'https://k8s.example', ca: 'bm90IGEgY2VydA==' }),
      (error: unknown) => error instanceof ClusterLookupError && /CLUSTER_CA is neither/.test(error.message),
    );
  });
});
