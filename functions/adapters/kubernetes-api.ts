import { STATUS_CODES } from 'node:http';
import type { V1Status } from '@kubernetes/client-node';
import type { CreateResource, CreateResult, KubernetesObject, ResourceRef, ServiceAccountRef } from '../core/delivery-types.ts';
import { NAME_TAKEN_REASON, sameOrigin } from '../core/resource-origin.ts';
import {
  createKubernetesTransport,
  type KubernetesConnection,
  type KubernetesExchange,
  type KubernetesRequest,
  type KubernetesTransport,
} from './kubernetes-transport.ts';

export { DEFAULT_KUBERNETES_TIMEOUT_MS, type KubernetesConnection } from './kubernetes-transport.ts';

const MAX_MESSAGE_CHARS = 1000;
const GERUNDS: Record<string, string> = { create: 'creating', get: 'reading', list: 'listing', patch: 'patching', delete: 'deleting' };
/** A list is read in pages of this many objects, and never more than MAX_LISTED in all: the answer stays bounded. */
const LIST_PAGE = 250;
const MAX_LISTED = 5000;

export interface CallOptions {
  /** The API server acts as this service account (`Impersonate-User: system:serviceaccount:<ns>:<name>`). */
  impersonate?: ServiceAccountRef;
}

/** What went wrong when the API gave no usable answer; `retryable` when it may pass (timeouts, 429, 5xx, 401). */
export interface CallFailure {
  outcome: 'failed';
  reason: string;
  retryable: boolean;
}

export type GetResult = { outcome: 'found'; object: KubernetesObject } | { outcome: 'not-found' } | CallFailure;
export type ListResult = { outcome: 'listed'; items: KubernetesObject[] } | CallFailure;
/** `conflict`: the object changed since the resourceVersion the patch was based on (optimistic concurrency). */
export type PatchResult = { outcome: 'patched'; object: KubernetesObject } | { outcome: 'not-found' } | { outcome: 'conflict'; reason: string } | CallFailure;
export type DeleteResult = { outcome: 'deleted' } | { outcome: 'not-found' } | { outcome: 'conflict'; reason: string } | CallFailure;

export interface ListQuery {
  apiVersion: string;
  kind: string;
  namespace: string;
  /** Kubernetes label selector syntax, e.g. `triggers.tekton.dev/eventlistener=github-push,tekton-bridge/group`. */
  labelSelector?: string;
  /** Objects per page; default LIST_PAGE. */
  pageSize?: number;
}

export interface PatchRequest {
  /** `merge`: RFC 7386 JSON merge patch; `json`: RFC 6902 JSON patch (with `test` ops for preconditions). */
  type: 'merge' | 'json';
  patch: unknown;
}

export interface KubernetesClient {
  create: (object: KubernetesObject, options?: CallOptions) => Promise<CreateResult>;
  get: (ref: ResourceRef, options?: CallOptions) => Promise<GetResult>;
  list: (query: ListQuery, options?: CallOptions) => Promise<ListResult>;
  patch: (ref: ResourceRef, request: PatchRequest, options?: CallOptions) => Promise<PatchResult>;
  /** With `resourceVersion`, only that version is deleted (a precondition); otherwise whatever is there. */
  delete: (ref: ResourceRef, options?: CallOptions & { resourceVersion?: string }) => Promise<DeleteResult>;
}

/** What a path names, for the API's messages and ours: `pipelineruns.tekton.dev` in namespace `ci`. */
interface Target {
  /** The collection: `/apis/<group>/<version>/namespaces/<ns>/<plural>`, every segment validated and encoded. */
  collection: string;
  /** `pipelineruns.tekton.dev`, as RBAC and the API's messages name it. */
  resource: string;
  group: string;
  version: string;
  namespace: string;
}

/**
 * The Kubernetes API as the bridge uses it: create, read, list, patch and delete namespaced objects, each answer mapped
 * to an outcome a person can act on. Every segment of every path is checked before anything is sent, so no value
 * from a config, a payload or a queue message can aim a request at another endpoint.
 */
