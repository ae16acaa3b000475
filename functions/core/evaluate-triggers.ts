import type { KubernetesObject, ServiceAccountRef } from './delivery-types.ts';
import type { DeliverySummary } from './delivery-summary.ts';
import { listenerTriggers, type EventListenerConfig, type InterceptorConfig, type TriggerConfig } from './triggers-config.ts';
import { resolveParams, tektonEvent } from './binding-expressions.ts';
import { createEvaluationScope, type CelDeliveryOptions, type CelEvaluationScope } from './cel/evaluation-scope.ts';
import { crashReason } from './errors.ts';
import { runCelInterceptor } from './interceptors/cel-interceptor.ts';
import { runGithubInterceptor } from './interceptors/github-interceptor.ts';
import { NO_LOOKUPS, type GithubLookups } from './interceptors/github-lookups.ts';
import type { InterceptorInput, InterceptorOutcome } from './interceptors/interceptor-types.ts';
import { pushSkipReason } from './push-hygiene.ts';
import { renderResources } from './render-resources.ts';
import { renderedResourceRefusal } from './rendered-resource-policy.ts';
import { bodyDigestOf } from './resource-names.ts';
import { tektonHeaders } from './tekton-headers.ts';

export type TriggerDecision =
  | { trigger: string; outcome: 'skipped' | 'failed'; reason: string }
  | {
      trigger: string;
      outcome: 'render';
      resources: KubernetesObject[];
      /** The account to create them as (Kubernetes impersonation); undefined: the bridge's own identity. */
      serviceAccount: ServiceAccountRef | undefined;
      /** The template's param values: all the retry function needs to render the same objects again. */
      params: Record<string, string>;
    };

export interface EvaluationInput {
  listener: EventListenerConfig;
  deliveryId: string;
  event: string;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string | undefined>>;
  payload: unknown;
  summary: DeliverySummary;
  /** The URL the delivery was posted to, CEL's `requestURL`. */
  requestURL?: string;
  /** The trigger secrets compareSecret reads, and the clock for the delivery's CEL time budget. */
  cel?: CelDeliveryOptions;
  /** bodyDigestOf the signed body bytes. Left out (render, tests), the payload's JSON text stands in. */
  bodyDigest?: string;
  /** GitHub's answers to what plannedGithubLookups found the github interceptors need for this delivery. */
  github?: GithubLookups;
}

interface Delivery {
  input: EvaluationInput;
  /** The headers as Tekton's http.Header, canonical names, for bindings; and as value lists, for CEL. */
  headers: Record<string, string>;
  celHeader: Record<string, string[]>;
  /** The trigger secrets and the time budget CEL evaluation may use, shared by every trigger of the delivery. */
  scope: CelEvaluationScope;
}

/**
 * Each trigger of the EventListener, as Tekton's sink runs them: the ungrouped ones on their own, then each trigger
 * group's interceptors once and, if they pass, its triggers with the group's extensions. Interceptors, then
 * bindings, then the template. Pure.
 */
export function evaluateTriggers(input: EvaluationInput): TriggerDecision[] {
  const { listener } = input;
  const skip = pushSkipReason(input.event, input.payload, listener.hygiene);
  if (skip) return listenerTriggers(listener).map((trigger) => ({ trigger: trigger.name, outcome: 'skipped', reason: skip }));
  const headers = tektonHeaders(input.headers);
  const celHeader = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]]));
  const delivery: Delivery = { input, headers, celHeader, scope: createEvaluationScope(input.cel) };

  const decisions = listener.triggers.map((trigger) => containedEvaluation(trigger, delivery, {}));
  for (const group of listener.triggerGroups) {
    const outcome = containedInterceptors(group.interceptors, delivery);
    for (const trigger of group.triggers) {
      decisions.push(
        outcome.continue
          ? containedEvaluation(trigger, delivery, outcome.extensions ?? {})
          : { trigger: trigger.name, outcome: outcome.failed ? 'failed' : 'skipped', reason: `trigger group "${group.name}": ${outcome.reason}` },
      );
    }
  }
  return decisions;
}

// A payload the code did not foresee fails the trigger (or group) it reached, with a reason; the others still run.
function containedEvaluation(trigger: TriggerConfig, delivery: Delivery, groupExtensions: Record<string, unknown>): TriggerDecision {
  try {
    return evaluateTrigger(trigger, delivery, groupExtensions);
  } catch (error) {
    return { trigger: trigger.name, outcome: 'failed', reason: `the trigger could not be evaluated (${crashReason(error)})` };
  }
}

function containedInterceptors(interceptors: readonly InterceptorConfig[], delivery: Delivery): InterceptorOutcome {
  try {
    return runInterceptors(interceptors, delivery, {});
  } catch (error) {
    return { continue: false, failed: true, reason: `its interceptors could not be evaluated (${crashReason(error)})` };
  }
}

function runInterceptors(interceptors: readonly InterceptorConfig[], delivery: Delivery, extensions: Record<string, unknown>): InterceptorOutcome {
  const interceptorInput: InterceptorInput = {
    event: delivery.input.event,
    payload: delivery.input.payload,
    headers: delivery.input.headers,
    celHeader: delivery.celHeader,
    extensions: { ...extensions },
    requestURL: delivery.input.requestURL ?? '',
    scope: delivery.scope,
    github: delivery.input.github ?? NO_LOOKUPS,
  };
  for (const interceptor of interceptors) {
    const outcome = interceptor.type === 'github' ? runGithubInterceptor(interceptor, interceptorInput) : runCelInterceptor(interceptor, interceptorInput);
    if (!outcome.continue) return outcome;
    if (outcome.extensions) interceptorInput.extensions = { ...interceptorInput.extensions, ...outcome.extensions };
  }
  return { continue: true, extensions: interceptorInput.extensions };
}

function evaluateTrigger(trigger: TriggerConfig, delivery: Delivery, groupExtensions: Record<string, unknown>): TriggerDecision {
  const { input } = delivery;
  const intercepted = runInterceptors(trigger.interceptors, delivery, groupExtensions);
  if (!intercepted.continue) {
    return { trigger: trigger.name, outcome: intercepted.failed ? 'failed' : 'skipped', reason: intercepted.reason };
  }
  const event = tektonEvent(input.payload, delivery.headers, intercepted.extensions ?? {}, input.deliveryId);
  const params = resolveParams(trigger.bindings, trigger.template.params, trigger.template.name, event);
  if (!params.ok) return { trigger: trigger.name, outcome: 'failed', reason: params.reason };

  const rendered = renderResources({
    template: trigger.template,
    params: params.params,
    deliveryId: input.deliveryId,
    bodyDigest: input.bodyDigest ?? bodyDigestOf(JSON.stringify(input.payload)),
    trigger: trigger.name,
    eventListener: input.listener.name,
    namespace: trigger.namespace,
    summary: input.summary,
  });
  if (!rendered.ok) return { trigger: trigger.name, outcome: 'failed', reason: rendered.reason };
  const refusal = renderedResourceRefusal(rendered.resources, input.listener, trigger.namespace);
  if (refusal) return { trigger: trigger.name, outcome: 'failed', reason: refusal };
  return { trigger: trigger.name, outcome: 'render', resources: rendered.resources, serviceAccount: trigger.serviceAccount, params: Object.fromEntries(params.params) };
}
