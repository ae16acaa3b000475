import type { CelProgram, SecretSlot } from './interceptors/cel-environment.ts';
import type { ConfigIssue } from './errors.ts';
import type { ParsedBindingValue } from './binding-expressions.ts';

/** The trigger configuration after loading: every reference resolved, every CEL expression compiled. */
export interface TriggersConfig {
  eventListeners: EventListenerConfig[];
  warnings: ConfigIssue[];
  /** Where `compareSecret` in CEL finds the webhook secrets of the delivery being evaluated. */
  secretSlot: SecretSlot;
}

export interface EventListenerConfig {
  name: string;
  namespace: string | undefined;
  file: string;
  hygiene: PushHygiene;
  /** `tekton-bridge/report-skipped: "true"`: a skipped trigger reports success with its reason to GitHub. */
  reportSkipped?: boolean;
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

export const REPORT_SKIPPED_ANNOTATION = 'tekton-bridge/report-skipped';

export const HYGIENE_ANNOTATIONS = {
  skipDeletedBranches: 'tekton-bridge/skip-deleted-branches',
  skipCiMessages: 'tekton-bridge/skip-ci-messages',
} as const;