export function createKubernetesClient(connection: KubernetesConnection): KubernetesClient {
  const transport = createKubernetesTransport(connection);
  const canRefresh = connection.getToken !== undefined;
  const call = (request: KubernetesRequest, options?: CallOptions): Promise<KubernetesExchange> =>
    transport(options?.impersonate ? { ...request, impersonateUser: impersonatedUser(options.impersonate) } : request);
  const failure = (exchange: KubernetesExchange & { kind: 'answer' }, target: Target, verb: string, name?: string) =>
    failureOf(exchange, target, verb, name, canRefresh);

  return {
    async create(object, options) {
      const target = targetOf(object);
      if (typeof target === 'string') return { outcome: 'failed', retryable: false, reason: target };
      const name = object.metadata.name;
      const exchange = await call({ method: 'POST', path: target.collection, body: JSON.stringify(object) }, options);
      if (exchange.kind === 'no-answer') return { outcome: 'failed', retryable: exchange.retryable, reason: exchange.reason };
      const { statusCode } = exchange;
      if (statusCode >= 200 && statusCode < 300) return { outcome: 'created' };
      if (statusCode === 409 && statusOf(exchange.body)?.reason === 'AlreadyExists') return { outcome: 'duplicate' };
      return failure(exchange, target, 'create', name);
    },

    async get(ref, options) {
      const target = targetOf(ref);
      if (typeof target === 'string') return { outcome: 'failed', retryable: false, reason: target };
      const exchange = await call({ method: 'GET', path: `${target.collection}/${encodeURIComponent(ref.name)}` }, options);
      if (exchange.kind === 'no-answer') return { outcome: 'failed', retryable: exchange.retryable, reason: exchange.reason };
      if (exchange.statusCode === 200 && isObject(exchange.body)) return { outcome: 'found', object: exchange.body as KubernetesObject };
      if (exchange.statusCode === 404 && isMissingObject(exchange.body)) return { outcome: 'not-found' };
      return failure(exchange, target, 'get', ref.name);
    },

    async list(query, options) {
      const target = targetOf({ ...query, name: 'list' });
      if (typeof target === 'string') return { outcome: 'failed', retryable: false, reason: target };
      const items: KubernetesObject[] = [];
      let next: string | undefined;
      do {
        const exchange = await call(
          { method: 'GET', path: target.collection, query: { labelSelector: query.labelSelector, limit: String(query.pageSize ?? LIST_PAGE), continue: next } },
          options,
        );
        if (exchange.kind === 'no-answer') return { outcome: 'failed', retryable: exchange.retryable, reason: exchange.reason };
        const page = exchange.body as { items?: unknown; metadata?: { continue?: unknown } } | undefined;
        if (exchange.statusCode !== 200 || !Array.isArray(page?.items)) return failure(exchange, target, 'list');
        for (const item of page.items) if (isObject(item)) items.push({ apiVersion: query.apiVersion, kind: query.kind, ...item } as KubernetesObject);
        next = typeof page.metadata?.continue === 'string' && page.metadata.continue !== '' ? page.metadata.continue : undefined;
        if (items.length > MAX_LISTED) {
          return { outcome: 'failed', retryable: false, reason: `more than ${MAX_LISTED} ${target.resource} match ${query.labelSelector ?? 'the list'} in namespace ${target.namespace}` };
        }
      } while (next !== undefined);
      return { outcome: 'listed', items };
    },

    async patch(ref, request, options) {
      const target = targetOf(ref);
      if (typeof target === 'string') return { outcome: 'failed', retryable: false, reason: target };
      const contentType = request.type === 'merge' ? 'application/merge-patch+json' : 'application/json-patch+json';
      const exchange = await call(
        { method: 'PATCH', path: `${target.collection}/${encodeURIComponent(ref.name)}`, body: JSON.stringify(request.patch), contentType },
        options,
      );
      if (exchange.kind === 'no-answer') return { outcome: 'failed', retryable: exchange.retryable, reason: exchange.reason };
      if (exchange.statusCode === 200 && isObject(exchange.body)) return { outcome: 'patched', object: exchange.body as KubernetesObject };
      if (exchange.statusCode === 404 && isMissingObject(exchange.body)) return { outcome: 'not-found' };
      if (isConflict(exchange)) return { outcome: 'conflict', reason: messageOfStatus(exchange) };
      return failure(exchange, target, 'patch', ref.name);
    },

    async delete(ref, options) {
      const target = targetOf(ref);
      if (typeof target === 'string') return { outcome: 'failed', retryable: false, reason: target };
      const preconditions = options?.resourceVersion === undefined ? undefined : { resourceVersion: options.resourceVersion };
      const body = JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', ...(preconditions && { preconditions }) });
      const exchange = await call({ method: 'DELETE', path: `${target.collection}/${encodeURIComponent(ref.name)}`, body }, options);
      if (exchange.kind === 'no-answer') return { outcome: 'failed', retryable: exchange.retryable, reason: exchange.reason };
      if (exchange.statusCode === 200 || exchange.statusCode === 202) return { outcome: 'deleted' };
      if (exchange.statusCode === 404 && isMissingObject(exchange.body)) return { outcome: 'not-found' };
      if (isConflict(exchange)) return { outcome: 'conflict', reason: messageOfStatus(exchange) };
      return failure(exchange, target, 'delete', ref.name);
    },
  };
}

