/**
 * The deployed path on loopback, for the reliability tests and the soak: the built webhook and retry bundles (as
 * `npm run build` and the CDK app make them), SQS and EKS on one moto_server, Secrets Manager on another (so it can be
 * stopped alone), and the TLS Kubernetes API test server checking EKS tokens.
 *
 *   const bridge = await startBridgeHarness();
 *   const webhook = await bridge.coldWebhook();
 *   const answer = await webhook(bridge.apiGatewayEvent(delivery));
 *   await bridge.drain(await bridge.coldRetry());
 *   ...bridge.objectsFor(deliveryId), bridge.deadLetters...
 *   await bridge.stop();
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, PurgeQueueCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { buildBundle, coldStart } from './built-bundle.ts';
import { createMacKey } from './kms-mac-key.ts';
import { startKubeApiServer, type KubeApiServer, type StoredObject } from './kube-api-server.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from './moto-server.ts';
import { drainQueue, queueDepth, takeAll, type DrainReport, type SqsHandler } from './sqs-event-source.ts';

export type WebhookHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export const HARNESS_CLUSTER = 'ci-cluster';
export const HARNESS_SECRET = 'harness-webhook-secret';
export const HARNESS_CREDENTIALS = { accessKeyId: 'AKIDTEKTONBRIDGERETRY', secretAccessKey: 'tekton-bridge-retry-test-secret-access-key' };
/** Attempts in all (the webhook's first included) before the retry function parks a creation. */
export const HARNESS_MAX_ATTEMPTS = 5;
/** SQS's own backstop, above the function's attempts. */
export const HARNESS_MAX_RECEIVE_COUNT = 8;
const EVENT_ID_LABEL = 'triggers.tekton.dev/triggers-eventid';

export interface DeadLetterEntry {
  deliveryId?: string;
  trigger?: string;
  reason: string;
  body: Record<string, any>;
  /** The `mac` attribute, when the retry function signed the letter (a pending creation it parked). */
  mac?: string;
}

export interface BridgeHarness {
  api: KubeApiServer;
  moto: MotoServer;
  secretsMoto: MotoServer;
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  deadLetterQueueUrl: string;
  /** The KMS key (on `moto`) both functions MAC the retry queue's messages with. */
  macKeyArn: string;
  /** A port nothing listens on: the cluster's API when it is down. */
  downEndpoint: string;
  webhookEnv: (extra?: Record<string, string | undefined>) => Record<string, string | undefined>;
  retryEnv: (extra?: Record<string, string | undefined>) => Record<string, string | undefined>;
  coldWebhook: (extra?: Record<string, string | undefined>) => Promise<WebhookHandler>;
  coldRetry: (extra?: Record<string, string | undefined>) => Promise<SqsHandler>;
  apiGatewayEvent: (delivery: { headers: Record<string, string>; body: Buffer }) => APIGatewayProxyEventV2;
  /** Runs the retry handler over the queue until it is empty (or bounded out); the dead letters are collected. */
  drain: (retry: SqsHandler, options?: { maxPolls?: number; timeoutMs?: number }) => Promise<DrainReport>;
  /** Every dead letter taken from the DLQ so far (drain takes them). */
  deadLetters: DeadLetterEntry[];
  takeDeadLetters: () => Promise<DeadLetterEntry[]>;
  /** Objects on the cluster carrying the delivery's triggers-eventid label. */
  objectsFor: (deliveryId: string) => StoredObject[];
  queueDepth: () => Promise<{ visible: number; inFlight: number; delayed: number; total: number }>;
  /** Empties the cluster, the queues and the collected dead letters between cases. */
  reset: () => Promise<void>;
  stop: () => Promise<void>;
}

export interface BridgeHarnessOptions {
  triggersDir?: string;
  /** Verify the EKS tokens' SigV4 signatures too (the soak skips it to spend its time on the bridge). */
  verifyTokenSignatures?: boolean;
}

