/**
 * A Kubernetes API server for tests, answering like kube-apiserver with Tekton installed.
 *
 *   const api = await startKubeApiServer({ token: 'test-token' });
 *   const create = createResourceCreator({ server: api.url, ca: api.caPem, getToken: async () => 'test-token' });
 *   ...assert on api.objects / api.requests...
 *   await api.stop();
 *
 * HTTPS on 127.0.0.1 (random port) with a CA made by `openssl` at start (`caPem`; a client certificate signed by it
 * is in `clientCertificate`). Authenticates a static bearer `token`, EKS tokens (`eks`: a presigned STS
 * GetCallerIdentity URL for the region and cluster, checked as aws-iam-authenticator does, and with `credentials`
 * its SigV4 signature too), or a client certificate from its own CA; anything else is 401.
 * Serves `POST|GET /apis/<group>/<version>/namespaces/<ns>/<plural>` (create; list with `labelSelector`, `limit` and
 * `continue`) and `GET|PATCH|DELETE …/<plural>/<name>` for `apiVersions` (default tekton.dev/v1 and v1beta1; pass [] for
 * "Tekton not installed") × pipelineruns, taskruns; answers 201, 409 AlreadyExists, 404 NotFound (unknown resource or
 * object, or a namespace not in `namespaces`), 403 Forbidden after `setForbidden(true)`, 422 Invalid (missing or
 * non-DNS-1123 name), 400 BadRequest (bad JSON, wrong kind or namespace), with the real `Status` bodies. Like
 * kube-apiserver it keeps a resourceVersion per object: a merge or JSON patch whose `metadata.resourceVersion` is not
 * the stored one, or a DELETE whose precondition is not, answers 409 Conflict; patches of the main resource leave
 * `status` alone (Tekton's CRDs have a status subresource) — tests move a run on with `setStatus` — and a `spec.status`
 * Tekton's validating webhook would refuse is answered 400 as it is (tekton-admission.ts); `onChange` sees each write. `Impersonate-User`
 * is honoured only for the service accounts in `impersonable` (else 403, as RBAC without `impersonate` would). `injectFault(...)` queues faults, each consumed by the next request: a status (401, 409 Conflict,
 * 422 Invalid, 429 with Retry-After, 500, 503), a delay (then the request is handled as usual, as a slow real server would), or a reset.
 * `stop()` closes every socket.
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { tektonAdmissionRefusal } from './tekton-admission.ts';

export interface KubeApiServerOptions {
  /** Accept `Authorization: Bearer <token>`. */
  token?: string;
  /** Accept EKS tokens for this cluster and region; with `credentials`, also verify their signature. */
  eks?: EksTokenExpectations;
  /** apiVersions that serve pipelineruns and taskruns; default ['tekton.dev/v1', 'tekton.dev/v1beta1']. */
  apiVersions?: string[];
  /** Namespaces that exist; default: every namespace exists. */
  namespaces?: string[];
  /** The user named in 403 messages for token and EKS callers; default 'tekton-bridge'. */
  userName?: string;
  /** Service accounts (`namespace/name`) callers may impersonate; default none. */
  impersonable?: string[];
}

export interface EksTokenExpectations {
  clusterName: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Clock for the 15-minute expiry; default Date.now. */
  now?: () => number;
}

export type KubeApiFault =
  | { kind: 'status'; code: 401 | 409 | 422 | 429 | 500 | 503; retryAfterSeconds?: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'reset' };

export interface RecordedRequest {
  method: string;
  path: string;
  /** Header names lower-cased; the Authorization value is replaced by its scheme and '<redacted>'. */
  headers: Record<string, string>;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: unknown;
  /** The status answered, or undefined when the connection was reset or the server stopped first. */
  status?: number;
  /** Who was authenticated, or why not. */
  user?: string;
  authError?: string;
  /** The `Impersonate-User` the request asked for, when it did. */
  impersonateUser?: string;
}

