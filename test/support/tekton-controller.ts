import type { KubeApiServer, StoredObject } from './kube-api-server.ts';

/**
 * What Tekton Pipelines' controller does with a run's spec.status, one reconcile of every live run on the Kubernetes
 * API test server per call (pipelinerun.go, taskrun.go): a pending run gets `Unknown` PipelineRunPending / TaskRunPending
 * and no startTime; a started one a startTime and `Unknown` Running; a cancelled one `False` Cancelled
 * (TaskRunCancelled) with Tekton's message. `finish` ends a run as its tasks would. Tests call these where the real
 * controller would have acted, so nothing depends on timing.
 */
export function tektonController(api: KubeApiServer) {
  const reconcile = (run: StoredObject): void => {
    const spec = (run.spec ?? {}) as { status?: string };
    const status = (run.status ?? {}) as { startTime?: string; conditions?: Array<{ type: string; status: string; reason: string }> };
    const condition = status.conditions?.find((c) => c.type === 'Succeeded');
    if (condition?.status === 'True' || condition?.status === 'False') return;
    const task = run.kind === 'TaskRun';
    const name = run.metadata.name;
    const set = (next: Record<string, unknown>) => api.setStatus(run.metadata.namespace, name, next);
    const now = new Date().toISOString();
    if (spec.status === (task ? 'TaskRunPending' : 'PipelineRunPending')) {
      if (condition?.reason !== (task ? 'TaskRunPending' : 'PipelineRunPending')) {
        set({ conditions: [{ type: 'Succeeded', status: 'Unknown', reason: task ? 'TaskRunPending' : 'PipelineRunPending', message: `${run.kind} "${name}" is pending` }] });
      }
      return;
    }
    if (spec.status === 'Cancelled' || spec.status === 'CancelledRunFinally' || spec.status === 'StoppedRunFinally' || spec.status === 'TaskRunCancelled') {
      set({
        startTime: status.startTime ?? now,
        completionTime: now,
        conditions: [{ type: 'Succeeded', status: 'False', reason: task ? 'TaskRunCancelled' : 'Cancelled', message: `${run.kind} "${name}" was cancelled` }],
      });
      return;
    }
    if (!status.startTime) set({ startTime: now, conditions: [{ type: 'Succeeded', status: 'Unknown', reason: 'Running', message: 'Tasks Completed: 0 (Failed: 0, Cancelled 0), Skipped: 0' }] });
  };
  return {
    /** One reconcile of every live run. */
    reconcileAll: (): void => {
      for (const run of api.live()) reconcile(api.find(run.metadata.namespace, run.metadata.name) as StoredObject);
    },
    /** The run's tasks are done: Succeeded=True (or False). */
    finish: (namespace: string, name: string, succeeded = true): void => {
      const run = api.find(namespace, name);
      if (!run) throw new Error(`finish: no run ${namespace}/${name}`);
      const status = (run.status ?? {}) as { startTime?: string };
      api.setStatus(namespace, name, {
        startTime: status.startTime ?? new Date().toISOString(),
        completionTime: new Date().toISOString(),
        conditions: [
          succeeded
            ? { type: 'Succeeded', status: 'True', reason: 'Succeeded', message: 'Tasks Completed: 3 (Failed: 0, Cancelled 0), Skipped: 0' }
            : { type: 'Succeeded', status: 'False', reason: 'Failed', message: 'Tasks Completed: 2 (Failed: 1, Cancelled 0), Skipped: 1' },
        ],
      });
    },
  };
}

/** Where each run of a group stands on the test server, by name: pending, running, cancelled, succeeded, failed. */
export function phasesOf(api: KubeApiServer, predicate: (run: StoredObject) => boolean = () => true): Record<string, string> {
  const phases: Record<string, string> = {};
  for (const run of api.live().filter(predicate)) {
    const spec = (run.spec ?? {}) as { status?: string };
    const condition = ((run.status ?? {}) as { conditions?: Array<{ type: string; status: string; reason: string }> }).conditions?.find((c) => c.type === 'Succeeded');
    if (condition?.status === 'True') phases[run.metadata.name] = 'succeeded';
    else if (condition?.status === 'False') phases[run.metadata.name] = condition.reason === 'Cancelled' || condition.reason === 'TaskRunCancelled' ? 'cancelled' : 'failed';
    else if (spec.status?.endsWith('Pending')) phases[run.metadata.name] = 'pending';
    else if (spec.status) phases[run.metadata.name] = 'cancelling';
    else phases[run.metadata.name] = 'running';
  }
  return phases;
}
