/**
 * An HTTP front for moto's EKS endpoint, on loopback: forwards every request to moto and records it, and can
 * answer DescribeCluster with a cluster that really serves (moto's own endpoint is a made-up host) or with a fault.
 *
 *   const eks = await startEksFront({ upstream: moto.endpoint, serving: { endpoint: api.url, caPem: api.caPem } });
 *   // AWS_ENDPOINT_URL_EKS = eks.endpoint
 *   eks.injectFault({ status: 429, type: 'ThrottlingException', message: 'Rate exceeded' });
 *   ...assert on eks.requests...
 *   await eks.stop();
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EksFault {
  status: number;
  /** The restJson1 error type, sent in `x-amzn-errortype`. */
  type: string;
  message: string;
}

export interface EksFront {
  endpoint: string;
  /** Method, path and SigV4 credential scope (`us-east-1/eks/aws4_request`) of every request, in order, faults included. */
  requests: Array<{ method: string; path: string; credentialScope: string | undefined }>;
  /** Each fault answers the next request instead of moto. */
  injectFault: (...faults: EksFault[]) => void;
  /** From now on, DescribeCluster answers carry this endpoint and CA instead of moto's (undefined: moto's own). */
  serve: (serving: { endpoint: string; caPem: string } | undefined) => void;
  stop: () => Promise<void>;
}

export async function startEksFront(options: { upstream: string; serving?: { endpoint: string; caPem: string } }): Promise<EksFront> {
  const upstream = new URL(options.upstream);
  const requests: EksFront['requests'] = [];
  const faults: EksFault[] = [];
  let serving = options.serving;

  const server = createServer((req, res) => {
    const credentialScope = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^,\s]+)/.exec(req.headers.authorization ?? '')?.[1];
    requests.push({ method: req.method ?? '', path: req.url ?? '', credentialScope });
    const fault = faults.shift();
    if (fault) {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', 'x-amzn-errortype': fault.type }).end(JSON.stringify({ message: fault.message }));
      return;
    }
    const forward = httpRequest(
      { hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          let body = Buffer.concat(chunks);
          const describing = req.method === 'GET' && /^\/clusters\/[^/]+$/.test(req.url ?? '') && answer.statusCode === 200;
          if (describing && serving) {
            const parsed = JSON.parse(body.toString('utf8')) as { cluster: Record<string, unknown> };
            parsed.cluster.endpoint = serving.endpoint;
            parsed.cluster.certificateAuthority = { data: Buffer.from(serving.caPem).toString('base64') };
            body = Buffer.from(JSON.stringify(parsed));
          }
          const headers = { ...answer.headers, 'content-length': String(body.length) };
          delete headers['transfer-encoding'];
          res.writeHead(answer.statusCode ?? 502, headers).end(body);
        });
      },
    );
    forward.on('error', (error) => res.writeHead(502).end(error.message));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    injectFault: (...more) => faults.push(...more),
    serve: (next) => {
      serving = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
