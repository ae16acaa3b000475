import type { KubernetesObject } from './delivery-types.ts';
import type { TemplateConfig } from './triggers-config.ts';
import type { DeliverySummary } from './delivery-summary.ts';
import { contextName } from './reporting/github-report.ts';
import { REPORT_ANNOTATIONS, REPORT_LABEL, REPORT_OPEN } from './reporting/run-annotations.ts';
import { deterministicSuffix, deterministicUid, nameFromGenerateName, toDnsLabel, toLabelValue } from './resource-names.ts';

export const LABELS = {
  eventListener: 'triggers.tekton.dev/eventlistener',
  trigger: 'triggers.tekton.dev/trigger',
  eventId: 'triggers.tekton.dev/triggers-eventid',
} as const;

export const ANNOTATIONS = {
  repository: 'tekton-bridge/repository',
  ref: 'tekton-bridge/ref',
  commit: 'tekton-bridge/commit',
} as const;

export interface RenderInput {
  template: TemplateConfig;
  /** Values of the template's params, bindings already resolved and defaults applied. */
  params: Readonly<Record<string, string>>;
  deliveryId: string;
  trigger: string;
  eventListener: string;
  namespace: string;
  summary: DeliverySummary;
}

const SUBSTITUTION = /\$\(\s*(?:tt\.params\.([^)\s]+)|(uid))\s*\)/g;

/**
 * Tekton's ResolveResources: `$(tt.params.x)` and `$(uid)` substituted into the parsed template as values (never
 * spliced into JSON or YAML text), generateName turned into a deterministic name, and the labels Triggers sets.
 */
export function renderResources(input: RenderInput): KubernetesObject[] {
  const uid = deterministicUid(input.deliveryId, input.trigger);
  const substitute = (value: unknown): unknown => {
    if (typeof value === 'string') {
      return value.includes('$(') ? value.replace(SUBSTITUTION, (whole, param?: string) => (param === undefined ? uid : input.params[param] ?? whole)) : value;
    }
    if (Array.isArray(value)) return value.map(substitute);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item)]));
    }
    return value;
  };
  return input.template.resourcetemplates.map((resourceTemplate, index) => {
    const resource = substitute(resourceTemplate) as Record<string, unknown> & { metadata: Record<string, unknown> };
    const { generateName, name, namespace, labels, annotations, ...metadata } = resource.metadata;
    return {
      ...resource,
      apiVersion: String(resource.apiVersion),
      kind: String(resource.kind),
      metadata: {
        ...metadata,
        name:
          typeof generateName === 'string' && typeof name !== 'string'
            ? nameFromGenerateName(generateName, deterministicSuffix(input.deliveryId, input.trigger, index))
            : toDnsLabel(String(name)),
        namespace: typeof namespace === 'string' && namespace !== '' ? toDnsLabel(namespace) : input.namespace,
        labels: {
          ...stringValues(labels, toLabelValue),
          [LABELS.eventListener]: input.eventListener,
          [LABELS.trigger]: input.trigger,
          [LABELS.eventId]: toLabelValue(input.deliveryId),
          ...reportLabel(input.summary),
        },
        annotations: {
          ...stringValues(annotations, String),
          ...definedValues({
            [ANNOTATIONS.repository]: input.summary.repository,
            [ANNOTATIONS.ref]: input.summary.ref,
            [ANNOTATIONS.commit]: input.summary.commit,
            ...reportAnnotations(input, index),
          }),
        },
      },
    };
  });
}

/** A run built from a commit is reported back to GitHub: it is labelled for the reporter to find and says where. */
function reportLabel(summary: DeliverySummary): Record<string, string> {
  return summary.repository && summary.commit ? { [REPORT_LABEL]: REPORT_OPEN } : {};
}

function reportAnnotations(input: RenderInput, index: number): Record<string, string | undefined> {
  if (!input.summary.repository || !input.summary.commit) return {};
  return {
    [REPORT_ANNOTATIONS.context]: contextName(input.eventListener, input.trigger, index),
    [REPORT_ANNOTATIONS.installationId]: input.summary.installationId,
  };
}

function stringValues(map: unknown, clean: (value: string) => string): Record<string, string> {
  if (map === null || typeof map !== 'object') return {};
  return Object.fromEntries(Object.entries(map).map(([key, value]) => [key, clean(typeof value === 'string' ? value : JSON.stringify(value))]));
}

function definedValues(map: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
