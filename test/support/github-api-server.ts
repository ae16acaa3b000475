/**
 * A GitHub REST API for tests, answering what the bridge calls as api.github.com would, over HTTP on 127.0.0.1.
 *
 *   const github = await startGithubApiServer({ token: 'ghp_test', app: { appId: '123', publicKeyPem, installations: [{ id: 42 }] } });
 *   ...point GITHUB_API_URL at github.url, assert on github.calls / github.statuses / github.checkRuns...
 *   await github.stop();
 *
 * It checks what GitHub checks: a personal token (`token`), an installation token it issued and that has not expired,
 * or the App's JWT — RS256 over `header.payload`, verified with the App's public key; `iss` the App id; `iat` not in
 * the future (60 s of skew allowed, as GitHub allows) and `exp` after now and at most 10 minutes after it. Request
 * bodies are validated against the request-body schemas of GitHub's OpenAPI description
 * (`test/fixtures/github/rest-api-request-schemas.json`), stricter than GitHub in one way: an unknown top-level
 * property is a 422 too, so a misspelt field cannot pass unnoticed. Also as GitHub: a status `description` of more
 * than 140 characters is 422; a check run that is `completed` (or has `completed_at`) needs a `conclusion`; check runs
 * need an App's installation token (a personal token gets 403); a SHA that is not 40 hex digits is 422.
 *
 * Routes: `POST /app/installations/{id}/access_tokens`, `GET /repos/{owner}/{repo}/installation`,
 * `POST /repos/{owner}/{repo}/statuses/{sha}`, `POST /repos/{owner}/{repo}/check-runs`,
 * `PATCH /repos/{owner}/{repo}/check-runs/{id}`, `GET /repos/{owner}/{repo}/commits/{ref}/check-runs`; and those of
 * `github-api-operations.ts`: webhook deliveries and their redelivery (`addDeliveries`, `onRedeliver`,
 * `redeliveries`), a pull request's files (`setPullRequestFiles`), public org membership (`setPublicMembers`),
 * collaborators (`setCollaborators`) and file contents (`setFile`, `setDirectory`).
 * `injectFault(...)` queues faults, each consumed by the next request: a status (500, 502, 503), a primary rate limit
 * (403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`), a secondary one (403 or 429 with `retry-after`), or a
 * connection reset. `setDown(true)` answers every request 503 until `setDown(false)`. Every call is in `calls`.
 */