export async function startBridgeHarness(options: BridgeHarnessOptions = {}): Promise<BridgeHarness> {
  const triggersDir = options.triggersDir ?? 'triggers';
  const [webhookBundle, retryBundle, moto, secretsMoto, api, downEndpoint] = await Promise.all([
    buildBundle('functions/webhook.ts', triggersDir),
    buildBundle('functions/retry.ts', triggersDir),
    startMotoServer(),
    startMotoServer(),
    startKubeApiServer({
      eks: { clusterName: HARNESS_CLUSTER, region: 'us-east-1', ...(options.verifyTokenSignatures !== false && { credentials: HARNESS_CREDENTIALS }) },
    }),
    closedPortEndpoint(),
  ]);
  const sqs = new SQSClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
  const secrets = new SecretsManagerClient({ endpoint: secretsMoto.endpoint, ...MOTO_CLIENT_SETTINGS });
  const secretArn = (await secrets.send(new CreateSecretCommand({ Name: 'tekton-bridge/webhook', SecretString: HARNESS_SECRET }))).ARN as string;
  const deadLetterQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'tekton-bridge-dead-letters' }))).QueueUrl as string;
  const deadLetterArn = await queueArnOf(sqs, deadLetterQueueUrl);
  const queueUrl = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: 'tekton-bridge-retry',
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: HARNESS_MAX_RECEIVE_COUNT }) },
      }),
    )
  ).QueueUrl as string;
  const queueArn = await queueArnOf(sqs, queueUrl);
  const macKeyArn = await createMacKey(moto.endpoint);
  const recordedEvent = JSON.parse(readFileSync('test/fixtures/api-gateway/http-api-v2-event.json', 'utf8')) as APIGatewayProxyEventV2;

  const common = (): Record<string, string | undefined> => ({
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: HARNESS_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: HARNESS_CREDENTIALS.secretAccessKey,
    AWS_SESSION_TOKEN: undefined,
    AWS_ENDPOINT_URL: undefined,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsMoto.endpoint,
    AWS_ENDPOINT_URL_EKS: moto.endpoint,
    AWS_ENDPOINT_URL_SQS: moto.endpoint,
    AWS_ENDPOINT_URL_KMS: moto.endpoint,
    RETRY_MESSAGE_MAC_KEY_ARN: macKeyArn,
    CLUSTER_NAME: HARNESS_CLUSTER,
    CLUSTER_ENDPOINT: api.url,
    CLUSTER_CA: Buffer.from(api.caPem).toString('base64'),
    POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
  });
  const webhookEnv = (extra: Record<string, string | undefined> = {}) => ({
    ...common(),
    WEBHOOK_SECRET_ARN: secretArn,
    RETRY_QUEUE_URL: queueUrl,
    DEAD_LETTER_QUEUE_URL: undefined,
    ...extra,
  });
  const retryEnv = (extra: Record<string, string | undefined> = {}) => ({
    ...common(),
    WEBHOOK_SECRET_ARN: undefined,
    RETRY_QUEUE_URL: queueUrl,
    DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
    RETRY_MAX_ATTEMPTS: String(HARNESS_MAX_ATTEMPTS),
    RETRY_BACKOFF_BASE_SECONDS: '0',
    RETRY_BACKOFF_MAX_SECONDS: '0',
    ...extra,
  });

  const deadLetters: DeadLetterEntry[] = [];
  const takeDeadLetters = async () => {
    const taken = (await takeAll(sqs, deadLetterQueueUrl)).map(deadLetterOf);
    deadLetters.push(...taken);
    return taken;
  };

  return {
    api,
    moto,
    secretsMoto,
    sqs,
    queueUrl,
    queueArn,
    deadLetterQueueUrl,
    macKeyArn,
    downEndpoint,
    webhookEnv,
    retryEnv,
    coldWebhook: async (extra) => (await coldStart<{ handler: WebhookHandler }>(webhookBundle.url, webhookEnv(extra))).handler,
    coldRetry: async (extra) => (await coldStart<{ handler: SqsHandler }>(retryBundle.url, retryEnv(extra))).handler,
    apiGatewayEvent: (delivery) => ({
      ...recordedEvent,
      headers: { ...withoutSignatures(recordedEvent.headers), ...delivery.headers, 'content-length': String(delivery.body.length) },
      body: delivery.body.toString('base64'),
      isBase64Encoded: true,
    }),
    drain: async (retry, drainOptions = {}) => {
      const report = await drainQueue({ sqs, queueUrl, queueArn, handler: retry, ...drainOptions });
      await takeDeadLetters();
      return report;
    },
    deadLetters,
    takeDeadLetters,
    objectsFor: (deliveryId) => api.objects.filter((o) => o.metadata.labels?.[EVENT_ID_LABEL] === deliveryId),
    queueDepth: () => queueDepth(sqs, queueUrl),
    reset: async () => {
      api.objects.length = 0;
      api.requests.length = 0;
      api.setForbidden(false);
      await Promise.all([sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl })), sqs.send(new PurgeQueueCommand({ QueueUrl: deadLetterQueueUrl }))]);
      deadLetters.length = 0;
    },
    stop: async () => {
      await Promise.all([moto.stop(), secretsMoto.stop(), api.stop()]);
      for (const bundle of [webhookBundle, retryBundle]) rmSync(bundle.dir, { recursive: true, force: true });
    },
  };
}

async function queueArnOf(sqs: SQSClient, queueUrl: string): Promise<string> {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return Attributes?.QueueArn as string;
}

function deadLetterOf(message: Message): DeadLetterEntry {
  const body = JSON.parse(message.Body ?? '{}') as Record<string, any>;
  return {
    deliveryId: message.MessageAttributes?.deliveryId?.StringValue ?? body.deliveryId,
    trigger: message.MessageAttributes?.trigger?.StringValue ?? body.trigger,
    reason: message.MessageAttributes?.reason?.StringValue ?? body.deadLetter?.reason ?? body.reason,
    body,
    mac: message.MessageAttributes?.mac?.StringValue,
  };
}

function withoutSignatures(headers: APIGatewayProxyEventV2['headers']): Record<string, string> {
  const { 'x-hub-signature': _sha1, 'x-hub-signature-256': _sha256, ...rest } = headers as Record<string, string>;
  return rest;
}

/** An https:// endpoint on a loopback port that was free a moment ago: connecting is refused, as to a cluster that is down. */
function closedPortEndpoint(): Promise<string> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(`https://127.0.0.1:${port}`));
    });
  });
}

/** The invariant of the issue, for one delivery: exactly one object on the cluster, or none and a dead letter with a reason. */
export function settledExactlyOnce(bridge: BridgeHarness, deliveryId: string): { objects: number; deadLetters: number; reasons: string[] } {
  const letters = bridge.deadLetters.filter((d) => d.deliveryId === deliveryId);
  return { objects: bridge.objectsFor(deliveryId).length, deadLetters: letters.length, reasons: letters.map((d) => d.reason) };
}
