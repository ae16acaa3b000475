import { groupStatusNote } from '../concurrency/group-report.ts';
import { ANNOTATIONS } from '../render-resources.ts';
import type { KubernetesObject, ResourceRef } from '../delivery-types.ts';
import { clipDescription, detailsUrlOf, reportTargetOf, type GithubReport } from './github-report.ts';
import { readClaim, readReported, REPORT_ANNOTATIONS, REPORT_DONE, REPORT_LABEL } from './run-annotations.ts';
import { isFinal, readRunStanding, stateRank, type RunStanding } from './run-state.ts';

/** What to do about one run, read from the Kubernetes API just now. */
export type RunReportDecision =
  | { action: 'ignore'; reason: string }
  | { action: 'unchanged'; reason: string }
  | { action: 'wait'; reason: string }
  | { action: 'report'; report: GithubReport; reason: string };

export interface DecisionContext {
  /** Epoch milliseconds: a claim older than `leaseMs` is taken to have died with its reporter. */
  nowMs: number;
  leaseMs: number;
  detailsUrlTemplate: string | undefined;
}

/**
 * Whether GitHub should hear about this run now: only runs the bridge rendered for a commit (the report label and
 * annotations), only a state further on than the last one reported, and not while another reporter is telling it.
 */
export function decideRunReport(run: KubernetesObject, context: DecisionContext): RunReportDecision {
  const { labels = {}, annotations = {} } = run.metadata;
  const label = labels[REPORT_LABEL];
  if (label === undefined) return { action: 'ignore', reason: `the run has no ${REPORT_LABEL} label: the bridge did not create it for a commit` };
  const target = reportTargetOf({
    repository: annotations[ANNOTATIONS.repository],
    commit: annotations[ANNOTATIONS.commit],
    context: annotations[REPORT_ANNOTATIONS.context],
    installationId: annotations[REPORT_ANNOTATIONS.installationId],
  });
  if (typeof target === 'string') return { action: 'ignore', reason: `the run's annotations name no commit to report on: ${target}` };

  const standing = readRunStanding(run);
  const reported = readReported(run);
  if (label === REPORT_DONE || (reported !== undefined && isFinal(reported))) {
    return { action: 'unchanged', reason: `${reported ?? 'a final state'} was reported already` };
  }
  if (reported !== undefined && stateRank(standing.state) <= stateRank(reported)) {
    return { action: 'unchanged', reason: `the run is ${standing.state}; ${reported} was reported already` };
  }
  const claim = readClaim(run);
  if (claim && context.nowMs - claim.at < context.leaseMs) {
    return { action: 'wait', reason: `another reporter is reporting ${claim.state} since ${new Date(claim.at).toISOString()}` };
  }
  const ref: ResourceRef = { apiVersion: run.apiVersion, kind: run.kind, namespace: run.metadata.namespace, name: run.metadata.name };
  return {
    action: 'report',
    reason: reported === undefined ? `the run is ${standing.state}; nothing was reported yet` : `the run is ${standing.state}; ${reported} was reported before`,
    report: {
      target,
      state: standing.state,
      description: clipDescription(groupStatusNote(run, standing.state) ?? describeStanding(standing, run.kind)),
      detailsUrl: detailsUrlOf(context.detailsUrlTemplate, ref),
      run: ref,
      checkRunId: annotations[REPORT_ANNOTATIONS.checkRunId],
    },
  };
}

/** Tekton's condition message when it has one; otherwise a sentence of our own. */
function describeStanding(standing: RunStanding, kind: string): string {
  if (standing.message) return standing.message;
  switch (standing.state) {
    case 'pending':
      return `${kind} created; waiting for Tekton to start it`;
    case 'running':
      return `${kind} is running`;
    case 'success':
      return `${kind} succeeded`;
    default:
      return `${kind} ended: ${standing.reason ?? standing.state}`;
  }
}
