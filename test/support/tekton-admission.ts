/**
 * What Tekton Pipelines' validating webhook (validation.webhook.pipeline.tekton.dev) refuses of a run's spec.status,
 * as pipelinerun_validation.go and taskrun_validation.go do: an unknown value; Pending once the run has started; and,
 * once it has started, any change to the spec but its status; once it is done, any change to the spec at all. The
 * Kubernetes API test server answers these 400, as the webhook's denial reaches a client.
 */
const VALUES: Record<string, readonly string[]> = {
  PipelineRun: ['', 'PipelineRunPending', 'Cancelled', 'CancelledRunFinally', 'StoppedRunFinally', 'PipelineRunCancelled'],
  TaskRun: ['', 'TaskRunPending', 'TaskRunCancelled'],
};
const PENDING: Record<string, string> = { PipelineRun: 'PipelineRunPending', TaskRun: 'TaskRunPending' };

interface Run {
  kind?: unknown;
  spec?: unknown;
  status?: unknown;
}

export function tektonAdmissionRefusal(next: Run, previous?: Run): string | undefined {
  const kind = String(next.kind);
  const values = VALUES[kind];
  if (!values) return undefined;
  const spec = (next.spec ?? {}) as { status?: unknown };
  const status = spec.status ?? '';
  if (typeof status !== 'string' || !values.includes(status)) {
    return `invalid value: ${String(status)} should be ${values.filter(Boolean).join(', ')}: spec.status`;
  }
  if (!previous) return undefined;
  const before = (previous.spec ?? {}) as { status?: unknown };
  const withoutStatus = (value: { status?: unknown }) => JSON.stringify({ ...value, status: undefined });
  if (isDone(previous) && JSON.stringify(previous.spec ?? {}) !== JSON.stringify(next.spec ?? {})) {
    return `invalid value: Once the ${kind} is complete, no updates are allowed`;
  }
  if (hasStarted(previous)) {
    if (withoutStatus(before) !== withoutStatus(spec)) return `invalid value: Once the ${kind} has started, only status updates are allowed`;
    if (status === PENDING[kind] && before.status !== PENDING[kind]) return `invalid value: ${kind} cannot be Pending after it is started: spec.status`;
  }
  return undefined;
}

function conditionOf(run: Run): { status?: unknown; reason?: unknown } | undefined {
  const conditions = (run.status as { conditions?: unknown } | undefined)?.conditions;
  return Array.isArray(conditions) ? conditions.find((c) => c?.type === 'Succeeded') : undefined;
}

function isDone(run: Run): boolean {
  const condition = conditionOf(run);
  return condition?.status === 'True' || condition?.status === 'False';
}

function hasStarted(run: Run): boolean {
  return typeof (run.status as { startTime?: unknown } | undefined)?.startTime === 'string';
}
