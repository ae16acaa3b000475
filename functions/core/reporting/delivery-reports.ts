import type { DeliveryReport } from '../handle-delivery.ts';
import type { KubernetesObject, ResourceRef } from '../delivery-types.ts';
import { ANNOTATIONS } from '../render-resources.ts';
import { REPORT_ANNOTATIONS } from './run-annotations.ts';
import { clipDescription, contextName, detailsUrlOf, reportTargetOf, type GithubReport } from './github-report.ts';

/** What the webhook tells GitHub about one delivery: runs it created, through their annotations; the rest at once. */
export type DeliveryReportItem =
  | { kind: 'run'; trigger: string; run: ResourceRef }
  | { kind: 'direct'; trigger: string; report: GithubReport };

export interface DeliveryReportOptions {
  /** The EventListener opted in (`tekton-bridge/report-skipped: "true"`): a skipped trigger is reported as success. */
  reportSkipped: boolean;
  detailsUrlTemplate: string | undefined;
}

/**
 * The reports a delivery calls for: `created` → each run, reported from what the Kubernetes API says of it;
 * `queued` → pending on each run's context (it has no run yet); `failed` → error with the reason; `skipped` →
 * success with the reason, when the EventListener opts in. A duplicate was reported by its first delivery.
 */
export function planDeliveryReports(report: DeliveryReport, options: DeliveryReportOptions): DeliveryReportItem[] {
  const { eventListener, summary } = report;
  if (eventListener === undefined) return [];
  const items: DeliveryReportItem[] = [];
  for (const result of report.answer.body.results ?? []) {
    const direct = (index: number, state: GithubReport['state'], description: string, run: ResourceRef | undefined): void => {
      const target = reportTargetOf({ ...summary, context: contextName(eventListener, result.trigger, index) });
      if (typeof target === 'string') return;
      const detailsUrl = detailsUrlOf(options.detailsUrlTemplate, run);
      items.push({ kind: 'direct', trigger: result.trigger, report: { target, state, description: clipDescription(description), detailsUrl, run, checkRunId: undefined } });
    };
    switch (result.outcome) {
      case 'created':
        for (const run of result.resources ?? []) items.push({ kind: 'run', trigger: result.trigger, run });
        break;
      case 'queued':
        (result.resources ?? []).forEach((run, index) => direct(index, 'pending', 'Queued: the cluster could not take the run yet; the bridge will retry', run));
        break;
      case 'failed':
        direct(0, 'error', `Not created: ${result.reason ?? 'the run could not be created'}`, undefined);
        break;
      case 'skipped':
        if (options.reportSkipped) direct(0, 'success', `Skipped: ${result.reason ?? 'the trigger did not match'}`, undefined);
        break;
      case 'duplicate':
        break;
    }
  }
  return items;
}

/**
 * Runs that will never be created (the retry function parked them in the dead-letter queue): `error` with the reason,
 * on the contexts their rendered annotations name, so a commit does not stay pending for ever.
 */
export function uncreatedRunReports(objects: readonly KubernetesObject[], reason: string, detailsUrlTemplate: string | undefined): GithubReport[] {
  return objects.flatMap((object) => {
    const annotations = object.metadata.annotations ?? {};
    const target = reportTargetOf({
      repository: annotations[ANNOTATIONS.repository],
      commit: annotations[ANNOTATIONS.commit],
      context: annotations[REPORT_ANNOTATIONS.context],
      installationId: annotations[REPORT_ANNOTATIONS.installationId],
    });
    if (typeof target === 'string') return [];
    const run = { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
    return [{ target, state: 'error' as const, description: clipDescription(`Not created: ${reason}`), detailsUrl: detailsUrlOf(detailsUrlTemplate, run), run, checkRunId: undefined }];
  });
}
