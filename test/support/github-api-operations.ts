/**
 * The GitHub API test server's read-mostly operations: a webhook's deliveries (the App's own and repository hooks,
 * paged with GitHub's opaque `cursor` and `Link` header, newest first) and their redelivery, a pull request's files
 * (paged with `page`, at most 3000 as GitHub caps them), public organization membership, repository collaborators, and
 * file contents. Each operation's path and query parameters are checked against its parameters in GitHub's OpenAPI
 * description (`rest-api-request-schemas.json`; an unknown query parameter is a 400, stricter than GitHub, so a
 * misspelt one cannot pass unnoticed), and every answer it gives is checked against the operation's success-response
 * schema (`rest-api-response-schemas.json`): a fixture that GitHub would never send fails the test with a 500.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';

export interface DeliverySeed {
  guid: string;
  /** When GitHub made the attempt: a Date, epoch milliseconds, or ISO text. */
  deliveredAt: Date | number | string;
  /** The receiving end's answer; 0 for none (a timeout, a refused connection). */
  statusCode: number;
  /** GitHub's words for it; default from the code (`OK`, `Invalid HTTP Response: 503`, `timed out`). */
  status?: string;
  redelivery?: boolean;
  event?: string;
  action?: string | null;
}

/** A delivery attempt as GitHub lists it (its `hook-delivery-item` schema). */
export interface HookDeliveryRecord {
  id: number;
  guid: string;
  delivered_at: string;
  redelivery: boolean;
  duration: number;
  status: string;
  status_code: number;
  event: string;
  action: string | null;
  installation_id: number | null;
  repository_id: number | null;
  throttled_at: string | null;
}

export interface RedeliveryCall {
  hook: string;
  deliveryId: number;
  guid: string;
  /** The attempt the redelivery made. */
  attempt: HookDeliveryRecord;
}

/** What a redelivery's attempt is answered: the test decides (e.g. by handing the event to the bridge). */
export type RedeliveryOutcome = (original: HookDeliveryRecord, hook: string) => Promise<{ statusCode: number; status?: string }> | { statusCode: number; status?: string };

type Caller = { kind: 'token' } | { kind: 'installation'; installationId: number } | { kind: 'jwt' } | { kind: 'none'; error: string };
type Answer = { status: number; body: unknown; headers?: Record<string, string> };

export interface OperationState {
  /** Attempts by hook: `app`, or `owner/repo/hookId` (lower-case owner and repo). */
  deliveries: Map<string, HookDeliveryRecord[]>;
  redeliveries: RedeliveryCall[];
  pullRequestFiles: Map<string, string[]>;
  publicMembers: Map<string, Set<string>>;
  collaborators: Map<string, Set<string>>;
  contents: Map<string, { file: string } | { directory: string[] }>;
  /** Answers this server gave against GitHub's response schemas (each also answered 500). */
  schemaViolations: string[];
}

interface Operation {
  id: string;
  method: string;
  pattern: RegExp;
  names: string[];
  parameters: Array<{ name: string; in: string; required?: boolean; schema: Record<string, unknown> }>;
  requestBody?: Record<string, unknown>;
  responses: Record<string, ValidateFunction | null>;
}

const REQUEST = JSON.parse(readFileSync(new URL('../fixtures/github/rest-api-request-schemas.json', import.meta.url), 'utf8')) as {
  operations: Record<string, { method: string; path: string; parameters?: Operation['parameters']; requestBody?: Record<string, unknown> }>;
};
const RESPONSE = JSON.parse(readFileSync(new URL('../fixtures/github/rest-api-response-schemas.json', import.meta.url), 'utf8')) as {
  operations: Record<string, { responses: Record<string, Record<string, unknown> | null> }>;
};
const MAX_PER_PAGE = 100;
const PULL_FILES_CAP = 3000;

function compileOperations(): Operation[] {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addFormat('int64', () => true);
  return Object.entries(RESPONSE.operations).map(([id, { responses }]) => {
    const request = REQUEST.operations[id];
    if (!request) throw new Error(`no request schema for ${id}`);
    const names: string[] = [];
    // A contents path may hold slashes; every other parameter is one segment.
    const pattern = new RegExp(`^${request.path.replace(/\{([^}]+)\}/g, (_, name: string) => (names.push(name), name === 'path' ? '(.+)' : '([^/]+)'))}$`);
    const compiled = Object.fromEntries(Object.entries(responses).map(([status, schema]) => [status, schema ? ajv.compile(schema) : null]));
    return { id, method: request.method, pattern, names, parameters: request.parameters ?? [], requestBody: request.requestBody, responses: compiled };
  });
}

