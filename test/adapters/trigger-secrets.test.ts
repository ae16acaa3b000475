import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretValueReader } from '../../functions/adapters/secrets-manager-call.ts';
import { createTriggerSecretsSource, parseTriggerSecrets } from '../../functions/adapters/trigger-secrets.ts';
import { TriggerSecretError } from '../../functions/core/cel/evaluation-scope.ts';
import { MOTO_CLIENT_SETTINGS, startMotoServer, type MotoServer } from '../support/moto-server.ts';

describe('parseTriggerSecrets', () => {
  test('reads {"<secretName>": {"<secretKey>": "value"}} and answers undefined for what is not there', () => {
    const store = parseTriggerSecrets(JSON.stringify({ 'github-secret': { token: 't0k' }, other: {} }), 'the test document');
    assert.equal(store('github-secret', 'token'), 't0k');
    assert.equal(store('github-secret', 'missing'), undefined);
    assert.equal(store('missing', 'token'), undefined);
    assert.equal(store('constructor', 'name'), undefined);
  });

  const bad: [string, RegExp][] = [
    ['not json', /is not JSON/],
    ['["a"]', /must be a JSON object of secrets/],
    ['{"s": "flat-value"}', /secret "s" must be an object of keys/],
    ['{"s": {"k": {"nested": "hidden-value"}}}', /key "k" of secret "s" must be a string/],
  ];
  for (const [text, message] of bad) {
    test(`refuses ${text.slice(0, 30)} naming the problem, never a value`, () => {
      assert.throws(() => parseTriggerSecrets(text, 'the test document'), (error: Error) => {
        assert.ok(error instanceof TriggerSecretError);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /flat-value|hidden-value/);
        return true;
      });
    });
  }
});

describe('createTriggerSecretsSource against moto', { timeout: 60_000 }, () => {
  let moto: MotoServer;
  before(async () => {
    moto = await startMotoServer();
  });
  after(async () => {
    await moto.stop();
  });

  test('reads the secret once per TTL, serves the cached copy while Secrets Manager fails, and names the secret when it cannot', async () => {
    // Prepare
    const admin = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
    const { ARN } = await admin.send(new CreateSecretCommand({ Name: 'trigger-secrets', SecretString: JSON.stringify({ deploy: { token: 'one' } }) }));
    const reader = createSecretValueReader({ region: MOTO_CLIENT_SETTINGS.region, credentials: async () => MOTO_CLIENT_SETTINGS.credentials, endpoint: moto.endpoint });
    let calls = 0;
    let failing = false;
    const client = {
      getSecretValue: async (input: { SecretId: string; VersionStage?: string }) => {
        calls += 1;
        if (failing) throw new Error('connect ECONNREFUSED');
        return reader.getSecretValue(input);
      },
    };
    let time = 0;
    const source = createTriggerSecretsSource({ client, secretId: ARN ?? '', now: () => time, ttlMs: 1000, maxStaleMs: 5000 });

    // Act, Assess
    assert.equal((await source())('deploy', 'token'), 'one');
    await admin.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: JSON.stringify({ deploy: { token: 'two' } }) }));
    assert.equal((await source())('deploy', 'token'), 'one');
    assert.equal(calls, 1);
    time = 1500;
    assert.equal((await source())('deploy', 'token'), 'two');
    failing = true;
    time = 3000;
    assert.equal((await source())('deploy', 'token'), 'two');
    time = 10_000;
    await assert.rejects(source(), (error: Error) => error instanceof TriggerSecretError && /trigger secrets .*trigger-secrets.*ECONNREFUSED/.test(error.message));
  });
});
