import { createHmac, timingSafeEqual } from 'node:crypto';
import type { KubernetesObject } from './delivery-types.ts';

/**
 * The bridge's mark on a run it rendered: an HMAC-SHA256 over what the reporter and the concurrency groups act on, under
 * a key derived from the webhook secret. Anyone who may create runs in the namespace can copy the bridge's labels and
 * annotations; without the secret they cannot make this annotation, so their run is never reported to GitHub with the
 * bridge's credentials, nor cancelled, started or pruned by it.
 */
export const RUN_SIGNATURE_ANNOTATION = 'tekton-bridge/signature';

const KEY_LABEL = 'tekton-bridge run signature';
const VERSION = 'v1';
const PREFIX = `${VERSION}=`;
const HEX_SIGNATURE = /^v1=[0-9a-f]{64}$/;

/** What is signed, in this order; a missing one is signed as null, so "absent" and "" differ. */
const SIGNED_LABELS = ['triggers.tekton.dev/eventlistener', 'triggers.tekton.dev/trigger', 'tekton-bridge/concurrency-group'] as const;
const SIGNED_ANNOTATIONS = [
  'tekton-bridge/repository',
  'tekton-bridge/commit',
  'tekton-bridge/context',
  'tekton-bridge/installation-id',
  'tekton-bridge/body-sha256',
  'tekton-bridge/concurrency-group',
  'tekton-bridge/cancel-in-progress',
  'tekton-bridge/max-running',
  'tekton-bridge/max-keep-runs',
  'tekton-bridge/cancel-status',
  'tekton-bridge/push-order',
] as const;

/** HMAC(webhookSecret, "tekton-bridge run signature"): the webhook secret itself never signs anything but deliveries. */
export function runSigningKey(webhookSecret: string): Buffer {
  return createHmac('sha256', webhookSecret).update(KEY_LABEL).digest();
}

/**
 * The signed facts of a run as one unambiguous string (a JSON array). The kind, namespace and name bind the signature
 * to this one object: copied onto another run, it does not verify. The API group and version are left out, since a run
 * created as v1beta1 is read back as v1.
 */
export function canonicalRunFacts(run: Pick<KubernetesObject, 'kind' | 'metadata'>): string {
  const labels = run.metadata.labels ?? {};
  const annotations = run.metadata.annotations ?? {};
  const value = (map: Record<string, string>, key: string): string | null => (Object.hasOwn(map, key) && typeof map[key] === 'string' ? (map[key] as string) : null);
  return JSON.stringify([
    `tekton-bridge/run/${VERSION}`,
    run.kind,
    run.metadata.namespace,
    run.metadata.name,
    ...SIGNED_LABELS.map((key) => value(labels, key)),
    ...SIGNED_ANNOTATIONS.map((key) => value(annotations, key)),
  ]);
}

export function runSignature(run: Pick<KubernetesObject, 'kind' | 'metadata'>, key: Buffer): string {
  return PREFIX + createHmac('sha256', key).update(canonicalRunFacts(run)).digest('hex');
}

/** The run with its signature annotation; the object passed in is left as it was. */
export function signRun<T extends KubernetesObject>(run: T, key: Buffer): T {
  return { ...run, metadata: { ...run.metadata, annotations: { ...run.metadata.annotations, [RUN_SIGNATURE_ANNOTATION]: runSignature(run, key) } } };
}

export type RunVerdict = { ok: true } | { ok: false; reason: string; /** Well-formed but made with none of these keys: another key may still verify it. */ mismatch: boolean };

/** Whether the run carries a signature one of `keys` made over its facts as they are now. A wrong one is an answer, not an exception. */
export function verifyRunSignature(run: Pick<KubernetesObject, 'kind' | 'metadata'>, keys: readonly Buffer[]): RunVerdict {
  const given = run.metadata.annotations?.[RUN_SIGNATURE_ANNOTATION];
  if (given === undefined) return { ok: false, mismatch: false, reason: `the run has no ${RUN_SIGNATURE_ANNOTATION} annotation: the bridge did not create it` };
  if (typeof given !== 'string' || !HEX_SIGNATURE.test(given)) {
    return { ok: false, mismatch: false, reason: `the run's ${RUN_SIGNATURE_ANNOTATION} annotation is not a signature the bridge makes` };
  }
  const wanted = Buffer.from(given.slice(PREFIX.length), 'hex');
  const facts = canonicalRunFacts(run);
  for (const key of keys) {
    if (timingSafeEqual(createHmac('sha256', key).update(facts).digest(), wanted)) return { ok: true };
  }
  return {
    ok: false,
    mismatch: true,
    reason: `the run's ${RUN_SIGNATURE_ANNOTATION} does not verify: it was not made by this bridge, or its name, repository, commit, context or group were changed since (or it was signed with a webhook secret no longer accepted)`,
  };
}

/** A trigger's decision with each rendered run signed; decisions that render nothing pass through. */
export function signRenderedRuns<T extends { outcome: string; resources?: KubernetesObject[] }>(decision: T, key: Buffer): T {
  if (decision.outcome !== 'render' || !decision.resources) return decision;
  return { ...decision, resources: decision.resources.map((resource) => signRun(resource, key)) };
}

/** The signatures of rendered runs, in order, for a queued creation to carry (the retry function has no key). */
export function signaturesOf(resources: readonly KubernetesObject[]): string[] | undefined {
  const signatures = resources.map((resource) => resource.metadata.annotations?.[RUN_SIGNATURE_ANNOTATION]);
  return signatures.every((s): s is string => typeof s === 'string') ? signatures : undefined;
}
