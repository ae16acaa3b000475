import { createHash } from 'node:crypto';
import type { KubernetesObject } from '../delivery-types.ts';

/** What a user writes on a run in the TriggerTemplate (template params are substituted in them as anywhere). */
export const GROUP_ANNOTATIONS = {
  group: 'tekton-bridge/concurrency-group',
  /** `"true"`: a newer push cancels the older runs of the group, running or waiting. */
  cancelInProgress: 'tekton-bridge/cancel-in-progress',
  /** At most this many of the group run at once; the rest wait (`spec.status: PipelineRunPending`), oldest push first. */
  maxRunning: 'tekton-bridge/max-running',
  /** Finished runs of the group beyond this many newest are deleted. */
  maxKeepRuns: 'tekton-bridge/max-keep-runs',
  /** The `spec.status` a running run is cancelled with: `CancelledRunFinally` lets its `finally` tasks run. */
  cancelStatus: 'tekton-bridge/cancel-status',
} as const;

/** What the bridge writes on a group's runs. The first is signed with the run; the others are its working state. */
export const GROUP_STATE_ANNOTATIONS = {
  /** The push's own time (push-order.ts): "newest push wins" compares these. */
  pushOrder: 'tekton-bridge/push-order',
  /** `<ISO time> <token>`: a bridge is about to start this waiting run; others count it as started until it is done. */
  starting: 'tekton-bridge/starting',
  /** When the bridge started it: only runs that were started count against max-running while they stop. */
  started: 'tekton-bridge/started',
  /** Why it waits (written once, when it first has to). */
  queued: 'tekton-bridge/queued',
  /** Why the bridge cancelled it. */
  cancelled: 'tekton-bridge/cancelled',
} as const;

/** The group, as a label the API can select on (a digest: a group name may hold anything). */
export const GROUP_LABEL = 'tekton-bridge/concurrency-group';
/** `active` while the group's settlement still needs to see the run; `retired` once it is finished and superseded. */
export const MEMBER_LABEL = 'tekton-bridge/concurrency';
export const MEMBER_ACTIVE = 'active';
export const MEMBER_RETIRED = 'retired';
export const ACTIVE_MEMBERS_SELECTOR = `${MEMBER_LABEL}=${MEMBER_ACTIVE}`;

export interface GroupSettings {
  group: string;
  cancelInProgress: boolean;
  /** Undefined: no limit. */
  maxRunning: number | undefined;
  /** Undefined: nothing is deleted. */
  maxKeepRuns: number | undefined;
  /** The spec.status a started run is cancelled with. */
  cancelStatus: string;
}

/** Tekton Pipelines' spec.status values by kind (pipelinerun_types.go, taskrun_types.go). */
const SPEC_STATUS = {
  PipelineRun: { pending: 'PipelineRunPending', cancelled: 'Cancelled', cancels: ['Cancelled', 'CancelledRunFinally', 'StoppedRunFinally'], legacy: ['PipelineRunCancelled'] },
  TaskRun: { pending: 'TaskRunPending', cancelled: 'TaskRunCancelled', cancels: ['TaskRunCancelled'], legacy: [] as string[] },
} as const;

type RunKind = keyof typeof SPEC_STATUS;

export function isRunKind(kind: unknown): kind is RunKind {
  return kind === 'PipelineRun' || kind === 'TaskRun';
}

/** `spec.status` that holds a run before it starts. */
export function pendingStatusOf(kind: RunKind): string {
  return SPEC_STATUS[kind].pending;
}

/** `spec.status` for a run that never started: plain cancel, so no `finally` task runs a pod for nothing. */
export function unstartedCancelStatusOf(kind: RunKind): string {
  return SPEC_STATUS[kind].cancelled;
}

/** Whether a spec.status asks Tekton to cancel or stop the run. */
export function isCancelStatus(kind: RunKind, status: unknown): boolean {
  const values: readonly string[] = [...SPEC_STATUS[kind].cancels, ...SPEC_STATUS[kind].legacy];
  return typeof status === 'string' && values.includes(status);
}

const MAX_GROUP_CHARS = 256;
const COUNT = /^[1-9][0-9]{0,3}$/;
const TEMPLATED = '$(';

export interface AnnotationProblem {
  annotation: string;
  message: string;
}

/**
 * The group settings a run's annotations ask for: none when it names no group; problems naming each bad annotation.
 * `skipTemplated` (for `check`): a value still holding `$(` is judged once rendered.
 */
