// The deployed bridge on loopback, for the cold-start bench: the outside world (Secrets Manager, EKS and SQS on
// moto_server, the TLS Kubernetes API test server checking EKS token signatures), each behind a delay proxy; the
// functions as `cdk synth` ships them (their asset folders), and the environment the stack gives them plus what Lambda
// itself sets.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { signedDelivery } from '../test/support/deliveries.ts';
import { startEksFront } from '../test/support/eks-front.ts';
import { pushToDefaultBranch } from '../test/support/github-examples.ts';
import { startGithubApiServer } from '../test/support/github-api-server.ts';
import { createMacKey } from '../test/support/kms-mac-key.ts';
import { startKubeApiServer } from '../test/support/kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer } from '../test/support/moto-server.ts';
import { synthesizeApp, type SynthesizedFunction } from '../test/support/synthesized-app.ts';
import { startDelayProxy } from './delay-proxy.ts';

export const BENCH_CLUSTER = 'bench';
export const BENCH_SECRET = 'bench-webhook-secret';
const CREDENTIALS = { accessKeyId: 'ASIABENCHBENCHBENCH1', secretAccessKey: 'bench-secret-access-key', sessionToken: 'bench-session-token' };

export interface DeployedBridge {
  /** The webhook function of each synthesized app: `current` (this checkout, or `root`) and, when asked, `against`. */
  webhook: Record<string, SynthesizedFunction>;
  /** The environment of the deployed path (CLUSTER_ENDPOINT and CLUSTER_CA set, as the stack sets them). */
  deployedEnv: (fn: SynthesizedFunction) => NodeJS.ProcessEnv;
  /** The deployed path with reporting to GitHub on: the credentials secret filled in (`deployedEnv` has it holding `{}`). */
  reportingEnv: (fn: SynthesizedFunction) => NodeJS.ProcessEnv;
  /** The DescribeCluster path: the same, without CLUSTER_ENDPOINT and CLUSTER_CA. */
  describeEnv: (fn: SynthesizedFunction) => NodeJS.ProcessEnv;
  /** A new signed push (its own head commit, so its own PipelineRun) as an API Gateway event file. */
  newEvent: (padding?: number) => Promise<string>;
  /** PipelineRuns created so far. */
  created: () => number;
  stop: () => Promise<void>;
}

