import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { requestFromApiGateway } from '../../functions/adapters/api-gateway.ts';
import { createWebhookServer } from '../../functions/adapters/node-http.ts';
import type { DeliveryRequest } from '../../functions/core/delivery-types.ts';
import type { DeliveryReport } from '../../functions/core/handle-delivery.ts';

const event = JSON.parse(readFileSync('test/fixtures/api-gateway/http-api-v2-event.json', 'utf8')) as APIGatewayProxyEventV2;

describe("requestURL, CEL's URL of the delivery", () => {
  test('from an API Gateway HTTP API event: scheme, domain, raw path and raw query', () => {
    assert.equal(requestFromApiGateway(event).requestURL, 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/webhook');
    const withQuery = { ...event, rawPath: '/webhook/github-push', rawQueryString: 'a=1&b=%20x' };
    assert.equal(requestFromApiGateway(withQuery).requestURL, 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/webhook/github-push?a=1&b=%20x');
  });

  test('from the node:http request serve receives', async () => {
    // Prepare
    let seen: DeliveryRequest | undefined;
    const server = createWebhookServer({
      maxBodyBytes: 1024,
      handle: async (request) => {
        seen = request;
        return { answer: { status: 200, body: {} } } as DeliveryReport;
      },
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      // Act
      await fetch(`http://127.0.0.1:${port}/webhook/ci?x=1`, { method: 'POST', body: '{}' });
      // Assess
      assert.equal(seen?.requestURL, `http://127.0.0.1:${port}/webhook/ci?x=1`);
    } finally {
      server.close();
      server.closeAllConnections();
    }
  });
});
