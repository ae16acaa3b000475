/**
 * API Gateway's part on loopback: an HTTP server that turns each request into an HTTP API (payload 2.0) event, hands it
 * to a Lambda handler, and writes its result back. For the soak, which sends real HTTP to the built webhook bundle.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type LambdaHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** API Gateway HTTP APIs refuse bodies over 10 MB themselves. */
const MAX_BODY = 10 * 1024 * 1024;

export async function startApiGatewayFront(pickHandler: () => LambdaHandler): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY) {
        res.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"Request Entity Too Large"}');
        return;
      }
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const listener = /^\/webhook\/([^/]+)$/.exec(url.pathname)?.[1];
      const event = {
        version: '2.0',
        routeKey: listener ? 'POST /webhook/{listener}' : 'POST /webhook',
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        ...(listener && { pathParameters: { listener } }),
        requestContext: {
          accountId: '123456789012',
          apiId: 'loopback',
          domainName: '127.0.0.1',
          domainPrefix: 'loopback',
          http: { method: req.method ?? 'POST', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
          requestId: `${Date.now()}-${Math.random()}`,
          routeKey: 'POST /webhook',
          stage: '$default',
          time: new Date().toUTCString(),
          timeEpoch: Date.now(),
        },
        body: body.toString('base64'),
        isBase64Encoded: true,
      } as APIGatewayProxyEventV2;
      pickHandler()(event).then(
        (result) => {
          res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>).end(result.body ?? '');
        },
        () => {
          // As API Gateway answers when the integration throws.
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
        },
      );
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
