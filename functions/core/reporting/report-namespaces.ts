import type { ConfigDocument } from '../build-triggers-config.ts';

/**
 * The namespaces the bridge creates runs in, from the configuration's documents as the build ships them: each
 * EventListener's (or `default`), and any namespace a TriggerTemplate names outright. A namespace made from a param
 * cannot be known before a delivery, so the schedule does not list it (its events are still reported). Read without
 * building the config, so the reporter carries no CEL.
 */
export function reportNamespaces(documents: readonly ConfigDocument[]): string[] {
  const namespaces = new Set<string>();
  for (const { value } of documents) {
    const object = (value ?? {}) as { kind?: unknown; metadata?: { namespace?: unknown }; spec?: { resourcetemplates?: unknown } };
    if (object.kind === 'EventListener') namespaces.add(staticNamespace(object.metadata?.namespace) ?? 'default');
    if (object.kind === 'TriggerTemplate' && Array.isArray(object.spec?.resourcetemplates)) {
      for (const resource of object.spec.resourcetemplates as Array<{ metadata?: { namespace?: unknown } } | null>) {
        const namespace = staticNamespace(resource?.metadata?.namespace);
        if (namespace) namespaces.add(namespace);
      }
    }
  }
  return [...namespaces].sort();
}

function staticNamespace(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' && !value.includes('$(') ? value : undefined;
}