import { createPublicKey, randomBytes, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import { createOperationRoutes, hookKey, type DeliverySeed, type HookDeliveryRecord, type RedeliveryCall, type RedeliveryOutcome } from './github-api-operations.ts';

export { hookKey, type DeliverySeed, type HookDeliveryRecord, type RedeliveryCall, type RedeliveryOutcome };

export interface GithubAppSettings {
  appId: string;
  publicKeyPem: string;
  /** Installations of the App; `repositories` (owner/name) it covers, default every repository. */
  installations: Array<{ id: number; repositories?: string[] }>;
}

export interface GithubApiServerOptions {
  /** A personal access token the server accepts. */
  token?: string;
  /** Repositories (owner/name) the token may write to; default all. Others answer 404, as GitHub hides them. */
  tokenRepositories?: string[];
  app?: GithubAppSettings;
  /** Epoch milliseconds; default Date.now. Installation tokens expire an hour after they are issued. */
  now?: () => number;
}

export type GithubFault =
  | { kind: 'status'; code: 500 | 502 | 503 }
  | { kind: 'rate-limit'; resetInSeconds: number }
  | { kind: 'retry-after'; code: 403 | 429; seconds: number }
  | { kind: 'reset' };

export interface GithubCall {
  method: string;
  path: string;
  query: Record<string, string>;
  /** How the caller authenticated: a personal token, an installation token, the App's JWT, or not (and why). */
  auth: 'token' | 'installation' | 'jwt' | 'none';
  authError?: string;
  body: unknown;
  status?: number;
}

export interface CommitStatus {
  id: number;
  repository: string;
  sha: string;
  state: string;
  context: string;
  description: string | null;
  target_url: string | null;
}

export interface CheckRun {
  id: number;
  repository: string;
  installationId: number;
  name: string;
  head_sha: string;
  external_id?: string;
  status: string;
  conclusion?: string;
  details_url?: string;
  started_at?: string;
  completed_at?: string;
  output?: { title?: string; summary?: string };
}

export interface GithubApiServer {
  url: string;
  calls: GithubCall[];
  statuses: CommitStatus[];
  checkRuns: CheckRun[];
  /** Installation tokens issued, in order. */
  issuedTokens: Array<{ installationId: number; token: string; expiresAt: string }>;
  injectFault: (...faults: GithubFault[]) => void;
  setDown: (down: boolean) => void;
  /** Attempts of a webhook: `app` (the App's own) or `hookKey('owner/repo', id)`; newest are listed first. */
  addDeliveries: (hook: string, ...seeds: DeliverySeed[]) => HookDeliveryRecord[];
  deliveries: Map<string, HookDeliveryRecord[]>;
  /** How a redelivery's attempt is answered (default 200 OK); the attempt is added to the hook's deliveries. */
  onRedeliver: (outcome: RedeliveryOutcome | undefined) => void;
  redeliveries: RedeliveryCall[];
  setPullRequestFiles: (repository: string, number: number, filenames: string[]) => void;
  setPublicMembers: (org: string, logins: string[]) => void;
  setCollaborators: (repository: string, logins: string[]) => void;
  setFile: (repository: string, path: string, text: string) => void;
  setDirectory: (repository: string, path: string, names: string[]) => void;
  /** Answers the server gave against GitHub's response schemas: a fixture bug, each also answered 500. */
  schemaViolations: string[];
  /** Every call and record forgotten. */
  reset: () => void;
  stop: () => Promise<void>;
}

const SCHEMAS = JSON.parse(readFileSync(new URL('../fixtures/github/rest-api-request-schemas.json', import.meta.url), 'utf8')) as {
  operations: Record<string, { requestBody: Record<string, unknown> }>;
};
const SHA = /^[0-9a-f]{40}$/;
const TOKEN_LIFETIME_MS = 60 * 60_000;

function compileSchemas(): Record<'status' | 'createCheckRun' | 'updateCheckRun', ValidateFunction> {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  const strict = (id: string) => ajv.compile({ ...(SCHEMAS.operations[id]?.requestBody as object), additionalProperties: false });
  return { status: strict('repos/create-commit-status'), createCheckRun: strict('checks/create'), updateCheckRun: strict('checks/update') };
}

export async function startGithubApiServer(options: GithubApiServerOptions = {}): Promise<GithubApiServer> {
  const now = options.now ?? Date.now;
  const validate = compileSchemas();
  const publicKey: KeyObject | undefined = options.app ? createPublicKey(options.app.publicKeyPem) : undefined;
  const calls: GithubCall[] = [];
  const statuses: CommitStatus[] = [];
  const checkRuns: CheckRun[] = [];
  const issuedTokens: GithubApiServer['issuedTokens'] = [];
  const faults: GithubFault[] = [];
  let down = false;
  let nextId = 1000;
  let baseUrl = '';

  type Caller = { kind: 'token' } | { kind: 'installation'; installationId: number } | { kind: 'jwt' } | { kind: 'none'; error: string };
  const authenticate = (header: string | undefined): Caller => {
    const match = /^(token|bearer) (\S+)$/i.exec(header ?? '');
    if (!match) return { kind: 'none', error: 'no Authorization header of the form "token …" or "bearer …"' };
    const credential = match[2] as string;
    if (options.token !== undefined && credential === options.token) return { kind: 'token' };
    const issued = issuedTokens.find((t) => t.token === credential);
    if (issued) {
      if (Date.parse(issued.expiresAt) <= now()) return { kind: 'none', error: 'the installation token has expired' };
      return { kind: 'installation', installationId: issued.installationId };
    }
    if (credential.split('.').length === 3) {
      const verdict = verifyJwt(credential);
      return verdict === undefined ? { kind: 'jwt' } : { kind: 'none', error: verdict };
    }
    return { kind: 'none', error: 'Bad credentials' };
  };

  /** Why the App's JWT is refused, or undefined when GitHub would take it. */
  const verifyJwt = (jwt: string): string | undefined => {
    if (!options.app || !publicKey) return 'this server has no App';
    const [head = '', body = '', signature = ''] = jwt.split('.');
    let header: { alg?: unknown; typ?: unknown };
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      return 'A JSON web token could not be decoded';
    }
    if (header.alg !== 'RS256') return `the JWT's alg is ${String(header.alg)}, not RS256`;
    if (!verify('RSA-SHA256', Buffer.from(`${head}.${body}`), publicKey, Buffer.from(signature, 'base64url'))) return 'the JWT signature does not verify with the App\'s public key';
    if (String(claims.iss) !== options.app.appId) return `the JWT's iss ${String(claims.iss)} is not the App id`;
    const seconds = Math.floor(now() / 1000);
    if (typeof claims.iat !== 'number' || claims.iat > seconds + 60) return "'Issued at' claim ('iat') must be an Integer representing a time in the past";
    if (typeof claims.exp !== 'number' || claims.exp <= seconds) return "'Expiration time' claim ('exp') is too far in the past";
    if (claims.exp > seconds + 600 + 60) return "'Expiration time' claim ('exp') is too far in the future";
    return undefined;
  };

  const installationFor = (repository: string) =>
    options.app?.installations.find((i) => i.repositories === undefined || i.repositories.map((r) => r.toLowerCase()).includes(repository.toLowerCase()));
  const operations = createOperationRoutes({ baseUrl: () => baseUrl, now, installationFor, tokenRepositories: options.tokenRepositories });

  const route = (method: string, path: string, query: URLSearchParams, caller: Caller, body: unknown): { status: number; body: unknown; headers?: Record<string, string> } => {
    const unauthorized = { status: 401, body: { message: caller.kind === 'none' ? caller.error : 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } };
    let match: RegExpExecArray | null;

    if ((match = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path)) && method === 'POST') {
      if (caller.kind !== 'jwt') return caller.kind === 'none' ? unauthorized : { status: 401, body: { message: 'A JSON web token could not be decoded' } };
      const installationId = Number(match[1]);
      if (!options.app?.installations.some((i) => i.id === installationId)) return { status: 404, body: { message: 'Not Found' } };
      const token = `ghs_${randomBytes(18).toString('base64url')}`;
      const expiresAt = new Date(now() + TOKEN_LIFETIME_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
      issuedTokens.push({ installationId, token, expiresAt });
      return { status: 201, body: { token, expires_at: expiresAt, permissions: { checks: 'write', statuses: 'write', metadata: 'read' }, repository_selection: 'all' } };
    }

    match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)$/.exec(path);
    if (!match) return { status: 404, body: { message: 'Not Found' } };
    const repository = `${decodeURIComponent(match[1] as string)}/${decodeURIComponent(match[2] as string)}`;
    const rest = match[3] as string;

    if (rest === '/installation' && method === 'GET') {
      if (caller.kind !== 'jwt') return unauthorized;
      const installation = installationFor(repository);
      return installation ? { status: 200, body: { id: installation.id, app_id: Number(options.app?.appId) } } : { status: 404, body: { message: 'Not Found' } };
    }
    if (caller.kind === 'none' || caller.kind === 'jwt') return unauthorized;
    if (caller.kind === 'installation' && installationFor(repository)?.id !== caller.installationId) {
      return { status: 404, body: { message: 'Not Found' } };
    }
    if (caller.kind === 'token' && options.tokenRepositories && !options.tokenRepositories.map((r) => r.toLowerCase()).includes(repository.toLowerCase())) {
      return { status: 404, body: { message: 'Not Found' } };
    }

    if ((match = /^\/statuses\/([^/]+)$/.exec(rest)) && method === 'POST') {
      const sha = decodeURIComponent(match[1] as string);
      const invalid = schemaErrors(validate.status, body, 'Status');
      if (invalid) return invalid;
      const status = body as { state: string; context?: string; description?: string | null; target_url?: string | null };
      if (typeof status.description === 'string' && Array.from(status.description).length > 140) {
        return validationFailed('Status', 'description', 'description is too long (maximum is 140 characters)');
      }
      if (!SHA.test(sha)) return { status: 422, body: { message: `No commit found for SHA: ${sha}` } };
      const stored: CommitStatus = { id: nextId++, repository, sha, state: status.state, context: status.context ?? 'default', description: status.description ?? null, target_url: status.target_url ?? null };
      statuses.push(stored);
      return { status: 201, body: { ...stored, url: `https://api.github.com/repos/${repository}/statuses/${sha}`, created_at: new Date(now()).toISOString() } };
    }

    if (rest === '/check-runs' || rest.startsWith('/check-runs/') || /^\/commits\/[^/]+\/check-runs$/.test(rest)) {
      if (caller.kind !== 'installation') return { status: 403, body: { message: 'You must authenticate via a GitHub App.' } };
      if (rest === '/check-runs' && method === 'POST') {
        const invalid = schemaErrors(validate.createCheckRun, body, 'CheckRun') ?? completionErrors(body);
        if (invalid) return invalid;
        const fields = body as Omit<CheckRun, 'id' | 'repository' | 'installationId'>;
        if (!SHA.test(fields.head_sha)) return validationFailed('CheckRun', 'head_sha', 'No commit found for SHA');
        const stored: CheckRun = { ...fields, status: fields.conclusion ? 'completed' : (fields.status ?? 'queued'), id: nextId++, repository, installationId: caller.installationId };
        checkRuns.push(stored);
        return { status: 201, body: stored };
      }
      if ((match = /^\/check-runs\/(\d+)$/.exec(rest)) && method === 'PATCH') {
        const found = checkRuns.find((c) => c.id === Number(match?.[1]) && c.repository === repository);
        if (!found) return { status: 404, body: { message: 'Not Found' } };
        const invalid = schemaErrors(validate.updateCheckRun, body, 'CheckRun') ?? completionErrors(body);
        if (invalid) return invalid;
        const fields = body as Partial<CheckRun>;
        Object.assign(found, fields, fields.conclusion ? { status: 'completed' } : {});
        return { status: 200, body: found };
      }
      if (/^\/commits\/[^/]+\/check-runs$/.test(rest) && method === 'GET') {
        const ref = decodeURIComponent(rest.split('/')[2] as string);
        const name = query.get('check_name');
        const found = checkRuns.filter((c) => c.repository === repository && c.head_sha === ref && (name === null || c.name === name));
        return { status: 200, body: { total_count: found.length, check_runs: found } };
      }
    }
    return { status: 404, body: { message: 'Not Found' } };
  };

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        // kept as text: the route answers 400
      }
      const caller = authenticate(request.headers.authorization);
      const call: GithubCall = {
        method: request.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        auth: caller.kind,
        ...(caller.kind === 'none' && { authError: caller.error }),
        body,
      };
      calls.push(call);
      const send = (status: number, answer: unknown, headers: Record<string, string> = {}) => {
        call.status = status;
        response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        response.end(JSON.stringify(answer));
      };
      if (down) return send(503, { message: 'Service Unavailable' });
      const fault = faults.shift();
      if (fault?.kind === 'reset') return void request.socket.destroy();
      if (fault?.kind === 'status') return send(fault.code, { message: 'Server Error' });
      if (fault?.kind === 'rate-limit') {
        const reset = Math.floor(now() / 1000) + fault.resetInSeconds;
        return send(403, { message: 'API rate limit exceeded for installation.' }, { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) });
      }
      if (fault?.kind === 'retry-after') return send(fault.code, { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' }, { 'retry-after': String(fault.seconds) });
      if (typeof body === 'string') return send(400, { message: 'Problems parsing JSON' });
      void operations.route(call.method, url.pathname, url.searchParams, caller, body).then((found) => {
        const answer = found ?? route(call.method, url.pathname, url.searchParams, caller, body);
        if (answer.status === 204) {
          call.status = 204;
          response.writeHead(204);
          return void response.end();
        }
        send(answer.status, answer.body, answer.headers);
      }, (error: unknown) => send(500, { message: `the test server crashed: ${(error as Error).message}` }));
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${port}`;
  const { state } = operations;
  const logins = (names: string[]) => new Set(names.map((name) => name.toLowerCase()));
  return {
    url: baseUrl,
    calls,
    statuses,
    checkRuns,
    issuedTokens,
    injectFault: (...more) => faults.push(...more),
    setDown: (value) => {
      down = value;
    },
    addDeliveries: operations.addDeliveries,
    deliveries: state.deliveries,
    onRedeliver: operations.onRedeliver,
    redeliveries: state.redeliveries,
    setPullRequestFiles: (repository, number, filenames) => void state.pullRequestFiles.set(`${repository.toLowerCase()}#${number}`, filenames),
    setPublicMembers: (org, names) => void state.publicMembers.set(org.toLowerCase(), logins(names)),
    setCollaborators: (repository, names) => void state.collaborators.set(repository.toLowerCase(), logins(names)),
    setFile: (repository, path, text) => void state.contents.set(`${repository.toLowerCase()}:${path}`, { file: text }),
    setDirectory: (repository, path, names) => void state.contents.set(`${repository.toLowerCase()}:${path}`, { directory: names }),
    schemaViolations: state.schemaViolations,
    reset: () => {
      for (const list of [calls, statuses, checkRuns, issuedTokens, faults] as unknown[][]) list.length = 0;
      down = false;
      operations.reset();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function validationFailed(resource: string, field: string, message: string) {
  return { status: 422, body: { message: 'Validation Failed', errors: [{ resource, code: 'custom', field, message }], documentation_url: 'https://docs.github.com/rest' } };
}

function schemaErrors(check: ValidateFunction, body: unknown, resource: string) {
  if (check(body)) return undefined;
  const errors = (check.errors ?? []).map((e) => ({ resource, code: 'invalid', field: e.instancePath.replace(/^\//, '') || String(e.params.additionalProperty ?? e.params.missingProperty ?? ''), message: `${e.instancePath || 'body'} ${e.message}` }));
  return { status: 422, body: { message: 'Validation Failed', errors, documentation_url: 'https://docs.github.com/rest' } };
}

/** GitHub: "conclusion: Required if you provide completed_at or a status of completed." */
function completionErrors(body: unknown) {
  const run = body as { status?: string; completed_at?: string; conclusion?: string };
  if ((run.status === 'completed' || run.completed_at !== undefined) && run.conclusion === undefined) {
    return validationFailed('CheckRun', 'conclusion', 'conclusion is required when the check run is completed');
  }
  return undefined;
}
