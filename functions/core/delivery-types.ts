/** What the adapters hand to the core, and what the core answers. */
import type { DeliverySummary } from './delivery-summary.ts';

export type Outcome = 'created' | 'skipped' | 'duplicate' | 'queued' | 'failed';

/** One delivery as it came over the wire: header names lower-cased, the body untouched. */
export interface DeliveryRequest {
  /** Path after `/webhook`, e.g. `''` or `/github-push` (selects an EventListener when there are several). */
  listenerPath?: string;
  headers: Readonly<Record<string, string | undefined>>;
  body: Uint8Array;
  /** Bytes received, when an adapter stopped buffering an oversized body; defaults to the body's length. */
  receivedBytes?: number;
  /** The URL the delivery was posted to (scheme, host, path and query), CEL's `requestURL`. */
  requestURL?: string;
}

/** A Kubernetes object rendered from a TriggerTemplate, ready to be created. */
export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export interface ResourceRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * What happened to one resource when the bridge asked the cluster to create it.
 * `retryable` marks failures that may succeed later (timeouts, 429, 5xx, connection errors).
 */
export type CreateResult =
  | { outcome: 'created' | 'duplicate' }
  | { outcome: 'failed'; reason: string; retryable: boolean };

/** A Kubernetes service account, by namespace and name. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

export interface CreateOptions {
  /** Create as this service account (Kubernetes impersonation), as Tekton Triggers does for a `serviceAccountName`. */
  impersonate?: ServiceAccountRef;
}

/** Creates one object on the cluster. Adapters implement it over node:https. */
export type CreateResource = (object: KubernetesObject, options?: CreateOptions) => Promise<CreateResult>;

export interface TriggerResult {
  trigger: string;
  outcome: Outcome;
  reason?: string;
  resources?: ResourceRef[];
}

export interface AnswerBody {
  deliveryId?: string;
  event?: string;
  eventListener?: string;
  results?: TriggerResult[];
  dryRun?: boolean;
  rendered?: KubernetesObject[];
  pong?: boolean;
  zen?: string;
  error?: string;
}

export interface Answer {
  status: number;
  body: AnswerBody;
}

/**
 * A trigger whose resources could not be created at once, handed to the retry queue with why. It carries what the
 * trigger's template is rendered from — never rendered objects: the retry function renders them again from its own
 * bundled config, so a message can choose param values at most, not what is created. `permanent` marks failures no
 * retry will cure (403, 404, 422): the retry function parks them in the dead-letter queue at once.
 */
export interface PendingCreation {
  deliveryId: string;
  event: string;
  eventListener: string;
  trigger: string;
  /** bodyDigestOf the signed body: the names, `$(uid)` and the body-digest annotation derive from it. */
  bodyDigest: string;
  summary: DeliverySummary;
  /** The template's param values as the webhook bound them. */
  params: Record<string, string>;
  reason: string;
  permanent: boolean;
  /** The webhook's signatures of the objects it rendered, in order (run-signature.ts); the retry function puts them back. */
  signatures?: string[];
}

export type EnqueueResult = { queued: true } | { queued: false; reason: string };

/** Puts pending creations on the retry queue. Adapters implement it over SQS. */
export type EnqueueCreation = (pending: PendingCreation) => Promise<EnqueueResult>;
