import type { KubernetesObject, TriggerResult } from '../delivery-types.ts';
import { groupOf, sameGroup, type GroupRef } from './group-annotations.ts';

/**
 * The concurrency groups a delivery's runs joined: those of triggers whose runs now exist (created, or already there
 * from an earlier delivery of the same body, whose settlement may not have finished). Each is settled after the delivery.
 */
export function deliveryGroups(decisions: readonly { trigger: string; outcome: string; resources?: KubernetesObject[] }[], results: readonly TriggerResult[]): GroupRef[] {
  const groups: GroupRef[] = [];
  for (const decision of decisions) {
    const result = results.find((r) => r.trigger === decision.trigger);
    if (decision.outcome !== 'render' || (result?.outcome !== 'created' && result?.outcome !== 'duplicate')) continue;
    for (const resource of decision.resources ?? []) {
      const group = groupOf(resource);
      if (group && !groups.some((known) => sameGroup(known, group))) groups.push(group);
    }
  }
  return groups;
}
