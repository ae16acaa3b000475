import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createDeliveryReporting } from '../../functions/adapters/delivery-reporting.ts';
import { credentialsFromSecretsManager } from '../../functions/adapters/github-credentials-source.ts';
import { createGithubReporting } from '../../functions/adapters/github-reporting.ts';
import { createSecretValueReader } from '../../functions/adapters/secrets-manager-call.ts';
import type { TriggersConfig } from '../../functions/core/triggers-config.ts';

const CREDENTIALS_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:tekton-bridge-github-AbCdEf';

describe('the webhook reading the GitHub credentials ahead', () => {
  // A Secrets Manager on loopback that records each GetSecretValue, holding the secret a new stack creates: {}.
  const reads: Array<{ target: string | undefined; secretId: string }> = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    reads.push({ target: request.headers['x-amz-target'] as string | undefined, secretId: (JSON.parse(body) as { SecretId: string }).SecretId });
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ SecretString: '{}', CreatedDate: 1_764_000_000 }));
  });
  let endpoint = '';
  before(async () => {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('starts one read of the credentials secret before any report, and no other while it is answered or cached', { timeout: 10_000 }, async () => {
    // Prepare
    const readCredentials = credentialsFromSecretsManager({
      client: createSecretValueReader({ region: 'us-east-1', credentials: async () => ({ accessKeyId: 'AKIATEST', secretAccessKey: 'test-secret' }), endpoint }),
      secretId: CREDENTIALS_SECRET,
    });
    const reporting = createDeliveryReporting({
      github: { credentialsSecretArn: CREDENTIALS_SECRET, apiUrl: undefined, detailsUrlTemplate: undefined, reportBudgetMs: 2000 },
      config: { eventListeners: [] } as unknown as TriggersConfig,
      verifyRun: async () => ({ ok: false, mismatch: false, reason: 'no run is reported in this test' }),
      warn: () => undefined,
      readCredentials,
      access: createGithubReporting({ readCredentials, apiUrl: undefined, warn: () => undefined }),
    });
    // Act
    reporting.readAhead();
    reporting.readAhead();
    await once(server, 'request');
    // Let the answer land, so the last call meets the cache rather than the read in flight.
    await new Promise((resolve) => setTimeout(resolve, 50));
    reporting.readAhead();
    // Assess
    assert.deepEqual(reads, [{ target: 'secretsmanager.GetSecretValue', secretId: CREDENTIALS_SECRET }]);
  });
});
