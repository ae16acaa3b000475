import type { CreateResource, KubernetesObject, PendingCreation, ResourceRef, ServiceAccountRef } from './delivery-types.ts';
import { renderResources } from './render-resources.ts';
import { RUN_SIGNATURE_ANNOTATION } from './run-signature.ts';
import { renderedResourceRefusal } from './rendered-resource-policy.ts';
import { listenerTriggers, type TriggersConfig } from './triggers-config.ts';

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
 * Tries a queued creation again, with the objects renderPendingCreation made of it. Every object is created in order,
 * those created before the failure too: deterministic names make that safe (AlreadyExists from the same body and
 * trigger is `duplicate`), so the same message may be delivered twice, race a person's redelivery, or follow a fast
 * path that did create after all, and the cluster still ends with one object.
 */
export async function retryPendingCreation(
  pending: PendingCreation,
  { objects, serviceAccount }: RenderedCreation,
  { createResource, attempt, maxAttempts }: RetryAttempt,
): Promise<RetryDecision> {
  const resources = objects.map(refOf);
  if (pending.permanent) {
    return { outcome: 'dead-letter', reason: `not retried, no retry will cure it: ${pending.reason}`, resources };
  }
  let created = 0;
  for (const object of objects) {
    const result = await createResource(object, serviceAccount && { impersonate: serviceAccount });
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

/** What a queued creation stands for in the retry function's own config: the objects, and whom to create them as. */
export interface RenderedCreation {
  objects: KubernetesObject[];
  /** The trigger's serviceAccountName, from the config — never from the message. */
  serviceAccount: ServiceAccountRef | undefined;
}

export type RenderedPendingCreation = ({ ok: true } & RenderedCreation) | { ok: false; reason: string };

/**
 * The objects a queued creation stands for, rendered again from the retry function's own config: the EventListener
 * and trigger must exist there, the params must be the template's, and what renders must pass the same policy as on
 * the webhook (Tekton runs, in the EventListener's namespaces). So a message — even one carrying a valid MAC — can
 * choose param values at most, never what kind of object is created or where.
 */
export function renderPendingCreation(pending: PendingCreation, config: TriggersConfig): RenderedPendingCreation {
  const listener = config.eventListeners.find((l) => l.name === pending.eventListener);
  if (!listener) return { ok: false, reason: `no EventListener named ${JSON.stringify(clip(pending.eventListener))} in the retry function's config` };
  const trigger = listenerTriggers(listener).find((t) => t.name === pending.trigger);
  if (!trigger) return { ok: false, reason: `EventListener ${listener.name} has no trigger named ${JSON.stringify(clip(pending.trigger))}` };
  const declared = new Set(trigger.template.params.map((p) => p.name));
  const unknown = Object.keys(pending.params).find((name) => !declared.has(name));
  if (unknown !== undefined) return { ok: false, reason: `param ${JSON.stringify(clip(unknown))} is not a param of TriggerTemplate/${trigger.template.name}` };
  const given = (name: string): string | undefined => (Object.hasOwn(pending.params, name) ? pending.params[name] : undefined);
  const missing = trigger.template.params.find((p) => p.default === undefined && given(p.name) === undefined);
  if (missing) return { ok: false, reason: `param "${missing.name}" of TriggerTemplate/${trigger.template.name} has no value and no default` };
  const params = new Map<string, string>();
  for (const param of trigger.template.params) {
    const value = given(param.name) ?? param.default;
    if (value !== undefined) params.set(param.name, value);
  }
  const rendered = renderResources({
    template: trigger.template,
    params,
    deliveryId: pending.deliveryId,
    bodyDigest: pending.bodyDigest,
    trigger: trigger.name,
    eventListener: listener.name,
    namespace: trigger.namespace,
    summary: pending.summary,
  });
  if (!rendered.ok) return rendered;
  const refusal = renderedResourceRefusal(rendered.resources, listener, trigger.namespace);
  if (refusal) return { ok: false, reason: refusal };
  return { ok: true, objects: withSignatures(rendered.resources, pending.signatures), serviceAccount: trigger.serviceAccount };
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

/** The fields a queue message may have: a pending creation, and `deadLetter` once it has been parked and redriven. */
const MESSAGE_FIELDS = new Set(['deliveryId', 'event', 'eventListener', 'trigger', 'bodyDigest', 'summary', 'params', 'reason', 'permanent', 'signatures', 'deadLetter']);
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** What a delivery's summary may hold (delivery-summary.ts): never more, so a message cannot smuggle annotations in. */
const SUMMARY_FIELDS: readonly string[] = ['repository', 'ref', 'commit', 'installationId', 'pushOrder'];
const SIGNATURE = /^v1=[0-9a-f]{64}$/;
const MAX_SIGNATURES = 100;
const MAX_ID_CHARS = 256;
const MAX_SUMMARY_CHARS = 1024;

/** A queue message back into a PendingCreation; anything else is named, never echoed. */
export function parsePendingCreation(text: string): ParsedPendingCreation {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: `the message is not JSON (${text.length} characters)` };
  }
  if (!isRecord(value)) return { ok: false, reason: 'the message is not a JSON object' };
  const message = value;
  const extra = Object.keys(message).find((key) => !MESSAGE_FIELDS.has(key));
  if (extra !== undefined) {
    return {
      ok: false,
      reason:
        extra === 'objects'
          ? 'the message carries objects to create; the retry function creates only what it renders from its own config'
          : `the message has a field ${JSON.stringify(clip(extra))} a pending creation does not have`,
    };
  }
  for (const field of ['deliveryId', 'event', 'eventListener', 'trigger'] as const) {
    const item = message[field];
    if (typeof item !== 'string' || item === '' || item.length > MAX_ID_CHARS) return { ok: false, reason: `the message has no ${field} (a string of 1 to ${MAX_ID_CHARS} characters)` };
  }
  if (typeof message.reason !== 'string') return { ok: false, reason: 'the message has no reason' };
  if (typeof message.permanent !== 'boolean') return { ok: false, reason: 'the message has no permanent flag' };
  if (typeof message.bodyDigest !== 'string' || !SHA256_HEX.test(message.bodyDigest)) return { ok: false, reason: 'the message has no bodyDigest (64 lower-case hex digits)' };
  const summary = message.summary;
  if (!isRecord(summary)) return { ok: false, reason: 'the message has no summary' };
  for (const [key, item] of Object.entries(summary)) {
    if (!SUMMARY_FIELDS.includes(key)) return { ok: false, reason: `the message's summary has a field ${JSON.stringify(clip(key))}` };
    if (typeof item !== 'string' || item.length > MAX_SUMMARY_CHARS) return { ok: false, reason: `the message's summary.${key} is not a string of at most ${MAX_SUMMARY_CHARS} characters` };
    if (key === 'installationId' && !/^[1-9][0-9]{0,19}$/.test(item)) return { ok: false, reason: "the message's summary.installationId is not a GitHub App installation id" };
  }
  const params = message.params;
  if (!isRecord(params)) return { ok: false, reason: 'the message has no params' };
  for (const [name, item] of Object.entries(params)) {
    if (typeof item !== 'string') return { ok: false, reason: `the message's param ${JSON.stringify(clip(name))} is not a string` };
  }
  const signatures = message.signatures;
  if (signatures !== undefined && (!Array.isArray(signatures) || signatures.length > MAX_SIGNATURES || !signatures.every((s) => typeof s === 'string' && SIGNATURE.test(s)))) {
    return { ok: false, reason: `the message's signatures are not a list of at most ${MAX_SIGNATURES} run signatures` };
  }
  return {
    ok: true,
    pending: {
      deliveryId: message.deliveryId as string,
      event: message.event as string,
      eventListener: message.eventListener as string,
      trigger: message.trigger as string,
      bodyDigest: message.bodyDigest,
      summary: {
        repository: summary.repository as string | undefined,
        ref: summary.ref as string | undefined,
        commit: summary.commit as string | undefined,
        ...(summary.installationId !== undefined && { installationId: summary.installationId as string }),
        ...(summary.pushOrder !== undefined && { pushOrder: summary.pushOrder as string }),
      },
      params: params as Record<string, string>,
      reason: message.reason,
      permanent: message.permanent,
      ...(signatures !== undefined && { signatures: signatures as string[] }),
    },
  };
}

/**
 * The webhook signed the objects it rendered (run-signature.ts); the retry function, which holds no webhook secret,
 * puts those signatures on the same objects rendered again. Rendered differently (the config changed in between),
 * a signature no longer verifies and the run is left alone by the reporter and the groups, as any unsigned run.
 */
function withSignatures(objects: KubernetesObject[], signatures: readonly string[] | undefined): KubernetesObject[] {
  if (signatures === undefined || signatures.length !== objects.length) return objects;
  return objects.map((object, index) => ({
    ...object,
    metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, [RUN_SIGNATURE_ANNOTATION]: signatures[index] as string } },
  }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

export function refOf(object: KubernetesObject): ResourceRef {
  return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}
