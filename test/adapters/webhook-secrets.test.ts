import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WebhookSecretUnavailableError } from '../../functions/adapters/adapter-errors.ts';
import { createWebhookSecretSource } from '../../functions/adapters/webhook-secrets.ts';
import { createSecretValueReader, type SecretValueReader } from '../../functions/adapters/secrets-manager-call.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { skipWithout } from '../support/command-on-path.ts';

const MINUTE = 60_000;

/** The bridge's own signed GetSecretValue call against moto, counting the stages it asks for; `admin` sets secrets up. */
function countedClient(endpoint: string): { client: SecretValueReader; admin: SecretsManagerClient; stages: string[] } {
  const admin = new SecretsManagerClient({ endpoint, ...MOTO_CLIENT_SETTINGS });
  const reader = createSecretValueReader({ region: MOTO_CLIENT_SETTINGS.region, credentials: async () => MOTO_CLIENT_SETTINGS.credentials, endpoint });
  const stages: string[] = [];
  const client: SecretValueReader = {
    getSecretValue: (input) => {
      stages.push(String(input.VersionStage));
      return reader.getSecretValue(input);
    },
  };
  return { client, admin, stages };
}

function manualClock(start = Date.UTC(2025, 0, 1)): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('createWebhookSecretSource against moto', { timeout: 60_000, skip: skipWithout('moto_server') }, () => {
  let moto: MotoServer;

  before(async () => {
    moto = await startMotoServer();
  });

  after(async () => {
    await moto.stop();
  });

  test('reads AWSCURRENT alone outside a rotation, and caches it for the TTL', async () => {
    // Prepare
    const { client, admin, stages } = countedClient(moto.endpoint);
    const { ARN } = await admin.send(new CreateSecretCommand({ Name: 'webhook-plain', SecretString: 'first-secret' }));
    const clock = manualClock();
    const secrets = createWebhookSecretSource({ client, secretId: ARN ?? '', now: clock.now });

    // Act
    const first = await secrets();
    clock.advance(4 * MINUTE);
    const cached = await secrets();

    // Assess
    assert.deepEqual(first, ['first-secret']);
    assert.deepEqual(cached, ['first-secret']);
    assert.deepEqual(stages.sort(), ['AWSCURRENT', 'AWSPREVIOUS']);
  });

  test('after a rotation, AWSCURRENT then AWSPREVIOUS once the TTL has passed', async () => {
    // Prepare
    const { client, admin, stages } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-rotating', SecretString: 'old-secret' }));
    const clock = manualClock();
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-rotating', ttlMs: 5 * MINUTE, now: clock.now });
    assert.deepEqual(await secrets(), ['old-secret']);
    await admin.send(new PutSecretValueCommand({ SecretId: 'webhook-rotating', SecretString: 'new-secret' }));

    // Act
    clock.advance(5 * MINUTE - 1);
    const beforeTtl = await secrets();
    clock.advance(1);
    const afterTtl = await secrets();

    // Assess
    assert.deepEqual(beforeTtl, ['old-secret']);
    assert.deepEqual(afterTtl, ['new-secret', 'old-secret']);
    assert.equal(stages.length, 4);
  });

  test('concurrent callers share one read', async () => {
    // Prepare
    const { client, admin, stages } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-concurrent', SecretString: 'shared' }));
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-concurrent' });

    // Act
    const answers = await Promise.all([secrets(), secrets(), secrets()]);

    // Assess
    assert.deepEqual(answers, [['shared'], ['shared'], ['shared']]);
    assert.equal(stages.length, 2);
  });

  test('a missing secret is a clear error that keeps its cause', async () => {
    // Prepare
    const { client, admin } = countedClient(moto.endpoint);
    const secrets = createWebhookSecretSource({ client, secretId: 'no-such-webhook-secret' });

    // Act
    const failure = await secrets().catch((error: unknown) => error);

    // Assess
    assert.ok(failure instanceof WebhookSecretUnavailableError);
    assert.equal(failure.name, 'WebhookSecretUnavailableError');
    assert.match(failure.message, /^could not read the webhook secret no-such-webhook-secret from Secrets Manager: ResourceNotFoundException/);
    assert.equal((failure.cause as Error).name, 'ResourceNotFoundException');
  });

  test('a binary secret is refused with a reason', async () => {
    // Prepare
    const { client, admin } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-binary', SecretBinary: Buffer.from([1, 2, 3]) }));
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-binary' });

    // Act / Assess
    await assert.rejects(secrets(), /webhook-binary \(AWSCURRENT\) has no SecretString/);
  });

  test('when moto is gone, a recent cached value is served, and an old one is not', async () => {
    // Prepare
    const { client, admin } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-outage', SecretString: 'still-good' }));
    const clock = manualClock();
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-outage', ttlMs: 5 * MINUTE, maxStaleMs: 60 * MINUTE, now: clock.now });
    assert.deepEqual(await secrets(), ['still-good']);
    await moto.stop();

    // Act
    clock.advance(30 * MINUTE);
    const stale = await secrets();
    clock.advance(30 * MINUTE);
    const failure = await secrets().catch((error: unknown) => error);

    // Assess
    assert.deepEqual(stale, ['still-good']);
    assert.ok(failure instanceof WebhookSecretUnavailableError);
    assert.match(failure.message, /^could not read the webhook secret webhook-outage from Secrets Manager: .*ECONNREFUSED/);
    assert.ok(failure.cause);
  });
});
