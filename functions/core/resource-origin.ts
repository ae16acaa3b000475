import type { KubernetesObject } from './delivery-types.ts';
import { ANNOTATIONS, LABELS } from './render-resources.ts';

/**
 * Whether an object found under a name the bridge rendered came from the same signed body and trigger — the bridge's
 * own earlier creation, so AlreadyExists is a `duplicate` — or is something else squatting on the name, which must not
 * swallow the delivery.
 */
export function sameOrigin(existing: KubernetesObject, wanted: KubernetesObject): boolean {
  const label = (object: KubernetesObject, key: string): unknown => object.metadata?.labels?.[key];
  const digest = (object: KubernetesObject): unknown => object.metadata?.annotations?.[ANNOTATIONS.bodyDigest];
  return (
    typeof digest(wanted) === 'string' &&
    digest(existing) === digest(wanted) &&
    label(existing, LABELS.eventListener) === label(wanted, LABELS.eventListener) &&
    label(existing, LABELS.trigger) === label(wanted, LABELS.trigger)
  );
}

export const NAME_TAKEN_REASON = 'the name is taken by an object the bridge did not create';
