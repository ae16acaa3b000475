import type { KubernetesObject } from '../delivery-types.ts';
import { isRunState, type RunState } from './run-state.ts';

/**
 * What a run carries for reporting. The bridge renders the first three with the run; the reporter writes the rest.
 * Repository and commit are the `tekton-bridge/repository` and `tekton-bridge/commit` annotations every run has.
 */
export const REPORT_ANNOTATIONS = {
  context: 'tekton-bridge/context',
  installationId: 'tekton-bridge/installation-id',
  /** The last state GitHub was told. */
  reported: 'tekton-bridge/reported',
  /** `<state> <ISO time>`: a reporter is telling GitHub this state now; others wait until it is done or stale. */
  reporting: 'tekton-bridge/reporting',
  /** App mode: the check run of this run. */
  checkRunId: 'tekton-bridge/check-run-id',
  /** Why GitHub refused the last report for good (it is not tried again for that state). */
  reportRefused: 'tekton-bridge/report-refused',
} as const;

/** `open` until a final state is reported, then `done`: the schedule lists only the open ones. */
export const REPORT_LABEL = 'tekton-bridge/report';
export const REPORT_OPEN = 'open';
export const REPORT_DONE = 'done';
export const OPEN_RUNS_SELECTOR = `${REPORT_LABEL}=${REPORT_OPEN}`;

export interface ReportClaim {
  state: RunState;
  /** Epoch milliseconds. */
  at: number;
  /** The annotation's text, to tell one's own claim from another's. */
  text: string;
}

export function claimText(state: RunState, atMs: number): string {
  return `${state} ${new Date(atMs).toISOString()}`;
}

export function readClaim(run: KubernetesObject): ReportClaim | undefined {
  const text = run.metadata.annotations?.[REPORT_ANNOTATIONS.reporting];
  if (text === undefined) return undefined;
  const [state, time] = text.split(' ');
  const at = Date.parse(time ?? '');
  if (!isRunState(state) || Number.isNaN(at)) return undefined;
  return { state, at, text };
}

export function readReported(run: KubernetesObject): RunState | undefined {
  const value = run.metadata.annotations?.[REPORT_ANNOTATIONS.reported];
  return isRunState(value) ? value : undefined;
}

/** A JSON merge patch of the run's metadata, based on the resourceVersion read: a conflict means it moved on. */
export interface MetadataPatch {
  metadata: {
    resourceVersion: string;
    annotations?: Record<string, string | null>;
    labels?: Record<string, string>;
  };
}

export function claimPatch(run: KubernetesObject, claim: string): MetadataPatch {
  return { metadata: { resourceVersion: resourceVersionOf(run), annotations: { [REPORT_ANNOTATIONS.reporting]: claim } } };
}

export function releasePatch(run: KubernetesObject): MetadataPatch {
  return { metadata: { resourceVersion: resourceVersionOf(run), annotations: { [REPORT_ANNOTATIONS.reporting]: null } } };
}

/** The report is done: GitHub was told `state` (or refused it for good, `refused` says why). */
export function recordPatch(run: KubernetesObject, record: { state: RunState; final: boolean; checkRunId?: string; refused?: string }): MetadataPatch {
  return {
    metadata: {
      resourceVersion: resourceVersionOf(run),
      annotations: {
        [REPORT_ANNOTATIONS.reported]: record.state,
        [REPORT_ANNOTATIONS.reporting]: null,
        [REPORT_ANNOTATIONS.reportRefused]: record.refused ?? null,
        ...(record.checkRunId !== undefined && { [REPORT_ANNOTATIONS.checkRunId]: record.checkRunId }),
      },
      ...(record.final && { labels: { [REPORT_LABEL]: REPORT_DONE } }),
    },
  };
}

function resourceVersionOf(run: KubernetesObject): string {
  const version = run.metadata.resourceVersion;
  if (typeof version !== 'string' || version === '') throw new TypeError('[tekton-bridge] a run read from the API has no metadata.resourceVersion');
  return version;
}
