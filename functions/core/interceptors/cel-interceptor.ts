import type { CelInterceptorConfig } from '../triggers-config.ts';
import { firstLine, toJson, type CelContext } from './cel-environment.ts';
import type { InterceptorInput, InterceptorOutcome } from './interceptor-types.ts';

/** Tekton's cel interceptor: a filter that must be true, and overlays added under `extensions`. */
export function runCelInterceptor(config: CelInterceptorConfig, input: InterceptorInput): InterceptorOutcome {
  const context: CelContext = { body: input.payload, header: input.celHeader, extensions: input.extensions, requestURL: '' };
  if (config.filter) {
    let result: unknown;
    try {
      result = config.filter(context);
    } catch (error) {
      return { continue: false, reason: `CEL filter could not be evaluated (${firstLine((error as Error).message)}): ${config.filter.source}` };
    }
    if (typeof result !== 'boolean') {
      return { continue: false, reason: `CEL filter returned ${JSON.stringify(toJson(result))}, not a bool: ${config.filter.source}` };
    }
    if (!result) return { continue: false, reason: `CEL filter is false: ${config.filter.source}` };
  }
  if (config.overlays.length === 0) return { continue: true };
  const extensions: Record<string, unknown> = {};
  for (const overlay of config.overlays) {
    try {
      setPath(extensions, overlay.key, toJson(overlay.expression({ ...context, extensions: { ...input.extensions, ...extensions } })));
    } catch (error) {
      return { continue: false, reason: `CEL overlay "${overlay.key}" could not be evaluated (${firstLine((error as Error).message)}): ${overlay.expression.source}` };
    }
  }
  return { continue: true, extensions };
}

/** Overlay keys may be dotted (`a.b`), which nests the value as Tekton does. */
function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = (next !== null && typeof next === 'object' ? next : (node[part] = {})) as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}
