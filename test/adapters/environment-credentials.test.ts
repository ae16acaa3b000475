import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentialsFromEnvironment } from '../../functions/adapters/environment-credentials.ts';

describe('credentialsFromEnvironment', () => {
  it('answers the session credentials Lambda sets, read at each call', async () => {
    // Prepare
    const env: Record<string, string | undefined> = { AWS_ACCESS_KEY_ID: 'ASIAFIRST', AWS_SECRET_ACCESS_KEY: 'first-secret', AWS_SESSION_TOKEN: 'first-token' };
    const credentials = credentialsFromEnvironment(env);
    // Act
    const first = await credentials();
    Object.assign(env, { AWS_ACCESS_KEY_ID: 'ASIASECOND', AWS_SECRET_ACCESS_KEY: 'second-secret', AWS_SESSION_TOKEN: 'second-token', AWS_CREDENTIAL_EXPIRATION: '2026-12-02T01:00:00Z' });
    const second = await credentials();
    // Assess
    assert.deepEqual(first, { accessKeyId: 'ASIAFIRST', secretAccessKey: 'first-secret', sessionToken: 'first-token' });
    assert.deepEqual(second, { accessKeyId: 'ASIASECOND', secretAccessKey: 'second-secret', sessionToken: 'second-token', expiration: new Date('2026-12-02T01:00:00Z') });
  });

  it('long-term keys without a session token', async () => {
    assert.deepEqual(await credentialsFromEnvironment({ AWS_ACCESS_KEY_ID: 'AKIAKEY', AWS_SECRET_ACCESS_KEY: 'secret' })(), { accessKeyId: 'AKIAKEY', secretAccessKey: 'secret' });
  });

  it('names the missing variables, and never a value', async () => {
    // Act
    const missingSecret = credentialsFromEnvironment({ AWS_ACCESS_KEY_ID: 'AKIAKEY', AWS_SESSION_TOKEN: 'token-value' })();
    // Assess
    await assert.rejects(missingSecret, (error: Error) => {
      assert.match(error.message, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set/);
      assert.doesNotMatch(error.message, /AKIAKEY|token-value/);
      return true;
    });
    await assert.rejects(credentialsFromEnvironment({})(), /are not set/);
  });
});
