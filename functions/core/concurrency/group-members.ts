import type { KubernetesObject, ResourceRef } from '../delivery-types.ts';
import { ANNOTATIONS } from '../render-resources.ts';
import { REPORT_LABEL, REPORT_OPEN } from '../reporting/run-annotations.ts';
import { isFinal, readRunStanding } from '../reporting/run-state.ts';
import { GROUP_STATE_ANNOTATIONS, isCancelStatus, isRunKind, pendingStatusOf, readGroupSettings, type GroupSettings } from './group-annotations.ts';
import { readPushOrder, type PushOrder } from './push-order.ts';

/**
 * Where a run of a group stands, for the group's decisions:
 * - `pending`: waiting to be started (`spec.status` PipelineRunPending / TaskRunPending);
 * - `running`: started (no `spec.status`), and not finished;
 * - `stopping`: started, then asked to cancel or stop, and not finished yet (it still holds its nodes);
 * - `dropped`: cancelled before it ever started: Tekton only has to mark it;
 * - `finished`: Tekton's `Succeeded` condition is True or False.
 */
export type MemberPhase = 'pending' | 'running' | 'stopping' | 'dropped' | 'finished';

export interface StartClaim {
  token: string;
  atMs: number;
}

export interface GroupMember {
  ref: ResourceRef;
  name: string;
  kind: 'PipelineRun' | 'TaskRun';
  resourceVersion: string;
  order: PushOrder;
  settings: GroupSettings;
  phase: MemberPhase;
  /** A bridge is starting it (GROUP_STATE_ANNOTATIONS.starting). */
  claim: StartClaim | undefined;
  /** It was told why it waits already. */
  queued: boolean;
  /** The reporter has yet to tell GitHub its final state (the report label is still open). */
  awaitingReport: boolean;
  commit: string | undefined;
}

/** A run read from the API as a member of its group, or why it cannot be one. Its signature was checked before. */
export function readMember(run: KubernetesObject): GroupMember | string {
  if (!isRunKind(run.kind)) return `a ${run.kind} is no member of a concurrency group`;
  const annotations = run.metadata.annotations ?? {};
  const { settings, problems } = readGroupSettings(run.kind, annotations);
  if (!settings) return problems.length > 0 ? `its group annotations do not read: ${problems[0]?.message}` : 'it names no concurrency group';
  const resourceVersion = run.metadata.resourceVersion;
  if (typeof resourceVersion !== 'string' || resourceVersion === '') return 'it has no metadata.resourceVersion';
  const specStatus = ((run.spec ?? {}) as { status?: unknown }).status;
  const started = annotations[GROUP_STATE_ANNOTATIONS.started] !== undefined;
  let phase: MemberPhase;
  if (isFinal(readRunStanding(run).state)) phase = 'finished';
  else if (isCancelStatus(run.kind, specStatus)) phase = started ? 'stopping' : 'dropped';
  else if (specStatus === pendingStatusOf(run.kind)) phase = 'pending';
  // No spec.status, or one the bridge does not know: it may be running, so it counts as running.
  else phase = 'running';
  return {
    ref: { apiVersion: run.apiVersion, kind: run.kind, namespace: run.metadata.namespace, name: run.metadata.name },
    name: run.metadata.name,
    kind: run.kind,
    resourceVersion,
    order: readPushOrder(annotations[GROUP_STATE_ANNOTATIONS.pushOrder]),
    settings,
    phase,
    claim: readStartClaim(annotations[GROUP_STATE_ANNOTATIONS.starting]),
    queued: annotations[GROUP_STATE_ANNOTATIONS.queued] !== undefined,
    awaitingReport: run.metadata.labels?.[REPORT_LABEL] === REPORT_OPEN,
    commit: annotations[ANNOTATIONS.commit],
  };
}

export function startClaimText(atMs: number, token: string): string {
  return `${new Date(atMs).toISOString()} ${token}`;
}

function readStartClaim(text: string | undefined): StartClaim | undefined {
  if (text === undefined) return undefined;
  const [time = '', token = ''] = text.split(' ');
  const atMs = Date.parse(time);
  // Unreadable, it is taken as a claim made long ago: stale, and cleared like one.
  return { token, atMs: Number.isNaN(atMs) ? 0 : atMs };
}
