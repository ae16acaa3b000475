import { createClusterClient } from './adapters/cluster-resources.ts';
import { credentialsFromEnvironment } from './adapters/environment-credentials.ts';
import { readWebhookEnvironment } from './adapters/environment.ts';
import { createSecretValueReader } from './adapters/secrets-manager-call.ts';
import { createWebhookSecretSource } from './adapters/webhook-secrets.ts';

const HOUR_MS = 3_600_000;

// What a cold delivery waits on, made with the light adapters only, so that the webhook secret's read and (when the
// endpoint is configured) the connection to the cluster's API are under way while the rest of the bundle (the config,
// CEL, Powertools) is evaluated. A bad environment fails the cold start here, as before.
export const env = readWebhookEnvironment(process.env);
export const credentials = credentialsFromEnvironment();
export const secretsManager = createSecretValueReader({ region: env.region, credentials, endpoint: env.secretsManagerEndpoint });
export const webhookSecrets = createWebhookSecretSource({
  client: secretsManager,
  secretId: env.webhookSecretArn,
  graceMs: env.previousSecretGraceHours * HOUR_MS,
});

export const clusterClient = createClusterClient({
  region: env.region,
  clusterName: env.clusterName,
  cluster: env.cluster,
  eksEndpoint: env.eksEndpoint,
  credentials,
  connectNow: true,
});

// The source caches what this read gets, and shares it while it is pending; a failure is not cached, so the delivery
// reads again and answers 503 only if that read fails too.
webhookSecrets.current().catch(() => undefined);

/**
 * Evaluating modules does not turn the event loop, so a request started before it would wait for the end of it to be
 * written: the signing settles in microtasks, then the connection and the write each take a turn (a DNS lookup, or a
 * TLS handshake's flights, one more each).
 */
export async function turnTheEventLoop(turns: number): Promise<void> {
  for (let turn = 0; turn < turns; turn += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}
