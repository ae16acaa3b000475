/**
 * Where a run stands, in the words the bridge reports to GitHub. `error` is a run that could never be created; the
 * others come from the run's `Succeeded` condition as Tekton Pipelines sets it.
 */
export type RunState = 'pending' | 'running' | 'success' | 'failure' | 'cancelled' | 'timed-out' | 'error';

export const RUN_STATES: readonly RunState[] = ['pending', 'running', 'success', 'failure', 'cancelled', 'timed-out', 'error'];

export interface RunStanding {
  state: RunState;
  /** Tekton's condition reason, when the run has a condition. */
  reason: string | undefined;
  /** Tekton's condition message, when the run has one: what a person reads on the commit. */
  message: string | undefined;
}

// Reasons from tektoncd/pipeline pkg/apis/pipeline/v1 (pipelinerun_types.go, taskrun_types.go), and the older
// PipelineRunCancelled of v1beta1.
const CANCELLED = new Set(['Cancelled', 'PipelineRunCancelled', 'TaskRunCancelled', 'CancelledRunFinally', 'StoppedRunFinally']);
const TIMED_OUT = new Set(['PipelineRunTimeout', 'TaskRunTimeout']);
/** Unknown with one of these: the controller has not started the run (yet). */
const NOT_STARTED = new Set(['', 'PipelineRunPending', 'Pending']);

interface Condition {
  type?: unknown;
  status?: unknown;
  reason?: unknown;
  message?: unknown;
}

/** The run's standing from its `status.conditions[type=Succeeded]`; no condition yet is `pending`. */
export function readRunStanding(run: { [key: string]: unknown }): RunStanding {
  const conditions = (run.status as { conditions?: unknown } | undefined)?.conditions;
  const succeeded = Array.isArray(conditions)
    ? (conditions as Condition[]).find((c) => c !== null && typeof c === 'object' && c.type === 'Succeeded')
    : undefined;
  if (!succeeded) return { state: 'pending', reason: undefined, message: undefined };
  const reason = typeof succeeded.reason === 'string' ? succeeded.reason : '';
  const message = typeof succeeded.message === 'string' && succeeded.message.trim() !== '' ? succeeded.message.trim() : undefined;
  const standing = (state: RunState): RunStanding => ({ state, reason: reason || undefined, message });
  switch (succeeded.status) {
    case 'True':
      return standing('success');
    case 'False':
      if (CANCELLED.has(reason)) return standing('cancelled');
      if (TIMED_OUT.has(reason)) return standing('timed-out');
      return standing('failure');
    default:
      return standing(NOT_STARTED.has(reason) ? 'pending' : 'running');
  }
}

export function isFinal(state: RunState): boolean {
  return state !== 'pending' && state !== 'running';
}

/** States only move forward: pending, then running, then one final state. */
export function stateRank(state: RunState): number {
  if (state === 'pending') return 0;
  if (state === 'running') return 1;
  return 2;
}

export function isRunState(value: unknown): value is RunState {
  return typeof value === 'string' && (RUN_STATES as readonly string[]).includes(value);
}
