import type { CreateResource, KubernetesObject, PendingCreation, ResourceRef } from './delivery-types.ts';

/** What the retry function does with one queued creation after trying it. */
export type RetryDecision =
  | { outcome: 'created' | 'duplicate'; resources: ResourceRef[] }
  /** Not yet: leave it on the queue and try again later. */
  | { outcome: 'retry'; reason: string; resources: ResourceRef[] }
  /** Never, or not after this many attempts: park it in the dead-letter queue with the reason, for a person. */
  | { outcome: 'dead-letter'; reason: string; resources: ResourceRef[] };

export interface RetryAttempt {
  createResource: CreateResource;
  /** This attempt's number, counting the webhook's own first try as 1. */
  attempt: number;
  /** Attempts in all before the creation is parked in the dead-letter queue. */
  maxAttempts: number;
}

/**
 * Tries a queued creation again. Every object is created in order, those created before the failure too: deterministic
 * names make that safe (AlreadyExists is `duplicate`), so the same message may be delivered twice, race a person's
 * redelivery, or follow a fast path that did create after all, and the cluster still ends with one object.
 */
export async function retryPendingCreation(pending: PendingCreation, { createResource, attempt, maxAttempts }: RetryAttempt): Promise<RetryDecision> {
  const resources = pending.objects.map(refOf);
  if (pending.permanent) {
    return { outcome: 'dead-letter', reason: `not retried, no retry will cure it: ${pending.reason}`, resources };
  }
  let created = 0;
  for (const object of pending.objects) {
    const result = await createResource(object, pending.impersonate && { impersonate: pending.impersonate });
    if (result.outcome === 'failed') {
      const which = `${object.kind} ${object.metadata.namespace}/${object.metadata.name} was not created: ${result.reason}`;
      if (!result.retryable) return { outcome: 'dead-letter', reason: `${which} (attempt ${attempt}; no retry will cure it)`, resources };
      if (attempt >= maxAttempts) return { outcome: 'dead-letter', reason: `${which} (gave up after ${attempt} attempts)`, resources };
      return { outcome: 'retry', reason: `${which} (attempt ${attempt} of ${maxAttempts})`, resources };
    }
    if (result.outcome === 'created') created += 1;
  }
  return { outcome: created > 0 ? 'created' : 'duplicate', resources };
}

/**
 * How long to wait before the next attempt after attempt `attempt` failed: `baseSeconds` after the first retry, doubling
 * each time, never more than `maxSeconds`. `jitter` in [0, 1) spreads a crowd of retries over the upper half of the wait,
 * so a cluster coming back is not hit by all of them in the same second.
 */
export function retryDelaySeconds(attempt: number, options: { baseSeconds: number; maxSeconds: number; jitter?: number }): number {
  const retriesSoFar = Math.max(0, attempt - 2);
  const ceiling = Math.min(options.maxSeconds, options.baseSeconds * 2 ** Math.min(retriesSoFar, 30));
  const jitter = options.jitter ?? 0;
  return Math.round(ceiling / 2 + (ceiling / 2) * Math.min(Math.max(jitter, 0), 1));
}

export type ParsedPendingCreation = { ok: true; pending: PendingCreation } | { ok: false; reason: string };

/** A queue message back into a PendingCreation; anything else is named, never echoed. */
export function parsePendingCreation(text: string): ParsedPendingCreation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: `the message is not JSON (${text.length} characters)` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'the message is not a JSON object' };
  const message = value as Record<string, unknown>;
  for (const field of ['deliveryId', 'event', 'eventListener', 'trigger', 'reason'] as const) {
    if (typeof message[field] !== 'string') return { ok: false, reason: `the message has no ${field}` };
  }
  if (typeof message.permanent !== 'boolean') return { ok: false, reason: 'the message has no permanent flag' };
  if (!Array.isArray(message.objects) || message.objects.length === 0) return { ok: false, reason: 'the message has no objects to create' };
  for (const [index, object] of message.objects.entries()) {
    if (!isKubernetesObject(object)) return { ok: false, reason: `objects[${index}] has no apiVersion, kind, metadata.name or metadata.namespace` };
  }
  const impersonate = message.impersonate as { namespace?: unknown; name?: unknown } | undefined | null;
  if (impersonate !== undefined && (impersonate === null || typeof impersonate.namespace !== 'string' || typeof impersonate.name !== 'string')) {
    return { ok: false, reason: 'the message has an impersonate that is not {namespace, name}' };
  }
  return {
    ok: true,
    pending: {
      deliveryId: message.deliveryId as string,
      event: message.event as string,
      eventListener: message.eventListener as string,
      trigger: message.trigger as string,
      objects: message.objects as KubernetesObject[],
      reason: message.reason as string,
      permanent: message.permanent,
      ...(impersonate && { impersonate: { namespace: impersonate.namespace as string, name: impersonate.name as string } }),
    },
  };
}

function isKubernetesObject(value: unknown): value is KubernetesObject {
  if (value === null || typeof value !== 'object') return false;
  const object = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } | null };
  return (
    typeof object.apiVersion === 'string' &&
    typeof object.kind === 'string' &&
    typeof object.metadata === 'object' &&
    object.metadata !== null &&
    typeof object.metadata.name === 'string' &&
    typeof object.metadata.namespace === 'string'
  );
}

export function refOf(object: KubernetesObject): ResourceRef {
  return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}