export function defaultStatusText(code: number): string {
  if (code === 0) return 'timed out';
  if (code >= 200 && code < 300) return 'OK';
  return `Invalid HTTP Response: ${code}`;
}

/** The operations above over shared state; `route` answers undefined for a path none of them has. */
export function createOperationRoutes(options: {
  baseUrl: () => string;
  now: () => number;
  installationFor: (repository: string) => { id: number } | undefined;
  tokenRepositories?: string[];
}) {
  let redeliverOutcome: RedeliveryOutcome | undefined;
  const operations = compileOperations();
  const state: OperationState = {
    deliveries: new Map(),
    redeliveries: [],
    pullRequestFiles: new Map(),
    publicMembers: new Map(),
    collaborators: new Map(),
    contents: new Map(),
    schemaViolations: [],
  };
  let nextDeliveryId = 7_000_000_000;

  const record = (hook: string, seed: DeliverySeed): HookDeliveryRecord => {
    const stored: HookDeliveryRecord = {
      id: (nextDeliveryId += 1),
      guid: seed.guid,
      delivered_at: isoSeconds(seed.deliveredAt),
      redelivery: seed.redelivery ?? false,
      duration: 0.21,
      status: seed.status ?? defaultStatusText(seed.statusCode),
      status_code: seed.statusCode,
      event: seed.event ?? 'push',
      action: seed.action ?? null,
      installation_id: hook === 'app' ? 9001 : null,
      repository_id: 1296269,
      throttled_at: null,
    };
    const list = state.deliveries.get(hook) ?? [];
    list.push(stored);
    state.deliveries.set(hook, list);
    return stored;
  };

  /** Why a repository-scoped call is refused, or undefined. GitHub hides what a caller may not see behind 404. */
  const refusal = (caller: Caller, repository: string): Answer | undefined => {
    if (caller.kind === 'none' || caller.kind === 'jwt') return { status: 401, body: { message: caller.kind === 'none' ? caller.error : 'Bad credentials' } };
    if (caller.kind === 'installation' && options.installationFor(repository)?.id !== caller.installationId) return notFound();
    if (caller.kind === 'token' && options.tokenRepositories && !options.tokenRepositories.map((r) => r.toLowerCase()).includes(repository.toLowerCase())) return notFound();
    return undefined;
  };

  const handlers: Record<string, (p: Record<string, string>, query: URLSearchParams, caller: Caller) => Promise<Answer> | Answer> = {
    'apps/list-webhook-deliveries': (_p, query, caller) => (caller.kind === 'jwt' ? deliveriesPage('app', '/app/hook/deliveries', query) : jwtRequired(caller)),
    'apps/redeliver-webhook-delivery': (p, _q, caller) => (caller.kind === 'jwt' ? redeliver('app', Number(p.delivery_id)) : jwtRequired(caller)),
    'repos/list-webhook-deliveries': (p, query, caller) => {
      const repository = `${p.owner}/${p.repo}`;
      return refusal(caller, repository) ?? deliveriesPage(hookKey(repository, p.hook_id as string), `/repos/${repository}/hooks/${p.hook_id}/deliveries`, query);
    },
    'repos/redeliver-webhook-delivery': (p, _q, caller) => refusal(caller, `${p.owner}/${p.repo}`) ?? redeliver(hookKey(`${p.owner}/${p.repo}`, p.hook_id as string), Number(p.delivery_id)),
    'pulls/list-files': (p, query, caller) => refusal(caller, `${p.owner}/${p.repo}`) ?? pullRequestFilesPage(`${p.owner}/${p.repo}`, Number(p.pull_number), query),
    'orgs/check-public-membership-for-user': (p, _q, caller) => {
      if (caller.kind === 'jwt') return { status: 401, body: { message: 'Bad credentials' } };
      const members = state.publicMembers.get((p.org as string).toLowerCase());
      return members?.has((p.username as string).toLowerCase()) ? { status: 204, body: undefined } : notFound();
    },
    'repos/check-collaborator': (p, _q, caller) => {
      const repository = `${p.owner}/${p.repo}`;
      return refusal(caller, repository) ?? (state.collaborators.get(repository.toLowerCase())?.has((p.username as string).toLowerCase()) ? { status: 204, body: undefined } : notFound());
    },
    'repos/get-content': (p, _q, caller) => {
      const repository = `${p.owner}/${p.repo}`;
      return refusal(caller, repository) ?? contentOf(repository, p.path as string);
    },
  };

  const deliveriesPage = (hook: string, path: string, query: URLSearchParams): Answer => {
    // Newest first, as GitHub lists them (its ids grow with time; a test may seed out of order).
    const all = [...(state.deliveries.get(hook) ?? [])].sort((a, b) => Date.parse(b.delivered_at) - Date.parse(a.delivered_at) || b.id - a.id);
    if (!state.deliveries.has(hook) && hook !== 'app') return notFound();
    const perPage = Math.min(MAX_PER_PAGE, Number(query.get('per_page') ?? 30));
    const cursor = query.get('cursor');
    const after = cursor === null ? -1 : all.findIndex((delivery) => `v1_${delivery.id}` === cursor);
    if (cursor !== null && after < 0) return { status: 400, body: { message: `cursor ${cursor} is not one this server handed out` } };
    const rest = all.slice(after + 1);
    const page = rest.slice(0, perPage);
    const headers: Record<string, string> = {};
    if (rest.length > perPage) headers.link = `<${options.baseUrl()}${path}?per_page=${perPage}&cursor=v1_${page.at(-1)?.id}>; rel="next"`;
    return { status: 200, body: page, headers };
  };

  const redeliver = async (hook: string, deliveryId: number): Promise<Answer> => {
    const original = state.deliveries.get(hook)?.find((delivery) => delivery.id === deliveryId);
    if (!original) return notFound();
    const outcome = (await redeliverOutcome?.(original, hook)) ?? { statusCode: 200 };
    const attempt = record(hook, { guid: original.guid, deliveredAt: options.now(), statusCode: outcome.statusCode, status: outcome.status, redelivery: true, event: original.event, action: original.action });
    state.redeliveries.push({ hook, deliveryId, guid: original.guid, attempt });
    return { status: 202, body: {} };
  };

  const pullRequestFilesPage = (repository: string, number: number, query: URLSearchParams): Answer => {
    const files = state.pullRequestFiles.get(`${repository.toLowerCase()}#${number}`);
    if (!files) return notFound();
    const perPage = Math.min(MAX_PER_PAGE, Number(query.get('per_page') ?? 30));
    const pageNumber = Number(query.get('page') ?? 1);
    const listed = files.slice(0, PULL_FILES_CAP);
    const last = Math.max(1, Math.ceil(listed.length / perPage));
    const page = listed.slice((pageNumber - 1) * perPage, pageNumber * perPage);
    const link = (n: number, rel: string) => `<${options.baseUrl()}/repos/${repository}/pulls/${number}/files?per_page=${perPage}&page=${n}>; rel="${rel}"`;
    const links = [...(pageNumber > 1 ? [link(pageNumber - 1, 'prev'), link(1, 'first')] : []), ...(pageNumber < last ? [link(pageNumber + 1, 'next'), link(last, 'last')] : [])];
    const blob = (name: string) => `https://github.com/${repository}/blob/${sha(name)}/${name}`;
    const entries = page.map((filename) => ({
      sha: sha(filename),
      filename,
      status: 'modified',
      additions: 1,
      deletions: 1,
      changes: 2,
      blob_url: encodeURI(blob(filename)),
      raw_url: encodeURI(blob(filename).replace('/blob/', '/raw/')),
      contents_url: encodeURI(`https://api.github.com/repos/${repository}/contents/${filename}?ref=${sha(filename)}`),
      patch: '@@ -1 +1 @@\n-a\n+b',
    }));
    return { status: 200, body: entries, headers: links.length > 0 ? { link: links.join(', ') } : {} };
  };

  const contentOf = (repository: string, path: string): Answer => {
    const found = state.contents.get(`${repository.toLowerCase()}:${decodeURIComponent(path)}`);
    if (!found) return notFound();
    const item = (name: string, type: string) => {
      const url = `https://api.github.com/repos/${repository}/contents/${name}?ref=main`;
      const html = `https://github.com/${repository}/blob/main/${name}`;
      const git = `https://api.github.com/repos/${repository}/git/blobs/${sha(name)}`;
      return { type, name, path: name, sha: sha(name), size: 0, url, git_url: git, html_url: html, download_url: `https://raw.githubusercontent.com/${repository}/main/${name}`, _links: { self: url, git, html } };
    };
    if ('directory' in found) return { status: 200, body: found.directory.map((name) => item(`${path}/${name}`, 'file')) };
    const content = Buffer.from(found.file).toString('base64').replace(/.{60}/g, '$&\n');
    return { status: 200, body: { ...item(path, 'file'), size: Buffer.byteLength(found.file), encoding: 'base64', content } };
  };

  /** An answer for a path one of the operations has, or undefined. */
  const route = async (method: string, path: string, query: URLSearchParams, caller: Caller, body: unknown): Promise<Answer | undefined> => {
    for (const operation of operations) {
      const match = operation.pattern.exec(path);
      if (!match || operation.method !== method) continue;
      const params = Object.fromEntries(operation.names.map((name, i) => [name, decodeURIComponent(match[i + 1] as string)]));
      const invalid = parameterErrors(operation, params, query) ?? (operation.requestBody === undefined && body !== undefined ? { status: 400, body: { message: `${operation.id} takes no request body` } } : undefined);
      if (invalid) return invalid;
      const answer = await handlers[operation.id]?.(params, query, caller);
      if (!answer) return undefined;
      const check = operation.responses[String(answer.status)];
      if (check && !check(answer.body)) {
        const violation = `${operation.id} ${answer.status}: ${(check.errors ?? []).map((e) => `${e.instancePath || 'body'} ${e.message}`).join('; ')}`;
        state.schemaViolations.push(violation);
        return { status: 500, body: { message: `the test server answered against GitHub's schema: ${violation}` } };
      }
      return answer;
    }
    return undefined;
  };

  return {
    state,
    route,
    addDeliveries: (hook: string, ...seeds: DeliverySeed[]) => {
      if (!state.deliveries.has(hook)) state.deliveries.set(hook, []);
      return seeds.map((seed) => record(hook, seed));
    },
    onRedeliver: (outcome: RedeliveryOutcome | undefined) => {
      redeliverOutcome = outcome;
    },
    reset: () => {
      redeliverOutcome = undefined;
      for (const map of [state.deliveries, state.pullRequestFiles, state.publicMembers, state.collaborators, state.contents]) map.clear();
      state.redeliveries.length = 0;
      state.schemaViolations.length = 0;
    },
  };
}

