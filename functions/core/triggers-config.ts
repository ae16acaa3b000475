import type { CelFeature } from './cel/feature-modules.ts';
import type { CelProgram } from './interceptors/cel-environment.ts';
import type { ConfigIssue } from './errors.ts';
import type { ParsedBindingValue } from './binding-expressions.ts';

/** The trigger configuration after loading: every reference resolved, every CEL expression compiled. */
export interface TriggersConfig {
  eventListeners: EventListenerConfig[];
  warnings: ConfigIssue[];
  /** What the CEL expressions use beyond the core: the optional parts to ship and load, the trigger secrets. */
  cel: { features: CelFeature[]; usesTriggerSecrets: boolean };
}

export interface EventListenerConfig {
  name: string;
  namespace: string | undefined;
  file: string;
  hygiene: PushHygiene;
  /** Namespaces beyond its own that its templates may aim at (annotation tekton-bridge/allowed-namespaces). */
  allowedNamespaces?: readonly string[];
  triggers: TriggerConfig[];
}

/** Skips beyond Tekton's own behaviour, on unless an EventListener annotation turns them off. */
export interface PushHygiene {
  skipDeletedBranches: boolean;
  skipCiMessages: boolean;
}

export interface TriggerConfig {
  name: string;
  interceptors: InterceptorConfig[];
  bindings: BindingParam[];
  template: TemplateConfig;
}

export type InterceptorConfig = GithubInterceptorConfig | CelInterceptorConfig;

export interface GithubInterceptorConfig {
  type: 'github';
  /** Undefined: every event passes. */
  eventTypes: string[] | undefined;
  addChangedFiles: boolean;
}

export interface CelInterceptorConfig {
  type: 'cel';
  filter: CelProgram | undefined;
  overlays: { key: string; expression: CelProgram }[];
}

export interface BindingParam {
  name: string;
  /** The binding's value as written, e.g. `$(body.head_commit.id)`. */
  text: string;
  value: ParsedBindingValue;
  /** Where the param was declared, for messages: `TriggerBinding/github-push` or `inline`. */
  source: string;
}

export interface TemplateConfig {
  name: string;
  params: { name: string; default: string | undefined }[];
  resourcetemplates: Record<string, unknown>[];
}

export const HYGIENE_ANNOTATIONS = {
  skipDeletedBranches: 'tekton-bridge/skip-deleted-branches',
  skipCiMessages: 'tekton-bridge/skip-ci-messages',
} as const;

/** `"apps, staging"`: namespaces other than the EventListener's own where its rendered objects may be created. */
export const NAMESPACES_ANNOTATION = 'tekton-bridge/allowed-namespaces';

/** What a TriggerTemplate may render, and so all the bridge ever creates: Tekton runs. */
export const RESOURCE_API_VERSIONS: ReadonlySet<string> = new Set(['tekton.dev/v1', 'tekton.dev/v1beta1']);
export const RESOURCE_KINDS: ReadonlySet<string> = new Set(['PipelineRun', 'TaskRun']);
