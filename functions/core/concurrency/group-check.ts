import { GROUP_ANNOTATIONS, readGroupSettings } from './group-annotations.ts';

/**
 * `check` on a resource template's concurrency annotations: a bad value is an error naming the annotation; a value
 * made from a param is judged when it is rendered (a bad one then fails the trigger with the reason).
 */
export function checkGroupAnnotations(
  kind: string,
  annotations: unknown,
  spec: Record<string, unknown>,
  report: { error: (field: string, message: string) => void; warn: (field: string, message: string) => void },
): void {
  if (annotations === null || typeof annotations !== 'object' || Array.isArray(annotations)) return;
  const values = annotations as Record<string, unknown>;
  const { problems } = readGroupSettings(kind, values, { skipTemplated: true });
  for (const problem of problems) report.error(`metadata.annotations.${problem.annotation}`, problem.message);
  if (values[GROUP_ANNOTATIONS.group] === undefined) return;
  if (spec.status !== undefined) {
    report.error('spec.status', 'is set on a run of a concurrency group, whose runs are started by the group (created PipelineRunPending or TaskRunPending): remove it');
  }
  if (kind === 'TaskRun') {
    report.warn(`metadata.annotations.${GROUP_ANNOTATIONS.group}`, 'a TaskRun of a concurrency group is created with spec.status TaskRunPending, which Tekton Pipelines accepts from v1.12.0 on');
  }
  if (values[GROUP_ANNOTATIONS.cancelStatus] !== undefined && values[GROUP_ANNOTATIONS.cancelInProgress] !== 'true') {
    report.warn(`metadata.annotations.${GROUP_ANNOTATIONS.cancelStatus}`, `has no effect without ${GROUP_ANNOTATIONS.cancelInProgress}: "true"`);
  }
}
