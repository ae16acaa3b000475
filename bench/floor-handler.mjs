// The floor: the least code that does the webhook's network work for one push, to measure the bridge against.
// One SigV4 GetSecretValue, the HMAC check with node:crypto, an EKS token presigned by hand, (without CLUSTER_ENDPOINT:
// one signed DescribeCluster GET,) and one TLS POST of a fixed PipelineRun. No SDK, no logger, no config; builtins
// through process.getBuiltinModule, so no ESM facade is built. Plain JavaScript: nothing to strip or bundle.
const { createHash, createHmac, timingSafeEqual } = process.getBuiltinModule('node:crypto');
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

const env = process.env;
const region = env.AWS_REGION;
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const enc = (text) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function signingKey(date, service) {
  let key = `AWS4${env.AWS_SECRET_ACCESS_KEY}`;
  for (const part of [date, region, service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return key;
}

/** Signs a request with SigV4 headers (Authorization, X-Amz-Date, X-Amz-Security-Token). */
function signHeaders(service, method, url, headers, body) {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const all = { ...headers, host: url.host, 'x-amz-date': amzDate, ...(env.AWS_SESSION_TOKEN && { 'x-amz-security-token': env.AWS_SESSION_TOKEN }) };
  const names = Object.keys(all).sort();
  const canonical = [method, url.pathname, '', names.map((n) => `${n}:${all[n]}\n`).join(''), names.join(';'), sha256(body)].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const signature = createHmac('sha256', signingKey(date, service)).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`).digest('hex');
  return { ...all, authorization: `AWS4-HMAC-SHA256 Credential=${env.AWS_ACCESS_KEY_ID}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}` };
}

/** The token `aws eks get-token` prints: a presigned STS GetCallerIdentity URL with the cluster in x-k8s-aws-id. */
function eksToken() {
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const date = amzDate.slice(0, 8);
  const host = `sts.${region}.amazonaws.com`;
  const scope = `${date}/${region}/sts/aws4_request`;
  const query = {
    Action: 'GetCallerIdentity',
    Version: '2011-06-15',
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `${env.AWS_ACCESS_KEY_ID}/${scope}`,
    'X-Amz-Date': amzDate,
    'X-Amz-Expires': '60',
    'X-Amz-SignedHeaders': 'host;x-k8s-aws-id',
    ...(env.AWS_SESSION_TOKEN && { 'X-Amz-Security-Token': env.AWS_SESSION_TOKEN }),
  };
  const text = Object.keys(query).sort().map((k) => `${enc(k)}=${enc(query[k])}`).join('&');
  const canonical = ['GET', '/', text, `host:${host}\nx-k8s-aws-id:${env.CLUSTER_NAME}\n`, 'host;x-k8s-aws-id', sha256('')].join('\n');
  const signature = createHmac('sha256', signingKey(date, 'sts')).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`).digest('hex');
  return `k8s-aws-v1.${Buffer.from(`https://${host}/?${text}&X-Amz-Signature=${signature}`).toString('base64url')}`;
}

function send(url, options, body) {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'http:' ? http : https).request(url, options, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, text: Buffer.concat(chunks).toString() }));
    });
    request.on('error', reject);
    request.end(body);
  });
}

export async function handler(event) {
  const body = Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const secretsUrl = new URL(env.AWS_ENDPOINT_URL_SECRETS_MANAGER);
  const request = JSON.stringify({ SecretId: env.WEBHOOK_SECRET_ARN });
  const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' };
  const secret = await send(secretsUrl, { method: 'POST', headers: signHeaders('secretsmanager', 'POST', secretsUrl, headers, request) }, request);
  const mac = createHmac('sha256', JSON.parse(secret.text).SecretString).update(body).digest();
  const given = Buffer.from(String(event.headers['x-hub-signature-256']).replace(/^sha256=/, ''), 'hex');
  if (given.length !== mac.length || !timingSafeEqual(given, mac)) return { statusCode: 401, body: 'bad signature' };
  const push = JSON.parse(body.toString('utf8'));

  let server = env.CLUSTER_ENDPOINT;
  let ca = env.CLUSTER_CA;
  if (!server) {
    const eksUrl = new URL(`/clusters/${env.CLUSTER_NAME}`, env.AWS_ENDPOINT_URL_EKS);
    const described = await send(eksUrl, { method: 'GET', headers: signHeaders('eks', 'GET', eksUrl, {}, '') });
    ({ endpoint: server, certificateAuthority: { data: ca } } = JSON.parse(described.text).cluster);
  }
  const run = JSON.stringify({
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata: { name: `floor-${push.after.slice(0, 12)}`, namespace: 'ci' },
    spec: { pipelineRef: { name: 'build-and-deploy' }, params: [{ name: 'revision', value: push.after }] },
  });
  const created = await send(
    new URL('/apis/tekton.dev/v1/namespaces/ci/pipelineruns', server),
    { method: 'POST', ca: Buffer.from(ca, 'base64'), headers: { authorization: `Bearer ${eksToken()}`, 'content-type': 'application/json' } },
    run,
  );
  return { statusCode: created.status === 201 ? 202 : 503, body: created.text };
}