export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface KubeApiServer {
  url: string;
  caPem: string;
  clientCertificate: { certPem: string; keyPem: string; user: string };
  /** Every object created, in order (tests may empty it); `live()` is what is stored now. */
  objects: StoredObject[];
  requests: RecordedRequest[];
  injectFault: (...faults: KubeApiFault[]) => void;
  setForbidden: (forbidden: boolean) => void;
  /** The objects stored now, after patches and deletes, in creation order. */
  live: () => StoredObject[];
  /** One stored object by namespace and name (any kind), or undefined. */
  find: (namespace: string, name: string) => StoredObject | undefined;
  /** What Tekton's controller does through the status subresource: replaces `status`, bumps the resourceVersion. */
  setStatus: (namespace: string, name: string, status: Record<string, unknown>) => StoredObject;
  /** Called after every change to what is stored, in the order the server made them (a watch, for invariants). */
  onChange: (listener: (change: { verb: 'create' | 'patch' | 'delete' | 'status'; object: StoredObject }) => void) => () => void;
  stop: () => Promise<void>;
}

type Status = {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: Record<string, unknown>;
  code: number;
};

const TEKTON_PLURALS = ['pipelineruns', 'taskruns'];
const CLIENT_USER = 'tekton-bridge-test';
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const tls = await createTestCertificates();
  const served = new Set(
    (options.apiVersions ?? ['tekton.dev/v1', 'tekton.dev/v1beta1']).flatMap((v) => TEKTON_PLURALS.map((p) => `${v}/${p}`)),
  );
  const stored = new Map<string, StoredObject>();
  const objects: StoredObject[] = [];
  const requests: RecordedRequest[] = [];
  const faults: KubeApiFault[] = [];
  const stopping = new AbortController();
  let forbidden = false;
  let resourceVersion = 1000;
  const listeners = new Set<(change: { verb: 'create' | 'patch' | 'delete' | 'status'; object: StoredObject }) => void>();
  const changed = (verb: 'create' | 'patch' | 'delete' | 'status', object: StoredObject) => {
    for (const listener of listeners) listener({ verb, object });
  };

  const authenticate = (request: IncomingMessage): { user?: string; error?: string } => {
    const socket = request.socket as TLSSocket;
    // A resumed TLS session without a client certificate still reports `authorized`; only a subject counts.
    const cn = socket.authorized ? socket.getPeerCertificate()?.subject?.CN : undefined;
    if (cn) return { user: Array.isArray(cn) ? cn[0] : cn };
    const header = request.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return { error: 'no bearer token and no client certificate' };
    const token = header.slice('Bearer '.length).trim();
    if (options.token !== undefined && token === options.token) return { user: options.userName ?? 'tekton-bridge' };
    if (options.eks) {
      const verdict = verifyEksToken(token, options.eks);
      if (verdict.ok) return { user: options.userName ?? `aws:${verdict.accessKeyId}` };
      return { error: verdict.reason };
    }
    return { error: 'unknown bearer token' };
  };

  const handle = async (request: IncomingMessage, response: ServerResponse, record: RecordedRequest, text: string) => {
    const answer = (code: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = code;
      response.writeHead(code, { 'content-type': 'application/json', ...headers });
      response.end(JSON.stringify(body));
    };

    const fault = faults.shift();
    if (fault?.kind === 'reset') {
      request.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') {
      const held = await sleep(fault.ms, stopping.signal);
      if (!held) return;
    }
    if (fault?.kind === 'status') return answer(fault.code, faultStatus(fault.code, fault.retryAfterSeconds), retryAfter(fault));

    const who = authenticate(request);
    record.user = who.user;
    record.authError = who.error;
    if (!who.user) return answer(401, status(401, 'Unauthorized', 'Unauthorized'));
    const impersonate = headerText(request.headers['impersonate-user']);
    if (impersonate !== undefined) {
      record.impersonateUser = impersonate;
      const account = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(impersonate);
      if (!account || !(options.impersonable ?? []).includes(`${account[1]}/${account[2]}`)) {
        const where = account ? ` in the namespace "${account[1]}"` : '';
        const message = `${account ? 'serviceaccounts' : 'users'} "${account?.[2] ?? impersonate}" is forbidden: User "${who.user}" cannot impersonate resource "${account ? 'serviceaccounts' : 'users'}" in API group ""${where}`;
        return answer(403, status(403, 'Forbidden', message, { name: account?.[2] ?? impersonate, kind: account ? 'serviceaccounts' : 'users' }));
      }
    }
    const user = impersonate ?? who.user;

    const url = new URL(request.url ?? '/', 'https://127.0.0.1');
    const route = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(url.pathname);
    const [, group = '', version = '', namespace = '', plural = '', itemName] = route ?? [];
    const resource = `${plural}.${group}`;
    const verbs: Record<string, string> = { POST: 'create', GET: itemName ? 'get' : 'list', PATCH: 'patch', DELETE: 'delete' };
    const verb = verbs[request.method ?? ''] ?? 'other';
    if (route && forbidden) {
      const message = `${resource} is forbidden: User "${user}" cannot ${verb} resource "${plural}" in API group "${group}" in the namespace "${namespace}"`;
      return answer(403, status(403, 'Forbidden', message, { group, kind: plural }));
    }
    if (!route || !served.has(`${group}/${version}/${plural}`)) {
      return answer(404, status(404, 'NotFound', 'the server could not find the requested resource', {}));
    }
    if (options.namespaces && !options.namespaces.includes(namespace)) {
      return answer(404, status(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' }));
    }
    const asServed = (o: StoredObject) => ({ ...o, apiVersion: `${group}/${version}` });
    const notFound = (name: string) => answer(404, status(404, 'NotFound', `${resource} "${name}" not found`, { name, group, kind: plural }));
    const conflict = (name: string, message = 'the object has been modified; please apply your changes to the latest version and try again') =>
      answer(409, status(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${message}`, { name, group, kind: plural }));

    if (request.method === 'GET' && !itemName) {
      const selector = parseLabelSelector(url.searchParams.get('labelSelector') ?? '');
      if (typeof selector === 'string') return answer(400, status(400, 'BadRequest', `unable to parse requirement: ${selector}`));
      const prefix = keyOf(group, plural, namespace, '');
      const matching = [...stored].filter(([key, o]) => key.startsWith(prefix) && selector(o.metadata.labels ?? {})).map(([, o]) => asServed(o));
      const limit = Number(url.searchParams.get('limit') ?? '0');
      const offset = Number(Buffer.from(url.searchParams.get('continue') ?? '', 'base64url').toString() || '0');
      const items = limit > 0 ? matching.slice(offset, offset + limit) : matching.slice(offset);
      const more = limit > 0 && offset + limit < matching.length;
      const metadata = { resourceVersion: String(resourceVersion), ...(more && { continue: Buffer.from(String(offset + limit)).toString('base64url') }) };
      return answer(200, { apiVersion: `${group}/${version}`, kind: `${items[0]?.kind ?? 'Object'}List`, metadata, items });
    }
    if (itemName) {
      const key = keyOf(group, plural, namespace, itemName);
      const found = stored.get(key);
      if (request.method === 'GET') return found ? answer(200, asServed(found)) : notFound(itemName);
      if (request.method === 'PATCH') {
        if (!found) return notFound(itemName);
        const patched = applyPatch(found, headerText(request.headers['content-type']) ?? '', text);
        if (typeof patched === 'string') return answer(patched.startsWith('415') ? 415 : 400, status(patched.startsWith('415') ? 415 : 400, patched.startsWith('415') ? 'UnsupportedMediaType' : 'BadRequest', patched.replace(/^415 /, '')));
        if ('invalid' in patched) return answer(422, status(422, 'Invalid', `${found.kind}.${group} "${itemName}" is invalid: ${patched.invalid}`, { name: itemName, group, kind: found.kind }));
        const asked = (patched.object.metadata as { resourceVersion?: unknown }).resourceVersion;
        if (asked !== undefined && asked !== found.metadata.resourceVersion) return conflict(itemName);
        const refused = tektonAdmissionRefusal(patched.object, found);
        if (refused) return answer(400, status(400, 'BadRequest', `admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: validation failed: ${refused}`));
        const next = patched.object as StoredObject;
        if (next.metadata.name !== found.metadata.name || next.metadata.namespace !== found.metadata.namespace || next.metadata.uid !== found.metadata.uid) {
          return answer(422, status(422, 'Invalid', `${found.kind}.${group} "${itemName}" is invalid: metadata: name, namespace and uid cannot be changed`));
        }
        resourceVersion += 1;
        const updated: StoredObject = {
          ...next,
          // The main resource does not write status: Tekton's CRDs have a status subresource.
          ...(found.status !== undefined ? { status: found.status } : {}),
          metadata: {
            ...next.metadata,
            resourceVersion: String(resourceVersion),
            generation: JSON.stringify(next.spec) === JSON.stringify(found.spec) ? found.metadata.generation : Number(found.metadata.generation ?? 1) + 1,
          },
        };
        if (found.status === undefined) delete updated.status;
        stored.set(key, updated);
        changed('patch', updated);
        return answer(200, asServed(updated));
      }
      if (request.method === 'DELETE') {
        if (!found) return notFound(itemName);
        const options = parsedOrText(text) as { preconditions?: { resourceVersion?: unknown } } | string;
        const wanted = typeof options === 'object' && options !== null ? options.preconditions?.resourceVersion : undefined;
        if (wanted !== undefined && wanted !== found.metadata.resourceVersion) {
          return conflict(itemName, `the ResourceVersion in the precondition (${String(wanted)}) does not match the ResourceVersion in record (${found.metadata.resourceVersion}). The object might have been modified`);
        }
        stored.delete(key);
        changed('delete', found);
        return answer(200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: itemName, group, kind: plural, uid: found.metadata.uid } });
      }
      return answer(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    }
    if (request.method !== 'POST') {
      return answer(405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    }

    let object: Record<string, unknown>;
    try {
      object = JSON.parse(text) as Record<string, unknown>;
      if (!object || typeof object !== 'object' || Array.isArray(object)) throw new Error('not an object');
    } catch (error) {
      return answer(400, status(400, 'BadRequest', `the object provided is unrecognized: json parse error: ${(error as Error).message}`));
    }
    const kind = typeof object.kind === 'string' ? object.kind : '';
    if (`${kind.toLowerCase()}s` !== plural || object.apiVersion !== `${group}/${version}`) {
      return answer(400, status(400, 'BadRequest', `the body's apiVersion ${String(object.apiVersion)} and kind ${kind} do not match ${group}/${version} ${plural}`));
    }
    const metadata = { ...((object.metadata ?? {}) as Record<string, unknown>) };
    if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
      return answer(400, status(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request'));
    }
    let name = typeof metadata.name === 'string' ? metadata.name : '';
    if (!name && typeof metadata.generateName === 'string' && metadata.generateName) {
      name = metadata.generateName + randomUUID().replace(/-/g, '').slice(0, 5);
    }
    const invalid = invalidName(name);
    if (invalid) {
      const message = `${kind}.${group} "${name}" is invalid: metadata.name: ${invalid.detail}`;
      const causes = [{ reason: invalid.reason, message: invalid.detail, field: 'metadata.name' }];
      return answer(422, status(422, 'Invalid', message, { name, group, kind, causes }));
    }
    const key = keyOf(group, plural, namespace, name);
    if (stored.has(key)) {
      return answer(409, status(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, group, kind: plural }));
    }
    const refused = tektonAdmissionRefusal(object);
    if (refused) return answer(400, status(400, 'BadRequest', `admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: validation failed: ${refused}`));
    resourceVersion += 1;
    const created: StoredObject = {
      ...object,
      apiVersion: `${group}/${version}`,
      kind,
      metadata: {
        ...metadata,
        name,
        namespace,
        uid: randomUUID(),
        resourceVersion: String(resourceVersion),
        generation: 1,
        creationTimestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    };
    stored.set(key, created);
    objects.push(created);
    changed('create', created);
    return answer(201, created);
  };

  const server = https.createServer(
    { key: tls.serverKeyPem, cert: tls.serverCertPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: false },
    (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const record: RecordedRequest = {
          method: request.method ?? '',
          path: request.url ?? '',
          headers: redactedHeaders(request.headers),
          body: parsedOrText(text),
        };
        requests.push(record);
        handle(request, response, record, text).catch((error: unknown) => {
          record.status = 500;
          if (!response.headersSent) response.writeHead(500, { 'content-type': 'application/json' });
          response.end(JSON.stringify(status(500, 'InternalError', `test server bug: ${String(error)}`)));
        });
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `https://127.0.0.1:${port}`,
    caPem: tls.caPem,
    clientCertificate: { certPem: tls.clientCertPem, keyPem: tls.clientKeyPem, user: CLIENT_USER },
    objects,
    requests,
    injectFault: (...more) => {
      faults.push(...more);
    },
    setForbidden: (value) => {
      forbidden = value;
    },
    live: () => [...stored.values()],
    find: (namespace, name) => [...stored.values()].find((o) => o.metadata.namespace === namespace && o.metadata.name === name),
    setStatus: (namespace, name, runStatus) => {
      const entry = [...stored].find(([, o]) => o.metadata.namespace === namespace && o.metadata.name === name);
      if (!entry) throw new Error(`setStatus: no object ${namespace}/${name}`);
      resourceVersion += 1;
      const updated: StoredObject = { ...entry[1], status: runStatus, metadata: { ...entry[1].metadata, resourceVersion: String(resourceVersion) } };
      stored.set(entry[0], updated);
      changed('status', updated);
      return updated;
    },
    onChange: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: async () => {
      stopping.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

export type EksTokenVerdict = { ok: true; accessKeyId: string } | { ok: false; reason: string };

/**
 * Checks an EKS bearer token as aws-iam-authenticator does before it calls STS (prefix, host, path, allowed
 * parameters, action, signed x-k8s-aws-id, X-Amz-Expires within 0..900, 15 minutes from X-Amz-Date), and, given
 * the signer's credentials, recomputes the SigV4 signature in place of the STS call.
 */
export function verifyEksToken(token: string, expected: EksTokenExpectations): EksTokenVerdict {
  const fail = (reason: string): EksTokenVerdict => ({ ok: false, reason });
  if (token.length > 4096) return fail('token is too large');
  if (!token.startsWith('k8s-aws-v1.')) return fail('token is missing the k8s-aws-v1. prefix');
  const encoded = token.slice('k8s-aws-v1.'.length);
  if (!/^[A-Za-z0-9_-]*$/.test(encoded)) return fail('token is not base64url without padding');
  let url: URL;
  try {
    url = new URL(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return fail('token is not a URL');
  }
  if (url.protocol !== 'https:') return fail(`unexpected scheme ${url.protocol}`);
  const host = `sts.${expected.region}.${expected.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;
  if (url.host !== host) return fail(`unexpected host ${url.host}, expected ${host}`);
  if (url.pathname !== '/') return fail('unexpected path in pre-signed URL');

  const allowed = ['action', 'version', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-security-token', 'x-amz-signature', 'x-amz-signedheaders'];
  const pairs: [string, string][] = [];
  for (const part of url.search.slice(1).split('&').filter(Boolean)) {
    const [rawKey = '', rawValue = ''] = part.split('=', 2);
    try {
      pairs.push([decodeURIComponent(rawKey), decodeURIComponent(rawValue)]);
    } catch {
      return fail('malformed query parameter');
    }
  }
  const params = new Map<string, string>();
  for (const [key, value] of pairs) {
    if (!allowed.includes(key.toLowerCase())) return fail(`non-whitelisted query parameter ${key}`);
    if (params.has(key.toLowerCase())) return fail('query parameter with multiple values');
    params.set(key.toLowerCase(), value);
  }
  if (params.get('action') !== 'GetCallerIdentity') return fail('unexpected action');
  const signedHeaders = (params.get('x-amz-signedheaders') ?? '').split(';');
  if (!signedHeaders.includes('x-k8s-aws-id')) return fail('x-k8s-aws-id is not among X-Amz-SignedHeaders');
  const expires = Number(params.get('x-amz-expires'));
  if (!Number.isInteger(expires) || expires < 0 || expires > 900) return fail('invalid X-Amz-Expires');
  const amzDate = params.get('x-amz-date') ?? '';
  const dateMatch = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dateMatch) return fail('X-Amz-Date missing or malformed');
  const [, y, mo, d, h, mi, s] = dateMatch;
  const signedAt = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // STS ignores X-Amz-Expires and honours a presigned GetCallerIdentity for 15 minutes after X-Amz-Date.
  if ((expected.now ?? Date.now)() > signedAt + 15 * 60_000) return fail('X-Amz-Date is expired (15 minute expiration)');
  const [accessKeyId = '', scopeDate, scopeRegion, scopeService, scopeEnd] = (params.get('x-amz-credential') ?? '').split('/');
  if (scopeDate !== amzDate.slice(0, 8) || scopeRegion !== expected.region || scopeService !== 'sts' || scopeEnd !== 'aws4_request') {
    return fail('X-Amz-Credential scope does not match the date, region and service');
  }
  if (params.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') return fail('unexpected X-Amz-Algorithm');

  if (expected.credentials) {
    if (accessKeyId !== expected.credentials.accessKeyId) return fail(`signed by unknown access key ${accessKeyId}`);
    const headerValues: Record<string, string> = { host: url.host, 'x-k8s-aws-id': expected.clusterName };
    if (signedHeaders.some((name) => !(name in headerValues))) return fail('a signed header the verifier does not know');
    const canonicalQuery = pairs
      .filter(([key]) => key !== 'X-Amz-Signature')
      .map(([key, value]) => [rfc3986(key), rfc3986(value)] as const)
      .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
      .map(([key, value]) => `${key}=${value}`)
      .join('&');
    const canonicalRequest = [
      'GET',
      '/',
      canonicalQuery,
      signedHeaders.map((name) => `${name}:${headerValues[name]}\n`).join(''),
      signedHeaders.join(';'),
      sha256Hex(''),
    ].join('\n');
    const scope = `${scopeDate}/${scopeRegion}/sts/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
    let key: Buffer = Buffer.from(`AWS4${expected.credentials.secretAccessKey}`, 'utf8');
    for (const part of [scopeDate, scopeRegion, 'sts', 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
    const expectedSignature = createHmac('sha256', key).update(stringToSign).digest();
    const given = Buffer.from(params.get('x-amz-signature') ?? '', 'hex');
    if (given.length !== expectedSignature.length || !timingSafeEqual(given, expectedSignature)) {
      return fail('the SigV4 signature does not verify for the expected credentials and cluster');
    }
  }
  return { ok: true, accessKeyId };
}

interface TestCertificates {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
  clientCertPem: string;
  clientKeyPem: string;
}

async function createTestCertificates(): Promise<TestCertificates> {
  const run = promisify(execFile);
  const dir = await mkdtemp(join(tmpdir(), 'kube-api-tls-'));
  const openssl = (...args: string[]) =>
    run('openssl', args, { cwd: dir }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') throw new Error('the Kubernetes API test server needs `openssl` on PATH to make its CA');
      throw error;
    });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  try {
    await openssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '7', '-subj', '/CN=kube-api-test-ca',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    await writeFile(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const [name, subject] of [['server', '/CN=kube-apiserver'], ['client', `/O=system:masters/CN=${CLIENT_USER}`]] as const) {
      await openssl('req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      await openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
        '-out', `${name}.crt`, '-days', '7', '-extfile', `${name}.ext`);
    }
    const read = (file: string) => readFile(join(dir, file), 'utf8');
    return {
      caPem: await read('ca.crt'),
      serverCertPem: await read('server.crt'),
      serverKeyPem: await read('server.key'),
      clientCertPem: await read('client.crt'),
      clientKeyPem: await read('client.key'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details !== undefined && { details }),
    code,
  };
}

function faultStatus(code: 401 | 409 | 422 | 429 | 500 | 503, retryAfterSeconds?: number): Status {
  switch (code) {
    case 401:
      return status(401, 'Unauthorized', 'Unauthorized');
    case 409:
      return status(409, 'Conflict', 'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again');
    case 422:
      return status(422, 'Invalid', 'admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: validation failed: injected fault: spec.pipelineRef', { causes: [{ reason: 'FieldValueInvalid', field: 'spec.pipelineRef' }] });
    case 429:
      return status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: retryAfterSeconds ?? 1 });
    case 500:
      return status(500, 'InternalError', 'Internal error occurred: injected fault');
    case 503:
      return status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
  }
}

function retryAfter(fault: { code: number; retryAfterSeconds?: number }): Record<string, string> {
  return fault.code === 429 ? { 'retry-after': String(fault.retryAfterSeconds ?? 1) } : {};
}

function invalidName(name: string): { reason: string; detail: string } | undefined {
  if (!name) return { reason: 'FieldValueRequired', detail: 'Required value: name or generateName is required' };
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    return {
      reason: 'FieldValueInvalid',
      detail: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    };
  }
  return undefined;
}

function keyOf(group: string, plural: string, namespace: string, name: string): string {
  return `${group}/${plural}/${namespace}/${name}`;
}

function redactedHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const copy: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    copy[name] = name === 'authorization' ? `${text.split(' ')[0]} <redacted>` : text;
  }
  return copy;
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(true), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve(false);
    }, { once: true });
  });
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

type LabelMatcher = (labels: Record<string, string>) => boolean;

/** Kubernetes label selectors: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, joined with commas. */
export function parseLabelSelector(text: string): LabelMatcher | string {
  const requirements: LabelMatcher[] = [];
  const parts = text.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  for (const raw of parts.map((p) => p.trim()).filter(Boolean)) {
    let match: RegExpExecArray | null;
    if ((match = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(raw))) {
      const [, key = '', op, value = ''] = match;
      requirements.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((match = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(raw))) {
      const [, key = '', op, list = ''] = match;
      const values = list.split(',').map((v) => v.trim());
      requirements.push(op === 'in' ? (l) => l[key] !== undefined && values.includes(l[key]) : (l) => l[key] === undefined || !values.includes(l[key]));
    } else if ((match = /^(!?)([\w./-]+)$/.exec(raw))) {
      const [, not, key = ''] = match;
      requirements.push(not ? (l) => l[key] === undefined : (l) => l[key] !== undefined);
    } else {
      return raw;
    }
  }
  return (labels) => requirements.every((requirement) => requirement(labels));
}

/** RFC 7386 merge patch and RFC 6902 JSON patch, as kube-apiserver applies them to a custom resource. */
function applyPatch(current: StoredObject, contentType: string, text: string): { object: Record<string, unknown> } | { invalid: string } | string {
  const patch = parsedOrText(text);
  const media = contentType.split(';')[0]?.trim();
  if (media === 'application/merge-patch+json') {
    if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return 'the merge patch is not a JSON object';
    return { object: mergePatch(structuredClone(current), patch) as Record<string, unknown> };
  }
  if (media === 'application/json-patch+json') {
    if (!Array.isArray(patch)) return 'the JSON patch is not a list of operations';
    const document = structuredClone(current) as unknown as Record<string, unknown>;
    for (const operation of patch as Array<{ op?: unknown; path?: unknown; value?: unknown }>) {
      if (typeof operation?.path !== 'string' || !operation.path.startsWith('/')) return 'a JSON patch operation has no path';
      const segments = operation.path.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
      const last = segments.pop() as string;
      let parent: unknown = document;
      for (const segment of segments) parent = (parent as Record<string, unknown> | undefined)?.[segment];
      if (parent === null || typeof parent !== 'object') return { invalid: `the path ${operation.path} does not exist` };
      const container = parent as Record<string, unknown> & unknown[];
      const index = Array.isArray(container) ? (last === '-' ? container.length : Number(last)) : undefined;
      switch (operation.op) {
        case 'test':
          if (JSON.stringify(index === undefined ? container[last] : container[index]) !== JSON.stringify(operation.value)) {
            return { invalid: `testing value ${operation.path} failed` };
          }
          break;
        case 'add':
          if (index !== undefined) container.splice(index, 0, operation.value);
          else container[last] = operation.value;
          break;
        case 'replace':
          if (!(last in container)) return { invalid: `replace operation does not apply: doc is missing key: ${operation.path}` };
          container[last] = operation.value;
          break;
        case 'remove':
          if (!(last in container)) return { invalid: `remove operation does not apply: doc is missing path: ${operation.path}` };
          if (index !== undefined) container.splice(index, 1);
          else delete container[last];
          break;
        default:
          return `unsupported JSON patch operation ${JSON.stringify(operation.op)}`;
      }
    }
    return { object: document };
  }
  return `415 the body of a PATCH must be application/merge-patch+json or application/json-patch+json, not ${media ?? '(none)'}`;
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result = (target !== null && typeof target === 'object' && !Array.isArray(target) ? target : {}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}