export async function startDeployedBridge(options: { work: string; roundTripMs: number; root?: string; against?: string }): Promise<DeployedBridge> {
  const { work, roundTripMs } = options;
  const stops: Array<() => Promise<void>> = [];
  try {
    const moto = await startMotoServer();
    stops.push(moto.stop);
    const api = await startKubeApiServer({ eks: { clusterName: BENCH_CLUSTER, region: 'us-east-1', credentials: CREDENTIALS } });
    stops.push(api.stop);
    const behind = async (url: string) => {
      const target = new URL(url);
      const proxy = await startDelayProxy({ host: target.hostname, port: Number(target.port) }, roundTripMs);
      stops.push(proxy.stop);
      return `${target.protocol}//${proxy.host}:${proxy.port}`;
    };
    const motoUrl = await behind(moto.endpoint);
    const apiUrl = await behind(api.url);
    const eksFront = await startEksFront({ upstream: moto.endpoint, serving: { endpoint: apiUrl, caPem: api.caPem } });
    stops.push(eksFront.stop);
    const eksUrl = await behind(eksFront.endpoint);
    const github = await startGithubApiServer({ token: 'ghp_bench' });
    stops.push(github.stop);
    const githubUrl = await behind(github.url);

    const secretArn = (await new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS }).send(new CreateSecretCommand({ Name: 'bench-webhook', SecretString: BENCH_SECRET }))).ARN as string;
    await new EKSClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS }).send(
      new CreateClusterCommand({ name: BENCH_CLUSTER, roleArn: 'arn:aws:iam::123456789012:role/eks', resourcesVpcConfig: {} }),
    );
    const macKeyArn = await createMacKey(moto.endpoint);
    const githubSecretArn = (await new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS }).send(new CreateSecretCommand({ Name: 'bench-github', SecretString: '{"token":"ghp_bench"}' }))).ARN as string;
    // The secret a stack deployed without credentials creates, not filled in yet.
    const unfilledGithubSecretArn = (await new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS }).send(new CreateSecretCommand({ Name: 'bench-github-unfilled', SecretString: '{}' }))).ARN as string;
    const queueUrl = (await new SQSClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS }).send(new CreateQueueCommand({ QueueName: 'bench-retry' }))).QueueUrl as string;

    // The stack gets the cluster's endpoint and CA as context, as a user who knows them would give them.
    const context = { clusterName: BENCH_CLUSTER, clusterEndpoint: apiUrl, clusterCa: Buffer.from(api.caPem).toString('base64'), webhookSecretArn: secretArn };
    const roots: Record<string, string | undefined> = { current: options.root, ...(options.against && { against: options.against }) };
    const webhook: Record<string, SynthesizedFunction> = {};
    for (const [name, root] of Object.entries(roots)) {
      const app = await synthesizeApp({ outdir: join(work, `${name}-cdk.out`), context, ...(root && { root }) });
      if (!app.functions.webhook) throw new Error(`${name}: no webhook function in the synthesized app`);
      webhook[name] = app.functions.webhook;
    }

    // What CloudFormation would resolve at deploy time, resolved to the loopback world; anything else stops the bench.
    const deployTime: Record<string, string> = { RETRY_QUEUE_URL: queueUrl, RETRY_MESSAGE_MAC_KEY_ARN: macKeyArn, GITHUB_CREDENTIALS_SECRET_ARN: unfilledGithubSecretArn };
    const deployedEnv = (fn: SynthesizedFunction): NodeJS.ProcessEnv => {
      const fromStack = Object.fromEntries(
        Object.entries(fn.environment).map(([name, value]) => {
          if (typeof value === 'string') return [name, value];
          const resolved = deployTime[name];
          if (resolved === undefined) throw new Error(`${fn.functionName}: the bench cannot resolve ${name} = ${value.unresolved}`);
          return [name, resolved];
        }),
      );
      if (fromStack.RETRY_QUEUE_URL && !fromStack.RETRY_MESSAGE_MAC_KEY_ARN) {
        // The webhook refuses to start with a queue and no key to MAC its messages: the stack must set both.
        process.stderr.write(`bench: ${fn.functionName}'s template sets RETRY_QUEUE_URL without RETRY_MESSAGE_MAC_KEY_ARN; the bench adds a key\n`);
        fromStack.RETRY_MESSAGE_MAC_KEY_ARN = macKeyArn;
      }
      return {
        PATH: process.env.PATH,
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        AWS_REGION: 'us-east-1',
        AWS_DEFAULT_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: CREDENTIALS.sessionToken,
        AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
        AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
        LAMBDA_TASK_ROOT: fn.assetDir,
        ...fn.loggingEnvironment,
        ...fromStack,
        // The loopback world instead of AWS's endpoints.
        AWS_ENDPOINT_URL_SECRETS_MANAGER: motoUrl,
        AWS_ENDPOINT_URL_SQS: motoUrl,
        AWS_ENDPOINT_URL_KMS: motoUrl,
        AWS_ENDPOINT_URL_EKS: eksUrl,
      };
    };
    const reportingEnv = (fn: SynthesizedFunction): NodeJS.ProcessEnv => ({ ...deployedEnv(fn), GITHUB_CREDENTIALS_SECRET_ARN: githubSecretArn, GITHUB_API_URL: githubUrl });
    const describeEnv = (fn: SynthesizedFunction): NodeJS.ProcessEnv => {
      const { CLUSTER_ENDPOINT: _endpoint, CLUSTER_CA: _ca, ...env } = deployedEnv(fn);
      return env;
    };

    const recorded = JSON.parse(readFileSync('test/fixtures/api-gateway/http-api-v2-event.json', 'utf8')) as { headers: Record<string, string> };
    const { 'x-hub-signature': _sha1, ...recordedHeaders } = recorded.headers;
    const events = join(work, 'events');
    mkdirSync(events, { recursive: true });
    let count = 0;
    const newEvent = async (padding = 0): Promise<string> => {
      count += 1;
      const payload = { ...pushToDefaultBranch(), after: randomBytes(20).toString('hex'), ...(padding > 0 && { padding: 'x'.repeat(padding) }) };
      const delivery = await signedDelivery('push', payload, { secret: BENCH_SECRET, deliveryId: `bench-${count}` });
      const file = join(events, `event-${count}.json`);
      const event = { ...recorded, headers: { ...recordedHeaders, ...delivery.headers, 'content-length': String(delivery.body.length) }, body: delivery.body.toString('utf8'), isBase64Encoded: false };
      writeFileSync(file, JSON.stringify(event));
      return file;
    };

    return {
      webhook,
      deployedEnv,
      reportingEnv,
      describeEnv,
      newEvent,
      created: () => api.objects.length,
      stop: async () => {
        for (const stop of stops.reverse()) await stop();
      },
    };
  } catch (error) {
    for (const stop of stops.reverse()) await stop();
    throw error;
  }
}
