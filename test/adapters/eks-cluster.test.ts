import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { ClusterLookupError } from '../../functions/adapters/adapter-errors.ts';
import { clusterAccessFromSettings, createClusterLookup } from '../../functions/adapters/eks-cluster.ts';
import { startEksFront, type EksFront } from '../support/eks-front.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { skipWithout } from '../support/command-on-path.ts';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUPlaceholderOnlyForParsingTests\n-----END CERTIFICATE-----\n';
const credentials = async () => MOTO_CLIENT_SETTINGS.credentials;

async function createCluster(endpoint: string, name: string): Promise<void> {
  await new EKSClient({ endpoint, ...MOTO_CLIENT_SETTINGS }).send(
    new CreateClusterCommand({
      name,
      roleArn: 'arn:aws:iam::123456789012:role/eks-cluster',
      resourcesVpcConfig: { subnetIds: ['subnet-1234'] },
    }),
  );
}

describe('createClusterLookup against moto', { timeout: 60_000, skip: skipWithout('moto_server') }, () => {
  let moto: MotoServer;
  let front: EksFront;
  const lookupThroughFront = (clusterName: string) => createClusterLookup({ clusterName, region: 'us-east-1', credentials, endpoint: front.endpoint });
  const calls = () => front.requests.map((r) => `${r.method} ${r.path}`);

  before(async () => {
    moto = await startMotoServer();
    front = await startEksFront({ upstream: moto.endpoint });
  });

  after(async () => {
    await front.stop();
    await moto.stop();
  });

  test('finds the endpoint and decodes the CA with one signed GET, then answers from its cache', async () => {
    // Prepare
    await createCluster(moto.endpoint, 'ci-cluster');
    const { cluster } = await new EKSClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS }).send(new DescribeClusterCommand({ name: 'ci-cluster' }));
    front.requests.length = 0;
    const lookup = lookupThroughFront('ci-cluster');

    // Act
    const first = await lookup();
    const second = await lookup();

    // Assess
    assert.equal(first.endpoint, cluster?.endpoint);
    assert.match(first.endpoint, /^https:\/\//);
    assert.equal(first.ca, Buffer.from(cluster?.certificateAuthority?.data ?? '', 'base64').toString('utf8'));
    assert.deepEqual(second, first);
    assert.deepEqual(front.requests, [{ method: 'GET', path: '/clusters/ci-cluster', credentialScope: 'us-east-1/eks/aws4_request' }]);
  });

  test('a missing cluster is named, with its region', async () => {
    // Prepare
    const lookup = lookupThroughFront('no-such-cluster');

    // Act
    const failure = await lookup().catch((error: unknown) => error);

    // Assess
    assert.ok(failure instanceof ClusterLookupError);
    assert.equal(failure.name, 'ClusterLookupError');
    assert.equal(failure.message, 'EKS cluster no-such-cluster not found in region us-east-1');
    assert.equal((failure.cause as Error).name, 'ResourceNotFoundException');
  });

  test('a refused DescribeCluster names the permission; a throttled one carries the service message', async () => {
    // Prepare
    front.injectFault(
      { status: 403, type: 'AccessDeniedException', message: 'User: arn:aws:sts::123456789012:assumed-role/bridge is not authorized to perform: eks:DescribeCluster' },
      { status: 429, type: 'ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/', message: 'Rate exceeded' },
    );

    // Act
    const denied = await lookupThroughFront('ci-cluster')().catch((error: unknown) => error);
    const throttled = await lookupThroughFront('ci-cluster')().catch((error: unknown) => error);

    // Assess
    assert.ok(denied instanceof ClusterLookupError);
    assert.match(denied.message, /^not allowed to describe EKS cluster ci-cluster in region us-east-1 \(eks:DescribeCluster\): AccessDeniedException: User: .* is not authorized/);
    assert.ok(throttled instanceof ClusterLookupError);
    assert.equal(throttled.message, 'could not describe EKS cluster ci-cluster in region us-east-1: ThrottlingException: Rate exceeded');
  });

  test('a failed lookup is not cached: the next call asks again', async () => {
    // Prepare
    front.requests.length = 0;
    const lookup = lookupThroughFront('late-cluster');
    await assert.rejects(lookup(), ClusterLookupError);
    await createCluster(front.endpoint, 'late-cluster');

    // Act
    const found = await lookup();

    // Assess
    assert.match(found.endpoint, /^https:\/\//);
    assert.deepEqual(calls(), ['GET /clusters/late-cluster', 'POST /clusters', 'GET /clusters/late-cluster']);
  });

  test('after moto stops, the cached cluster is still served and a new lookup fails clearly', async () => {
    // Prepare
    await createCluster(moto.endpoint, 'cached-cluster');
    const lookup = createClusterLookup({ clusterName: 'cached-cluster', region: 'us-east-1', credentials, endpoint: moto.endpoint });
    const before = await lookup();
    await moto.stop();

    // Act
    const cached = await lookup();
    const failure = await createClusterLookup({ clusterName: 'cached-cluster', region: 'us-east-1', credentials, endpoint: moto.endpoint })().catch((error: unknown) => error);

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