/** Creates objects with one JSON POST each (and a read-back on AlreadyExists); the webhook path needs nothing else. */
export function createResourceCreator(connection: KubernetesConnection): CreateResource {
  return createWithReadBack(createKubernetesClient(connection));
}

/**
 * Create, and on AlreadyExists read the object back: it is a `duplicate` only when it came from the same signed body
 * and trigger (sameOrigin); anything else under that name fails the creation, so a run someone pre-created under a
 * predictable name cannot swallow a real delivery. A read-back that fails is a failure that may pass.
 */
export function createWithReadBack(client: Pick<KubernetesClient, 'create' | 'get'>): CreateResource {
  return async (object, options) => {
    const created = await client.create(object, options);
    if (created.outcome !== 'duplicate') return created;
    const found = await client.get(refOfObject(object), options);
    if (found.outcome === 'found') {
      return sameOrigin(found.object, object) ? created : { outcome: 'failed', retryable: false, reason: NAME_TAKEN_REASON };
    }
    if (found.outcome === 'not-found') return { outcome: 'failed', retryable: true, reason: 'the name was taken, and the object was gone when the bridge read it back' };
    return { outcome: 'failed', retryable: true, reason: `the name is taken, and reading the object back failed: ${found.reason}` };
  };
}

function refOfObject(object: KubernetesObject): ResourceRef {
  return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}

// An API group is a DNS subdomain, a version v1 / v1beta1 / v2alpha3, a kind a CamelCase identifier, a namespace a
// DNS label and a name a DNS subdomain: nothing with a slash, a dot-dot or a percent sign can pass.
const GROUP = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VERSION = /^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/;
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = GROUP;

/** The collection path of an object, or why it cannot be addressed. */
function targetOf(object: { apiVersion?: unknown; kind?: unknown; metadata?: { namespace?: unknown; name?: unknown }; namespace?: unknown; name?: unknown }): Target | string {
  const { apiVersion, kind } = object;
  const namespace = object.metadata ? object.metadata.namespace : object.namespace;
  const name = object.metadata ? object.metadata.name : object.name;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !apiVersion || !kind) return 'the object has no apiVersion or kind';
  if (typeof namespace !== 'string' || !namespace) return `the ${kind} has no metadata.namespace`;
  if (typeof name !== 'string' || !name) return `the ${kind} has no metadata.name`;
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  if ((group !== '' && (group.length > 253 || !GROUP.test(group))) || !VERSION.test(version)) {
    return `apiVersion ${JSON.stringify(clip(apiVersion, 80))} is not of the form group/version`;
  }
  if (!KIND.test(kind)) return `kind ${JSON.stringify(clip(kind, 80))} is not a Kubernetes kind`;
  if (!DNS_LABEL.test(namespace)) return `namespace ${JSON.stringify(clip(namespace, 80))} is not a DNS-1123 label`;
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) return `name ${JSON.stringify(clip(name, 80))} is not a DNS-1123 subdomain`;
  // The REST mapping Tekton's CRDs use: the lower-cased kind plus "s" (pipelineruns, taskruns).
  const plural = `${kind.toLowerCase()}s`;
  const base = group ? `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}` : `/api/${encodeURIComponent(version)}`;
  return {
    collection: `${base}/namespaces/${encodeURIComponent(namespace)}/${encodeURIComponent(plural)}`,
    resource: group ? `${plural}.${group}` : plural,
    group,
    version,
    namespace,
  };
}

