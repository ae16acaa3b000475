import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { EksTokenError } from '../../functions/adapters/adapter-errors.ts';
import { createEksToken, createEksTokenProvider } from '../../functions/adapters/eks-token.ts';
import { createResourceCreator } from '../../functions/adapters/kubernetes-api.ts';
import { runTokenCommand } from '../../functions/cli/token.ts';
import { startKubeApiServer, verifyEksToken } from '../support/kube-api-server.ts';
import { skipWithout } from '../support/command-on-path.ts';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SESSION = { ...CREDENTIALS, accessKeyId: 'ASIAEXAMPLE', sessionToken: 'FwoGZXIvYXdzEXAMPLE/session+token==' };
const MINUTE = 60_000;

interface ExecCredential {
  kind: string;
  apiVersion: string;
  spec: object;
  status: { expirationTimestamp: string; token: string };
}

const withoutAwsCli = skipWithout('aws');

async function awsEksGetToken(credentials: typeof SESSION | typeof CREDENTIALS, cluster: string, region: string): Promise<ExecCredential> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    ...('sessionToken' in credentials && { AWS_SESSION_TOKEN: credentials.sessionToken }),
  };
  const { stdout } = await promisify(execFile)('aws', ['eks', 'get-token', '--cluster-name', cluster, '--region', region, '--output', 'json'], {
    env,
    timeout: 20_000,
  });
  return JSON.parse(stdout) as ExecCredential;
}

function presignedUrlOf(token: string): URL {
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString('utf8'));
}

function dateOf(amzDate: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  assert.ok(m, `X-Amz-Date ${amzDate}`);
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
}