export function readGroupSettings(
  kind: string,
  annotations: Readonly<Record<string, unknown>> | undefined,
  options: { skipTemplated?: boolean } = {},
): { settings: GroupSettings | undefined; problems: AnnotationProblem[] } {
  const problems: AnnotationProblem[] = [];
  const text = (name: string): string | undefined => {
    const value = annotations?.[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      problems.push({ annotation: name, message: `expected a string (quote it in YAML), got ${typeof value} ${JSON.stringify(value)}` });
      return undefined;
    }
    return options.skipTemplated && value.includes(TEMPLATED) ? undefined : value;
  };
  const present = Object.values(GROUP_ANNOTATIONS).filter((name) => annotations?.[name] !== undefined);
  if (present.length === 0) return { settings: undefined, problems };
  if (annotations?.[GROUP_ANNOTATIONS.group] === undefined) {
    for (const name of present) problems.push({ annotation: name, message: `needs ${GROUP_ANNOTATIONS.group}: the setting applies to the runs of a concurrency group` });
    return { settings: undefined, problems };
  }
  if (!isRunKind(kind)) {
    problems.push({ annotation: GROUP_ANNOTATIONS.group, message: `concurrency groups are for PipelineRuns and TaskRuns, not ${JSON.stringify(kind)}` });
    return { settings: undefined, problems };
  }

  const group = text(GROUP_ANNOTATIONS.group);
  if (group !== undefined && (group.trim() === '' || group.length > MAX_GROUP_CHARS)) {
    problems.push({ annotation: GROUP_ANNOTATIONS.group, message: `expected a group name of 1 to ${MAX_GROUP_CHARS} characters, got ${clip(group)}` });
  }
  const cancel = text(GROUP_ANNOTATIONS.cancelInProgress);
  if (cancel !== undefined && cancel !== 'true' && cancel !== 'false') {
    problems.push({ annotation: GROUP_ANNOTATIONS.cancelInProgress, message: `expected "true" or "false", got ${clip(cancel)}` });
  }
  const count = (name: string): number | undefined => {
    const value = text(name);
    if (value === undefined) return undefined;
    if (!COUNT.test(value)) {
      problems.push({ annotation: name, message: `expected a whole number from 1 to 9999, got ${clip(value)}` });
      return undefined;
    }
    return Number(value);
  };
  const maxRunning = count(GROUP_ANNOTATIONS.maxRunning);
  const maxKeepRuns = count(GROUP_ANNOTATIONS.maxKeepRuns);
  const statuses = SPEC_STATUS[kind].cancels;
  const cancelStatus = text(GROUP_ANNOTATIONS.cancelStatus);
  if (cancelStatus !== undefined && !(statuses as readonly string[]).includes(cancelStatus)) {
    problems.push({ annotation: GROUP_ANNOTATIONS.cancelStatus, message: `a ${kind} is cancelled with ${statuses.map((s) => `"${s}"`).join(', ')}; got ${clip(cancelStatus)}` });
  }
  if (problems.length > 0 || group === undefined) return { settings: undefined, problems };
  return {
    settings: {
      group,
      cancelInProgress: cancel === 'true',
      maxRunning,
      maxKeepRuns,
      cancelStatus: cancelStatus ?? SPEC_STATUS[kind].cancelled,
    },
    problems,
  };
}

/** The label value of a group: the first 40 hex digits of its name's SHA-256. */
export function groupLabelValue(group: string): string {
  return createHash('sha256').update(group).digest('hex').slice(0, 40);
}

/**
 * A rendered run joins its group: it is created waiting (`spec.status` pending) — only the group's settlement starts
 * it, by a patch conditional on what it read — labelled so the group can be listed, with the push's order. Runs that
 * name no group are returned as they are.
 */
export function joinGroup(object: KubernetesObject, pushOrder: string | undefined): { ok: true; object: KubernetesObject } | { ok: false; reason: string } {
  const annotations = object.metadata.annotations ?? {};
  const { settings, problems } = readGroupSettings(object.kind, annotations);
  if (problems.length > 0) return { ok: false, reason: problems.map((p) => `annotation ${p.annotation} ${p.message}`).join('; ') };
  if (!settings || !isRunKind(object.kind)) return { ok: true, object };
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  const { [GROUP_STATE_ANNOTATIONS.pushOrder]: _written, ...rest } = annotations;
  if (spec.status !== undefined) {
    return { ok: false, reason: `spec.status is set (${clip(String(spec.status))}), but the concurrency group ${clip(settings.group)} decides when its runs start: remove spec.status` };
  }
  return {
    ok: true,
    object: {
      ...object,
      metadata: {
        ...object.metadata,
        labels: { ...object.metadata.labels, [GROUP_LABEL]: groupLabelValue(settings.group), [MEMBER_LABEL]: MEMBER_ACTIVE },
        annotations: { ...rest, ...(pushOrder !== undefined && { [GROUP_STATE_ANNOTATIONS.pushOrder]: pushOrder }) },
      },
      spec: { ...spec, status: pendingStatusOf(object.kind) },
    },
  };
}

/** Whether any TriggerTemplate of a config's documents names a concurrency group (the reporter is then needed). */
export function documentsUseGroups(documents: readonly { value: unknown }[]): boolean {
  return documents.some(({ value }) => {
    const object = (value ?? {}) as { kind?: unknown; spec?: { resourcetemplates?: unknown } };
    if (object.kind !== 'TriggerTemplate' || !Array.isArray(object.spec?.resourcetemplates)) return false;
    return (object.spec.resourcetemplates as Array<{ metadata?: { annotations?: Record<string, unknown> } } | null>).some(
      (resource) => resource?.metadata?.annotations?.[GROUP_ANNOTATIONS.group] !== undefined,
    );
  });
}

function clip(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

/** A concurrency group: its runs share a namespace and a kind, and are listed by the group's label. */
export interface GroupRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  group: string;
  label: string;
}

/** The group a run belongs to, by its annotation and label, or undefined. */
export function groupOf(object: Pick<KubernetesObject, 'kind' | 'metadata'>): GroupRef | undefined {
  const group = object.metadata.annotations?.[GROUP_ANNOTATIONS.group];
  const label = object.metadata.labels?.[GROUP_LABEL];
  if (typeof group !== 'string' || typeof label !== 'string' || label !== groupLabelValue(group) || !isRunKind(object.kind)) return undefined;
  return { apiVersion: 'tekton.dev/v1', kind: object.kind, namespace: object.metadata.namespace, group, label };
}

export function sameGroup(a: GroupRef, b: GroupRef): boolean {
  return a.namespace === b.namespace && a.kind === b.kind && a.label === b.label && a.group === b.group;
}
