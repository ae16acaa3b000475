import type { CelFeature } from './cel/feature-modules.ts';
import type { CelProgram } from './interceptors/cel-environment.ts';
import type { ConfigIssue } from './errors.ts';
import type { ParsedBindingValue } from './binding-expressions.ts';
import type { ServiceAccountRef } from './delivery-types.ts';

/** The trigger configuration after loading: every reference resolved, every selection made, every expression compiled. */
export interface TriggersConfig {
  eventListeners: EventListenerConfig[];
  warnings: ConfigIssue[];
  /**
   * What the CEL expressions use beyond the core: the optional parts to ship and load (YAML also for the OWNERS files
   * of githubOwners), the trigger secrets.
   */
  cel: { features: CelFeature[]; usesTriggerSecrets: boolean };
}

export interface EventListenerConfig {
  name: string;
  /** metadata.namespace, else `default`. */
  namespace: string;
  file: string;
  hygiene: PushHygiene;
  /** `tekton-bridge/report-skipped: "true"`: a skipped trigger reports success with its reason to GitHub. */
  reportSkipped?: boolean;
  /** Namespaces beyond its own that its templates may aim at (annotation tekton-bridge/allowed-namespaces). */
  allowedNamespaces?: readonly string[];
  /**
   * Triggers evaluated on their own, as Tekton's sink merges them: those of spec.triggers (inline, or a Trigger by
   * triggerRef), then the Trigger objects spec.labelSelector / spec.namespaceSelector select.
   */
  triggers: TriggerConfig[];
  /** spec.triggerGroups: the group's interceptors run once, then each Trigger its triggerSelector selects. */
  triggerGroups: TriggerGroupConfig[];
}

/** Skips beyond Tekton's own behaviour, on unless an EventListener annotation turns them off. */
export interface PushHygiene {
  skipDeletedBranches: boolean;
  skipCiMessages: boolean;
}

export interface TriggerGroupConfig {
  name: string;
  interceptors: InterceptorConfig[];
  triggers: TriggerConfig[];
}

export interface TriggerConfig {
  name: string;
  /** The trigger's namespace (a Trigger's own, else its EventListener's): its resources go there unless they say. */
  namespace: string;
  interceptors: InterceptorConfig[];
  bindings: BindingParam[];
  template: TemplateConfig;
  /**
   * Who creates the resources, as Tekton resolves it: the trigger's serviceAccountName (in the trigger's namespace),
   * else the EventListener's (its pod's account, in its namespace). Undefined: the bridge's own identity.
   */
  serviceAccount: ServiceAccountRef | undefined;
}

export type InterceptorConfig = GithubInterceptorConfig | CelInterceptorConfig;

export interface GithubInterceptorConfig {
  type: 'github';
  /** Undefined: every event passes. */
  eventTypes: string[] | undefined;
  addChangedFiles: boolean;
  /** githubOwners, when enabled: its checkType as written (`orgMembers`, `repoMembers`, `all`, `none`; '' unset). */
  owners?: { checkType: string };
}

export interface CelInterceptorConfig {
  type: 'cel';
  filter: CelProgram | undefined;
  overlays: { key: string; expression: CelProgram }[];
}

export interface BindingParam {
  name: string;
  value: ParsedBindingValue;
  /** Where the param was declared, for messages: `TriggerBinding/github-push` or `inline`. */
  source: string;
}

export interface TemplateParam {
  name: string;
  default: string | undefined;
}

export interface TemplateConfig {
  name: string;
  params: TemplateParam[];
  resourcetemplates: Record<string, unknown>[];
  /** The `triggers.tekton.dev/old-escape-quotes` annotation: quotes in values are escaped before they are spliced. */
  oldEscapeQuotes: boolean;
}

export const REPORT_SKIPPED_ANNOTATION = 'tekton-bridge/report-skipped';

export const HYGIENE_ANNOTATIONS = {
  skipDeletedBranches: 'tekton-bridge/skip-deleted-branches',
  skipCiMessages: 'tekton-bridge/skip-ci-messages',
} as const;

/** `"apps, staging"`: namespaces other than the EventListener's own where its rendered objects may be created. */
export const NAMESPACES_ANNOTATION = 'tekton-bridge/allowed-namespaces';

/** What a TriggerTemplate may render, and so all the bridge ever creates: Tekton runs. */
export const RESOURCE_API_VERSIONS: ReadonlySet<string> = new Set(['tekton.dev/v1', 'tekton.dev/v1beta1']);
export const RESOURCE_KINDS: ReadonlySet<string> = new Set(['PipelineRun', 'TaskRun']);

/** Every trigger of an EventListener, grouped or not. */
export function listenerTriggers(listener: EventListenerConfig): TriggerConfig[] {
  return [...listener.triggers, ...listener.triggerGroups.flatMap((group) => group.triggers)];
}

/** The service accounts the config creates resources as, each with the `listener/trigger`s that use it. */
export function impersonatedAccounts(config: TriggersConfig): { account: ServiceAccountRef; triggers: string[] }[] {
  const byAccount = new Map<string, { account: ServiceAccountRef; triggers: string[] }>();
  for (const listener of config.eventListeners) {
    for (const trigger of listenerTriggers(listener)) {
      if (!trigger.serviceAccount) continue;
      const key = `${trigger.serviceAccount.namespace}/${trigger.serviceAccount.name}`;
      const entry = byAccount.get(key) ?? { account: trigger.serviceAccount, triggers: [] };
      entry.triggers.push(`${listener.name}/${trigger.name}`);
      byAccount.set(key, entry);
    }
  }
  return [...byAccount.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, entry]) => entry);
}