describe('createEksToken next to `aws eks get-token`', { skip: withoutAwsCli, timeout: 60_000 }, () => {
  for (const [label, credentials] of [['long-term keys', CREDENTIALS], ['session credentials', SESSION]] as const) {
    test(`same token as the CLI for the same instant (${label})`, async () => {
      // Prepare
      const cli = await awsEksGetToken(credentials, 'demo', 'us-west-2');
      const cliUrl = presignedUrlOf(cli.status.token);
      const signingDate = dateOf(cliUrl.searchParams.get('X-Amz-Date') ?? '');

      // Act
      const ours = await createEksToken({ clusterName: 'demo', region: 'us-west-2', credentials, signingDate });

      // Assess
      const ourUrl = presignedUrlOf(ours.token);
      assert.equal(ourUrl.host, 'sts.us-west-2.amazonaws.com');
      assert.equal(ourUrl.host, cliUrl.host);
      assert.equal(ourUrl.pathname, cliUrl.pathname);
      assert.deepEqual([...ourUrl.searchParams.keys()], [...cliUrl.searchParams.keys()]);
      assert.equal(ourUrl.searchParams.get('X-Amz-SignedHeaders'), 'host;x-k8s-aws-id');
      assert.equal(ourUrl.searchParams.get('X-Amz-SignedHeaders'), cliUrl.searchParams.get('X-Amz-SignedHeaders'));
      assert.equal(ourUrl.searchParams.get('X-Amz-Expires'), '60');
      assert.equal(ourUrl.searchParams.get('X-Amz-Expires'), cliUrl.searchParams.get('X-Amz-Expires'));
      assert.equal(ours.token, cli.status.token);
      const announced = Date.parse(ours.expirationTimestamp) - Date.parse(cli.status.expirationTimestamp);
      assert.ok(Math.abs(announced) <= 1000, 'both announce expiry 14 minutes after signing');
      assert.match(ours.expirationTimestamp, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    });
  }

  test('the verifier accepts both tokens for the signer, and refuses tampered ones', async () => {
    // Prepare
    const cli = await awsEksGetToken(SESSION, 'demo', 'eu-central-1');
    const signingDate = dateOf(presignedUrlOf(cli.status.token).searchParams.get('X-Amz-Date') ?? '');
    const ours = await createEksToken({ clusterName: 'demo', region: 'eu-central-1', credentials: SESSION, signingDate });
    const expected = { clusterName: 'demo', region: 'eu-central-1', credentials: SESSION, now: () => signingDate.getTime() + MINUTE };
    const url = presignedUrlOf(ours.token);
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    url.searchParams.set('X-Amz-Signature', signature.replace(/^./, (c) => (c === '0' ? '1' : '0')));
    const flipped = `k8s-aws-v1.${Buffer.from(url.toString()).toString('base64url')}`;

    // Act
    const verdicts = {
      cli: verifyEksToken(cli.status.token, expected),
      ours: verifyEksToken(ours.token, expected),
      otherCluster: verifyEksToken(ours.token, { ...expected, clusterName: 'prod' }),
      otherSecret: verifyEksToken(ours.token, { ...expected, credentials: { ...SESSION, secretAccessKey: 'not-the-secret' } }),
      otherRegion: verifyEksToken(ours.token, { ...expected, region: 'us-east-1' }),
      flippedSignature: verifyEksToken(flipped, expected),
    };

    // Assess
    assert.deepEqual(verdicts.cli, { ok: true, accessKeyId: 'ASIAEXAMPLE' });
    assert.deepEqual(verdicts.ours, { ok: true, accessKeyId: 'ASIAEXAMPLE' });
    assert.match(verdicts.otherCluster.ok ? '' : verdicts.otherCluster.reason, /signature does not verify/);
    assert.match(verdicts.otherSecret.ok ? '' : verdicts.otherSecret.reason, /signature does not verify/);
    assert.match(verdicts.otherRegion.ok ? '' : verdicts.otherRegion.reason, /unexpected host/);
    assert.match(verdicts.flippedSignature.ok ? '' : verdicts.flippedSignature.reason, /signature does not verify/);
  });
});

describe('createEksToken', () => {
  test('uses the regional STS endpoint, also in us-east-1 and in China', async () => {
    const signingDate = new Date('2025-03-01T12:00:00Z');
    const east = await createEksToken({ clusterName: 'c', region: 'us-east-1', credentials: CREDENTIALS, signingDate });
    const china = await createEksToken({ clusterName: 'c', region: 'cn-north-1', credentials: CREDENTIALS, signingDate });
    assert.equal(presignedUrlOf(east.token).host, 'sts.us-east-1.amazonaws.com');
    assert.equal(presignedUrlOf(china.token).host, 'sts.cn-north-1.amazonaws.com.cn');
    assert.equal(east.expirationTimestamp, '2025-03-01T12:14:00Z');
    assert.doesNotMatch(east.token, /=/);
  });

  test('a token is good for 15 minutes after signing, as STS honours it', async () => {
    // Prepare
    const signedAt = Date.UTC(2025, 2, 1, 12);
    const { token } = await createEksToken({ clusterName: 'c', region: 'us-east-1', credentials: CREDENTIALS, signingDate: new Date(signedAt) });
    const expected = { clusterName: 'c', region: 'us-east-1', credentials: CREDENTIALS };

    // Act
    const justInTime = verifyEksToken(token, { ...expected, now: () => signedAt + 15 * MINUTE - 1000 });
    const tooLate = verifyEksToken(token, { ...expected, now: () => signedAt + 15 * MINUTE + 1000 });

    // Assess
    assert.equal(justInTime.ok, true);
    assert.deepEqual(tooLate, { ok: false, reason: 'X-Amz-Date is expired (15 minute expiration)' });
  });
});

describe('createEksTokenProvider', () => {
  function countingCredentials(identity: { accessKeyId: string; secretAccessKey: string; expiration?: Date } = CREDENTIALS) {
    const calls: number[] = [];
    return { calls, credentials: async () => (calls.push(1), identity) };
  }

  test('reuses its token for 10 minutes, then signs anew', async () => {
    // Prepare
    let time = Date.UTC(2025, 2, 1, 12);
    const { calls, credentials } = countingCredentials();
    const provider = createEksTokenProvider({ clusterName: 'c', region: 'us-east-1', credentials, now: () => time });

    // Act
    const first = await provider.getToken();
    time += 10 * MINUTE - 1;
    const reused = await provider.getToken();
    time += 1;
    const renewed = await provider.getToken();

    // Assess
    assert.equal(reused, first);
    assert.notEqual(renewed, first);
    assert.equal(presignedUrlOf(renewed).searchParams.get('X-Amz-Date'), '20250301T121000Z');
    assert.equal(calls.length, 2);
  });

  test('forceRefresh signs anew at once; concurrent callers share one signing', async () => {
    // Prepare
    let time = Date.UTC(2025, 2, 1, 12);
    const { calls, credentials } = countingCredentials();
    const provider = createEksTokenProvider({ clusterName: 'c', region: 'us-east-1', credentials, now: () => time });
    const first = await provider.getToken();
    time += 1000;

    // Act
    const [a, b] = await Promise.all([provider.getToken({ forceRefresh: true }), provider.getToken({ forceRefresh: true })]);

    // Assess
    assert.notEqual(a, first);
    assert.equal(a, b);
    assert.equal(calls.length, 2);
  });

  test('temporary credentials that end sooner cut the reuse short', async () => {
    // Prepare
    let time = Date.UTC(2025, 2, 1, 12);
    const { calls, credentials } = countingCredentials({ ...CREDENTIALS, expiration: new Date(time + 5 * MINUTE) });
    const provider = createEksTokenProvider({ clusterName: 'c', region: 'us-east-1', credentials, now: () => time });
    await provider.getToken();

    // Act
    time += 4 * MINUTE;
    await provider.getToken();

    // Assess
    assert.equal(calls.length, 2);
  });

  test('no credentials is a clear error naming the cluster', async () => {
    const provider = createEksTokenProvider({
      clusterName: 'ci-cluster',
      region: 'us-east-1',
      credentials: async () => {
        throw new Error('Could not load credentials from any providers');
      },
    });
    await assert.rejects(provider.getToken(), (error: unknown) => {
      assert.ok(error instanceof EksTokenError);
      assert.equal(error.message, 'could not get AWS credentials to sign an EKS token for cluster ci-cluster: Could not load credentials from any providers');
      assert.ok(error.cause instanceof Error);
      return true;
    });
  });

  test('the Kubernetes API test server in EKS mode accepts its tokens', { timeout: 20_000 }, async () => {
    // Prepare
    const api = await startKubeApiServer({ eks: { clusterName: 'ci-cluster', region: 'us-west-2', credentials: SESSION } });
    try {
      const provider = createEksTokenProvider({ clusterName: 'ci-cluster', region: 'us-west-2', credentials: async () => SESSION });
      const wrongCluster = createEksTokenProvider({ clusterName: 'other', region: 'us-west-2', credentials: async () => SESSION });
      const object = { apiVersion: 'tekton.dev/v1', kind: 'PipelineRun', metadata: { name: 'eks-run', namespace: 'ci' } };

      // Act
      const created = await createResourceCreator({ server: api.url, ca: api.caPem, getToken: provider.getToken })(object);
      const refused = await createResourceCreator({ server: api.url, ca: api.caPem, getToken: wrongCluster.getToken })({
        ...object,
        metadata: { name: 'eks-run-2', namespace: 'ci' },
      });

      // Assess
      assert.deepEqual(created, { outcome: 'created' });
      assert.equal(api.requests[0]?.user, 'aws:ASIAEXAMPLE');
      assert.equal(refused.outcome, 'failed');
      assert.match(api.requests.at(-1)?.authError ?? '', /signature does not verify/);
    } finally {
      await api.stop();
    }
  });
});

describe('runTokenCommand', () => {
  test('prints an ExecCredential like `aws eks get-token`', async () => {
    // Prepare
    const printed: string[] = [];
    const now = Date.UTC(2025, 2, 1, 12, 0, 30);

    // Act
    await runTokenCommand({ cluster: 'ci-cluster', region: 'us-west-2' }, { stdout: (text) => printed.push(text) }, {
      credentials: async () => CREDENTIALS,
      now: () => now,
    });

    // Assess
    assert.equal(printed.length, 1);
    assert.ok(printed[0]?.endsWith('\n'));
    const credential = JSON.parse(printed[0] ?? '') as ExecCredential;
    assert.equal(credential.kind, 'ExecCredential');
    assert.equal(credential.apiVersion, 'client.authentication.k8s.io/v1beta1');
    assert.deepEqual(credential.spec, {});
    assert.equal(credential.status.expirationTimestamp, '2025-03-01T12:14:30Z');
    const verdict = verifyEksToken(credential.status.token, {
      clusterName: 'ci-cluster',
      region: 'us-west-2',
      credentials: CREDENTIALS,
      now: () => now,
    });
    assert.deepEqual(verdict, { ok: true, accessKeyId: 'AKIDEXAMPLE' });
  });
});