function impersonatedUser({ namespace, name }: ServiceAccountRef): string {
  if (!DNS_LABEL.test(namespace) || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw new TypeError(`[tekton-bridge] cannot impersonate service account ${JSON.stringify(`${namespace}/${name}`)}: not a namespace and name`);
  }
  return `system:serviceaccount:${namespace}:${name}`;
}

function failureOf(exchange: KubernetesExchange & { kind: 'answer' }, target: Target, verb: string, name: string | undefined, canRefresh: boolean): CallFailure {
  const { statusCode, headers } = exchange;
  const status = statusOf(exchange.body);
  const said = messageOfStatus(exchange);
  const what = `${target.resource}${name ? ` ${target.namespace}/${name}` : ` in namespace ${target.namespace}`}`;
  if (statusCode === 401) {
    const fresh = canRefresh ? ', even with a fresh token' : '';
    return { outcome: 'failed', retryable: true, reason: `the Kubernetes API refused the bridge's credentials (401 Unauthorized)${fresh}` };
  }
  if (statusCode === 403) {
    return {
      outcome: 'failed',
      retryable: false,
      reason: `the bridge's role lacks RBAC: ${verb} ${target.resource} in namespace ${target.namespace} (forbidden: ${said})`,
    };
  }
  if (statusCode === 404) {
    const details = status?.details;
    if (details?.kind === 'namespaces' && details.name === target.namespace) {
      return { outcome: 'failed', retryable: false, reason: `namespace ${target.namespace} does not exist on the cluster (${said})` };
    }
    const missing = `${target.resource}/${target.version}`;
    return {
      outcome: 'failed',
      retryable: false,
      reason:
        target.group === 'tekton.dev'
          ? `Tekton Pipelines is not installed (no tekton.dev CRDs): the API has no ${missing}`
          : `the Kubernetes API has no ${missing} (is its CRD installed?)`,
    };
  }
  if (statusCode === 409) return { outcome: 'failed', retryable: true, reason: `conflict ${GERUNDS[verb] ?? verb} ${target.resource} ${name ?? ''}`.trimEnd() + `: ${said}` };
  if (statusCode === 422) return { outcome: 'failed', retryable: false, reason: said };
  if (statusCode === 429) {
    const retryAfter = headerOf(headers, 'retry-after');
    const wait = retryAfter ? `; Retry-After: ${clip(retryAfter, 40)} s` : '';
    return { outcome: 'failed', retryable: true, reason: `the Kubernetes API is throttling the bridge (429 Too Many Requests${wait})` };
  }
  if (statusCode >= 500) {
    const head = `${statusCode} ${STATUS_CODES[statusCode] ?? ''}`.trim();
    return { outcome: 'failed', retryable: true, reason: status?.message ? `the Kubernetes API answered ${head}: ${clip(status.message)}` : `the Kubernetes API answered ${head}` };
  }
  if (exchange.truncated) return { outcome: 'failed', retryable: false, reason: `the Kubernetes API's answer to ${verb} ${what} was too large to read` };
  return {
    outcome: 'failed',
    retryable: false,
    reason: `the Kubernetes API refused to ${verb} ${what} (${statusCode}${status?.reason ? ` ${status.reason}` : ''}: ${said})`,
  };
}

/** 409 Conflict, or 412 from a DELETE whose precondition failed on some API servers. */
function isConflict(exchange: KubernetesExchange & { kind: 'answer' }): boolean {
  return (exchange.statusCode === 409 && statusOf(exchange.body)?.reason === 'Conflict') || exchange.statusCode === 412;
}

/** A 404 about the object itself, not about its kind (no CRD) or its namespace. */
function isMissingObject(body: unknown): boolean {
  const details = statusOf(body)?.details;
  return details !== undefined && details.kind !== 'namespaces' && typeof details.name === 'string' && details.name !== '';
}

function messageOfStatus(exchange: KubernetesExchange & { kind: 'answer' }): string {
  const message = statusOf(exchange.body)?.message;
  return message ? clip(message) : `${exchange.statusCode} ${STATUS_CODES[exchange.statusCode] ?? ''}`.trim();
}

function statusOf(body: unknown): V1Status | undefined {
  return isObject(body) && body.kind === 'Status' ? (body as V1Status) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function clip(text: string, max = MAX_MESSAGE_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