/** The key a repository hook's deliveries are kept under. */
export function hookKey(repository: string, hookId: string | number): string {
  return `${repository.toLowerCase()}/${hookId}`;
}

function parameterErrors(operation: Operation, params: Record<string, string>, query: URLSearchParams): Answer | undefined {
  for (const parameter of operation.parameters) {
    const value = parameter.in === 'path' ? params[parameter.name] : (query.get(parameter.name) ?? undefined);
    if (value === undefined) {
      if (parameter.required) return { status: 422, body: { message: `${parameter.name} is required` } };
      continue;
    }
    const { type, enum: allowed } = parameter.schema as { type?: string; enum?: string[] };
    const wrong = (type === 'integer' && !/^-?\d+$/.test(value)) || (allowed !== undefined && !allowed.includes(value));
    // GitHub answers a path that does not parse with 404, a query parameter with 422.
    if (wrong) return parameter.in === 'path' ? notFound() : { status: 422, body: { message: `${parameter.name} ${JSON.stringify(value)} is not ${allowed ? `one of ${allowed.join(', ')}` : `an ${type}`}` } };
  }
  const known = new Set(operation.parameters.filter((p) => p.in === 'query').map((p) => p.name));
  const unknown = [...query.keys()].filter((key) => !known.has(key));
  if (unknown.length > 0) return { status: 400, body: { message: `${operation.id} has no query parameter ${unknown.join(', ')}` } };
  return undefined;
}

function jwtRequired(caller: Caller): Answer {
  return { status: 401, body: { message: caller.kind === 'none' ? caller.error : 'A JSON web token could not be decoded' } };
}

function notFound(): Answer {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } };
}

function sha(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

function isoSeconds(at: Date | number | string): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
