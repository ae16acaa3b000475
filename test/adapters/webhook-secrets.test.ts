import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, DescribeSecretCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { WebhookSecretUnavailableError } from '../../functions/adapters/adapter-errors.ts';
import { createWebhookSecretSource } from '../../functions/adapters/webhook-secrets.ts';
import { createSecretValueReader, type SecretValueReader } from '../../functions/adapters/secrets-manager-call.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';
import { skipWithout } from '../support/command-on-path.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

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

  test('the common path reads AWSCURRENT alone, once per TTL; AWSPREVIOUS only when asked', async () => {
    // Prepare
    const { client, admin, stages } = countedClient(moto.endpoint);
    const { ARN } = await admin.send(new CreateSecretCommand({ Name: 'webhook-plain', SecretString: 'first-secret' }));
    const clock = manualClock(Date.now());
    const secrets = createWebhookSecretSource({ client, secretId: ARN ?? '', now: clock.now });

    // Act
    const first = await secrets.current();
    clock.advance(4 * MINUTE);
    const cached = await secrets.current();
    const readsBefore = [...stages];
    const previous = await secrets.previous();

    // Assess
    assert.deepEqual(first, ['first-secret']);
    assert.deepEqual(cached, ['first-secret']);
    assert.deepEqual(readsBefore, ['AWSCURRENT'], 'one GetSecretValue on the common path');
    assert.deepEqual(previous, [], 'no AWSPREVIOUS outside a rotation');
    assert.deepEqual(stages, ['AWSCURRENT', 'AWSPREVIOUS']);
  });

  test('after a rotation: the new secret once the TTL has passed, the old one only within the grace period', async () => {
    // Prepare
    const { client, admin, stages } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-rotating', SecretString: 'old-secret' }));
    const clock = manualClock(Date.now());
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-rotating', ttlMs: 5 * MINUTE, graceMs: 24 * HOUR, now: clock.now });
    assert.deepEqual(await secrets.current(), ['old-secret']);
    await admin.send(new PutSecretValueCommand({ SecretId: 'webhook-rotating', SecretString: 'new-secret' }));

    // Act
    clock.advance(5 * MINUTE - 1);
    const beforeTtl = await secrets.current();
    clock.advance(1);
    const afterTtl = await secrets.current();
    const withinGrace = await secrets.previous();
    clock.advance(24 * HOUR);
    const pastGrace = await secrets.previous();

    // Assess
    assert.deepEqual(beforeTtl, ['old-secret']);
    assert.deepEqual(afterTtl, ['new-secret']);
    assert.deepEqual(withinGrace, ['old-secret']);
    assert.deepEqual(pastGrace, [], 'AWSPREVIOUS still exists, but the rotation has revoked it by itself');
    assert.ok(stages.filter((s) => s === 'AWSPREVIOUS').length >= 1);
  });

  test('revoking at once: update-secret-version-stage --remove-from-version-id, effective within the TTL', async () => {
    // Prepare: a rotation, and the old secret accepted.
    const { client, admin } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-revoked', SecretString: 'leaked-secret' }));
    await admin.send(new PutSecretValueCommand({ SecretId: 'webhook-revoked', SecretString: 'fresh-secret' }));
    const clock = manualClock(Date.now());
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-revoked', ttlMs: 5 * MINUTE, now: clock.now });
    assert.deepEqual(await secrets.previous(), ['leaked-secret']);
    const { VersionIdsToStages = {} } = await admin.send(new DescribeSecretCommand({ SecretId: 'webhook-revoked' }));
    const previousVersion = Object.entries(VersionIdsToStages).find(([, stages]) => stages.includes('AWSPREVIOUS'))?.[0];
    assert.ok(previousVersion);

    // Act
    await admin.send(new UpdateSecretVersionStageCommand({ SecretId: 'webhook-revoked', VersionStage: 'AWSPREVIOUS', RemoveFromVersionId: previousVersion }));
    clock.advance(5 * MINUTE);

    // Assess
    assert.deepEqual(await secrets.previous(), []);
    assert.deepEqual(await secrets.current(), ['fresh-secret']);
  });

  test('a grace period of 0 never accepts the previous secret', async () => {
    const { client, admin, stages } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-no-grace', SecretString: 'a-secret' }));
    await admin.send(new PutSecretValueCommand({ SecretId: 'webhook-no-grace', SecretString: 'b-secret' }));
    const clock = manualClock(Date.now() + 1000);
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-no-grace', graceMs: 0, now: clock.now });
    assert.deepEqual(await secrets.previous(), []);
    assert.deepEqual(stages, ['AWSCURRENT'], 'not even read');
  });

  test('an empty or whitespace AWSCURRENT is refused, never used', async () => {
    const { client, admin } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-blank', SecretString: ' \n\t ' }));
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-blank' });
    await assert.rejects(secrets.current(), /webhook-blank \(AWSCURRENT\) is empty or whitespace/);
    assert.deepEqual(await secrets.previous(), []);
  });

  test('concurrent callers share one read', async () => {
    // Prepare
    const { client, admin, stages } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-concurrent', SecretString: 'shared' }));
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-concurrent' });

    // Act
    const answers = await Promise.all([secrets.current(), secrets.current(), secrets.current()]);

    // Assess
    assert.deepEqual(answers, [['shared'], ['shared'], ['shared']]);
    assert.equal(stages.length, 1);
  });

  test('a missing secret is a clear error that keeps its cause', async () => {
    // Prepare
    const { client, admin } = countedClient(moto.endpoint);
    const secrets = createWebhookSecretSource({ client, secretId: 'no-such-webhook-secret' });

    // Act
    const failure = await secrets.current().catch((error: unknown) => error);

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
    await assert.rejects(secrets.current(), /webhook-binary \(AWSCURRENT\) has no SecretString/);
  });

  test('when moto is gone, a recent cached value is served, and an old one is not', async () => {
    // Prepare
    const { client, admin } = countedClient(moto.endpoint);
    await admin.send(new CreateSecretCommand({ Name: 'webhook-outage', SecretString: 'still-good' }));
    const clock = manualClock();
    const secrets = createWebhookSecretSource({ client, secretId: 'webhook-outage', ttlMs: 5 * MINUTE, maxStaleMs: 60 * MINUTE, now: clock.now });
    assert.deepEqual(await secrets.current(), ['still-good']);
    await moto.stop();

    // Act
    clock.advance(30 * MINUTE);
    const stale = await secrets.current();
    clock.advance(30 * MINUTE);
    const failure = await secrets.current().catch((error: unknown) => error);

    // Assess
    assert.deepEqual(stale, ['still-good']);
    assert.ok(failure instanceof WebhookSecretUnavailableError);
    assert.match(failure.message, /^could not read the webhook secret webhook-outage from Secrets Manager: .*ECONNREFUSED/);
    assert.ok(failure.cause);
  });
});
