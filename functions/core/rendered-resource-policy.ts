import type { KubernetesObject } from './delivery-types.ts';
import { NAMESPACES_ANNOTATION, RESOURCE_API_VERSIONS, RESOURCE_KINDS, type EventListenerConfig } from './triggers-config.ts';

/**
 * Why rendered objects may not be created, or undefined when they may: each must be a Tekton run (the only kinds a
 * template may hold) in its trigger's namespace (where Tekton creates them), the EventListener's, or one its annotation
 * allows. A template that takes `metadata.namespace` from the payload could otherwise aim a run at any namespace the
 * bridge's role reaches.
 */
export function renderedResourceRefusal(resources: readonly KubernetesObject[], listener: EventListenerConfig, triggerNamespace: string): string | undefined {
  const allowed = [...new Set([triggerNamespace, listener.namespace, ...(listener.allowedNamespaces ?? [])])];
  for (const object of resources) {
    if (!RESOURCE_API_VERSIONS.has(object.apiVersion) || !RESOURCE_KINDS.has(object.kind)) {
      return `the template rendered ${clip(object.apiVersion)} ${clip(object.kind)}; the bridge creates only PipelineRuns and TaskRuns of tekton.dev/v1 or v1beta1`;
    }
    const namespace = object.metadata.namespace;
    if (!allowed.includes(namespace)) {
      return (
        `${object.kind} ${clip(object.metadata.name)} was rendered for namespace "${clip(namespace)}", which EventListener ${listener.name} ` +
        `does not allow (allowed: ${allowed.join(', ')}; the annotation ${NAMESPACES_ANNOTATION} adds more)`
      );
    }
  }
  return undefined;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
