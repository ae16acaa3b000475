import type { KubernetesObject } from '../delivery-types.ts';
import type { RunState } from '../reporting/run-state.ts';
import { GROUP_STATE_ANNOTATIONS, isRunKind, pendingStatusOf } from './group-annotations.ts';

/**
 * What GitHub is told of a run its concurrency group cancelled or keeps waiting, in place of Tekton's message
 * ("PipelineRun x was cancelled" says nothing of why): the reason the group recorded on the run.
 */
export function groupStatusNote(run: KubernetesObject, state: RunState): string | undefined {
  const annotations = run.metadata.annotations ?? {};
  const cancelled = annotations[GROUP_STATE_ANNOTATIONS.cancelled];
  if (cancelled !== undefined) {
    if (state === 'cancelled') return `Cancelled: ${cancelled}`;
    if (state === 'pending' || state === 'running') return `Cancelling: ${cancelled}`;
    return undefined;
  }
  const queued = annotations[GROUP_STATE_ANNOTATIONS.queued];
  const specStatus = ((run.spec ?? {}) as { status?: unknown }).status;
  if (queued !== undefined && state === 'pending' && isRunKind(run.kind) && specStatus === pendingStatusOf(run.kind)) return `Queued: ${queued}`;
  return undefined;
}
