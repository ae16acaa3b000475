import type { KubernetesObject } from './delivery-types.ts';
import type { DeliverySummary } from './delivery-summary.ts';
import type { EventListenerConfig, TriggerConfig } from './triggers-config.ts';
import { resolveBindingValue } from './binding-expressions.ts';
import { createEvaluationScope, type CelDeliveryOptions, type CelEvaluationScope } from './cel/evaluation-scope.ts';
import { crashReason } from './errors.ts';
import { canonicalHeaderName } from './interceptors/cel-environment.ts';
import { runCelInterceptor } from './interceptors/cel-interceptor.ts';
import { runGithubInterceptor } from './interceptors/github-interceptor.ts';
import type { InterceptorInput } from './interceptors/interceptor-types.ts';
import { pushSkipReason } from './push-hygiene.ts';
import { renderResources } from './render-resources.ts';
import { listenerNamespace, renderedResourceRefusal } from './rendered-resource-policy.ts';
import { bodyDigestOf } from './resource-names.ts';

export type TriggerDecision =
  | { trigger: string; outcome: 'skipped' | 'failed'; reason: string }
  /** `params`: the template's param values, all the retry function needs to render the same objects again. */
  | { trigger: string; outcome: 'render'; resources: KubernetesObject[]; params: Record<string, string> };

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
}

/** Each trigger of the EventListener: interceptors, then bindings, then the template. Pure. */
export function evaluateTriggers(input: EvaluationInput): TriggerDecision[] {
  const skip = pushSkipReason(input.event, input.payload, input.listener.hygiene);
  if (skip) return input.listener.triggers.map((trigger) => ({ trigger: trigger.name, outcome: 'skipped', reason: skip }));
  const celHeader: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(input.headers)) if (value !== undefined) celHeader[canonicalHeaderName(name)] = [value];
  const scope = createEvaluationScope(input.cel);
  return input.listener.triggers.map((trigger) => {
    // A payload the code did not foresee fails this trigger alone, with a reason; the others still run.
    try {
      return evaluateTrigger(trigger, input, celHeader, scope);
    } catch (error) {
      return { trigger: trigger.name, outcome: 'failed', reason: `the trigger could not be evaluated (${crashReason(error)})` };
    }
  });
}

function evaluateTrigger(trigger: TriggerConfig, input: EvaluationInput, celHeader: Record<string, string[]>, scope: CelEvaluationScope): TriggerDecision {
  const interceptorInput: InterceptorInput = {
    event: input.event,
    payload: input.payload,
    headers: input.headers,
    celHeader,
    extensions: {},
    requestURL: input.requestURL ?? '',
    scope,
  };
  for (const interceptor of trigger.interceptors) {
    const outcome = interceptor.type === 'github' ? runGithubInterceptor(interceptor, interceptorInput) : runCelInterceptor(interceptor, interceptorInput);
    if (!outcome.continue) return { trigger: trigger.name, outcome: outcome.failed ? 'failed' : 'skipped', reason: outcome.reason };
    if (outcome.extensions) interceptorInput.extensions = { ...interceptorInput.extensions, ...outcome.extensions };
  }

  const bound: Record<string, string> = {};
  const sources = { body: input.payload, headers: input.headers, extensions: interceptorInput.extensions, context: { eventID: input.deliveryId } };
  for (const binding of trigger.bindings) {
    const resolved = resolveBindingValue(binding.value, sources);
    if (!resolved.ok) {
      return { trigger: trigger.name, outcome: 'failed', reason: `binding param "${binding.name}" (${binding.source}) cannot be resolved: ${resolved.message}` };
    }
    bound[binding.name] = resolved.value;
  }
  const params: Record<string, string> = {};
  for (const param of trigger.template.params) {
    const value = bound[param.name] ?? param.default;
    if (value !== undefined) params[param.name] = value;
  }

  const resources = renderResources({
    template: trigger.template,
    params,
    deliveryId: input.deliveryId,
    bodyDigest: input.bodyDigest ?? bodyDigestOf(JSON.stringify(input.payload)),
    trigger: trigger.name,
    eventListener: input.listener.name,
    namespace: listenerNamespace(input.listener),
    summary: input.summary,
  });
  const refusal = renderedResourceRefusal(resources, input.listener);
  if (refusal) return { trigger: trigger.name, outcome: 'failed', reason: refusal };
  return { trigger: trigger.name, outcome: 'render', resources, params };
}
