import type { DeliveryReport } from '../core/handle-delivery.ts';
import { createGroupSettlement, type GroupEntry } from './group-settlement.ts';
import type { KubernetesClient } from './kubernetes-api.ts';
import type { RunVerifier } from './run-verifier.ts';

/** The webhook's share of GitHub's 10 s for settling the groups its runs joined; the schedule finishes what is left. */
export const DELIVERY_SETTLE_BUDGET_MS = 3000;

/**
 * After a delivery created runs in concurrency groups: cancel what they supersede, start what may start, tell the rest
 * why they wait, prune. Never changes the delivery's answer; a failure is logged and the reporter settles the group on
 * the next Tekton event or schedule.
 */
export async function settleDeliveryGroups(
  report: DeliveryReport,
  options: { kube: Pick<KubernetesClient, 'get' | 'list' | 'patch' | 'delete'>; verifyRun: RunVerifier; awaitReports: boolean; budgetMs?: number },
): Promise<GroupEntry[]> {
  const groups = report.groups ?? [];
  if (groups.length === 0) return [];
  const settlement = createGroupSettlement({ kube: options.kube, verifyRun: options.verifyRun, awaitReports: options.awaitReports });
  return settlement.settleGroups(groups, Date.now() + (options.budgetMs ?? DELIVERY_SETTLE_BUDGET_MS));
}
