import type { CelInterceptorConfig } from '../triggers-config.ts';
import { JsonConversionError, toCelValue, toJsonValue } from '../cel/cel-values.ts';
import { budgetSpent, CelBudgetExceededError, TriggerSecretError } from '../cel/evaluation-scope.ts';
import { setOverlayValue } from '../cel/overlay-keys.ts';
import { readable, type CelContext, type CelProgram } from './cel-environment.ts';
import type { InterceptorInput, InterceptorOutcome } from './interceptor-types.ts';

// The body is made readable for CEL once per delivery, however many triggers look at it.
const celBodies = new WeakMap<object, unknown>();

/**
 * Tekton's cel interceptor (cel.go): a filter that must be true, then overlays, each evaluated over the same input —
 * an overlay does not see the others of its interceptor — and set under `extensions` at its (dotted) key.
 */
export function runCelInterceptor(config: CelInterceptorConfig, input: InterceptorInput): InterceptorOutcome {
  const { scope } = input;
  if (budgetSpent(scope.budget)) {
    return { continue: false, failed: true, reason: `CEL was not evaluated: the delivery's CEL time budget of ${scope.budget?.limitMs} ms is used up` };
  }
  const payload = input.payload;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    return { continue: false, failed: true, reason: 'cel interceptor: the body is not a JSON object' };
  }
  let body = celBodies.get(payload);
  if (body === undefined) {
    body = toCelValue(payload);
    celBodies.set(payload, body);
  }
  const context: CelContext = { body, header: input.celHeader, extensions: toCelValue(input.extensions), requestURL: input.requestURL };

  if (config.filter) {
    const evaluated = evaluate(config.filter, context, input);
    if (!evaluated.ok) return evaluatedFailure(evaluated.error, `CEL filter could not be evaluated`, config.filter.source);
    if (typeof evaluated.value !== 'boolean') {
      let shown: string;
      try {
        shown = JSON.stringify(toJsonValue(evaluated.value));
      } catch {
        shown = 'a value';
      }
      return { continue: false, reason: `CEL filter returned ${shown}, not a bool: ${config.filter.source}` };
    }
    if (!evaluated.value) return { continue: false, reason: `CEL filter is false: ${config.filter.source}` };
  }
  if (config.overlays.length === 0) return { continue: true };
  const extensions: Record<string, unknown> = {};
  for (const overlay of config.overlays) {
    const evaluated = evaluate(overlay.expression, context, input);
    if (!evaluated.ok) return evaluatedFailure(evaluated.error, `CEL overlay "${overlay.key}" could not be evaluated`, overlay.expression.source);
    try {
      setOverlayValue(extensions, overlay.key, toJsonValue(evaluated.value));
    } catch (error) {
      return { continue: false, failed: true, reason: `CEL overlay "${overlay.key}": ${readable((error as Error).message)}: ${overlay.expression.source}` };
    }
  }
  return { continue: true, extensions };
}

type Evaluated = { ok: true; value: unknown } | { ok: false; error: unknown };

function evaluate(program: CelProgram, context: CelContext, input: InterceptorInput): Evaluated {
  try {
    const value = program.evaluate(context, input.scope);
    // An error the expression absorbed (`… || true`) still spent the budget.
    if (budgetSpent(input.scope.budget)) return { ok: false, error: new CelBudgetExceededError(input.scope.budget?.limitMs ?? 0) };
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * What the payload does not have (a field of another event) skips the trigger, as Tekton does not run it; what the
 * bridge or its operator must fix — a trigger secret, the time budget, a payload too deep to walk — fails it.
 */
function evaluatedFailure(error: unknown, what: string, source: string): InterceptorOutcome {
  const message = readable(error instanceof Error ? error.message : String(error));
  const failed = error instanceof TriggerSecretError || error instanceof CelBudgetExceededError || error instanceof RangeError || error instanceof JsonConversionError;
  return { continue: false, ...(failed && { failed: true }), reason: `${what} (${message}): ${source}` };
}
