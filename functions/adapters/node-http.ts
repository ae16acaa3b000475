import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { DeliveryRequest } from '../core/delivery-types.ts';
import type { DeliveryReport } from '../core/handle-delivery.ts';
import { MAX_EVENT_BYTES, type TektonEventAnswer } from '../core/reporting/handle-tekton-event.ts';

export interface WebhookServerOptions {
  handle: (request: DeliveryRequest) => Promise<DeliveryReport>;
  maxBodyBytes: number;
  onError?: (error: unknown) => void;
  /** `POST /tekton/events`, when the bridge reports to GitHub. */
  handleTektonEvent?: (request: { headers: Record<string, string | undefined>; body: Uint8Array; receivedBytes: number }) => Promise<TektonEventAnswer>;
}

const WEBHOOK_PATH = /^\/webhook(\/[^/?]*)?\/?(\?.*)?$/;

/** The local adapter: node:http in, the core's answer out. `POST /webhook[/listener]` and `GET /healthz`. */
export function createWebhookServer(options: WebhookServerOptions): Server {
  const server = createServer((req, res) => {
    route(req, res, options).catch((error: unknown) => {
      options.onError?.(error);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error while handling the delivery' });
      else res.destroy();
    });
  });
  // GitHub gives up after 10 s; a slow or stalled upload should not hold a socket for minutes.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  return server;
}

async function route(req: IncomingMessage, res: ServerResponse, options: WebhookServerOptions): Promise<void> {
  const url = req.url ?? '/';
  if (url === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) return sendJson(res, 200, { ok: true });
  if (options.handleTektonEvent && /^\/tekton\/events\/?(\?.*)?$/.test(url)) {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return sendJson(res, 405, { error: `${req.method} is not allowed: Tekton's events are POSTed` });
    }
    const { body, receivedBytes } = await readBody(req, MAX_EVENT_BYTES);
    const answer = await options.handleTektonEvent({ headers: flattenHeaders(req), body, receivedBytes });
    return sendJson(res, answer.status, answer.body);
  }
  const webhook = WEBHOOK_PATH.exec(url);
  if (!webhook) return sendJson(res, 404, { error: `no route for ${req.method} ${url.split('?')[0]}: deliveries go to POST /webhook` });
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return sendJson(res, 405, { error: `${req.method} is not allowed: deliveries are POSTed` });
  }
  const { body, receivedBytes } = await readBody(req, options.maxBodyBytes);
  const headers = flattenHeaders(req);
  const requestURL = `http://${headers.host ?? 'localhost'}${url}`;
  const report = await options.handle({ listenerPath: webhook[1] ?? '', headers, body, receivedBytes, requestURL });
  sendJson(res, report.answer.status, report.answer.body);
}

/** Buffers up to the limit; past it, keeps counting (so the answer can say how much) but stores nothing more. */
function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<{ body: Buffer; receivedBytes: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    req.on('data', (chunk: Buffer) => {
      receivedBytes += chunk.length;
      if (receivedBytes <= maxBodyBytes) chunks.push(chunk);
    });
    req.on('end', () => resolve({ body: receivedBytes <= maxBodyBytes ? Buffer.concat(chunks, receivedBytes) : Buffer.alloc(0), receivedBytes }));
    req.on('error', reject);
  });
}

/** A repeated header's values joined with "," as Tekton Triggers joins them (and API Gateway does). */
function flattenHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, values] of Object.entries(req.headersDistinct)) headers[name] = values?.join(',');
  return headers;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
