import { goJson, goJsonString } from './go-json.ts';
import { findResults, GoInteger, GoStruct, JsonPathError, parseJsonPath, type JsonPathNode, type ListNode } from './jsonpath.ts';
import { canonicalMimeHeaderKey } from './tekton-headers.ts';
import type { BindingParam, TemplateParam } from './triggers-config.ts';

/**
 * TriggerBinding values as Tekton Triggers resolves them (pkg/template/event.go and jsonpath.go): every `$(…)` in the
 * text is a relaxed JSONPath over the event {header, body, extensions, context}; strings are spliced in JSON-escaped
 * without their quotes, everything else as JSON. Parsed once at config load, evaluated per delivery.
 */

export interface TektonExpression {
  /** As written, e.g. `$(header.x-github-event)`: the text the result replaces. */
  original: string;
  /** As Tekton evaluates it, a header name canonical: `$(header.X-Github-Event)`. */
  expression: string;
  template: ListNode;
}

export interface ParsedBindingValue {
  text: string;
  expressions: TektonExpression[];
}

export type ParseResult = { ok: true; value: ParsedBindingValue } | { ok: false; message: string };

/** Parses every expression of a binding value; one that Tekton could never evaluate is an error with its reason. */
export function parseBindingValue(text: string): ParseResult {
  const { results, originals } = findTektonExpressions(text);
  const expressions: TektonExpression[] = [];
  for (const [i, expression] of results.entries()) {
    const original = originals[i] as string;
    let template: ListNode;
    try {
      template = parseJsonPath(tektonJsonPathExpression(expression));
    } catch (error) {
      if (!(error instanceof JsonPathError)) throw error;
      return { ok: false, message: `${original} is not a JSONPath Tekton Triggers can evaluate: ${error.message}` };
    }
    const never = neverEvaluates(template, true);
    if (never) return { ok: false, message: `${original}: ${never}` };
    expressions.push({ original, expression, template });
  }
  return { ok: true, value: { text, expressions } };
}

/** The `${…}` spelling is no Tekton expression: Tekton leaves it as written. */
export function legacySpelling(text: string): string | undefined {
  const match = /\$\{([^{}]*)\}/.exec(text);
  return match ? match[0] : undefined;
}

const EVENT_FIELDS = new Set(['header', 'body', 'extensions', 'context', 'Header', 'Body', 'Extensions', 'Context']);

/** What in a parsed expression fails on every event, whatever it holds. */
function neverEvaluates(list: ListNode, top = false): string | undefined {
  const first = top && list.nodes[0]?.type === 'list' ? list.nodes[0].nodes[0] : undefined;
  if (first?.type === 'field' && !EVENT_FIELDS.has(first.name)) {
    return `finds nothing on any event: the event has header, body, extensions and context, not "${first.name}"`;
  }
  for (const node of list.nodes) {
    const why = neverEvaluatesNode(node);
    if (why) return why;
  }
  return undefined;
}

function neverEvaluatesNode(node: JsonPathNode): string | undefined {
  switch (node.type) {
    case 'list':
      return neverEvaluates(node);
    case 'identifier':
      return node.name === 'range' || node.name === 'end'
        ? `a ${node.name} block needs {…}, which a Tekton expression cannot hold`
        : `"${node.name}" is no JSONPath (a field is written .${node.name})`;
    case 'filter':
      if (node.operator !== 'exists' && !['<', '>', '==', '!=', '<=', '>='].includes(node.operator)) {
        return `unrecognized filter operator ${node.operator} (use ==, !=, <, <=, > or >=)`;
      }
      return neverEvaluates(node.left) ?? neverEvaluates(node.right);
    case 'union':
      for (const item of node.nodes) {
        const why = neverEvaluates(item);
        if (why) return why;
      }
      return undefined;
    default:
      return undefined;
  }
}

/**
 * Tekton's findTektonExpressions: each `$(` up to its first unbalanced `)`. `originals` are as written, `results` with
 * the name after `header.` made canonical.
 */
export function findTektonExpressions(text: string): { results: string[]; originals: string[] } {
  const results: string[] = [];
  const originals: string[] = [];
  if (!text.includes('$(')) return { results, originals };
  for (const part of text.split('$(').slice(1)) {
    let open = 0;
    for (let i = 0; i < part.length; i += 1) {
      if (part[i] === '(') open += 1;
      else if (part[i] === ')') {
        open -= 1;
        if (open < 0) {
          let raw = part.slice(0, i);
          originals.push(`$(${raw})`);
          if (raw.startsWith('header.')) raw = `header.${canonicalMimeHeaderKey(raw.slice('header.'.length))}`;
          results.push(`$(${raw})`);
          break;
        }
      }
    }
  }
  return { results, originals };
}

const TEKTON_VAR = /\$\(?([^)]+)\)/su;
const RELAXED = /^\{\.?([^{}]+)\}$|^\.?([^{}]+)$/su;

/** Tekton's tektonJSONPathExpression: `$(body.a)` to `{.body.a}`. Throws JsonPathError. */
export function tektonJsonPathExpression(expression: string): string {
  if (!TEKTON_VAR.test(expression)) throw new JsonPathError('expression not wrapped in $()');
  let unwrapped = expression.startsWith('$(') ? expression.slice(2) : expression;
  if (unwrapped.endsWith(')')) unwrapped = unwrapped.slice(0, -1);
  return relaxedJsonPathExpression(unwrapped);
}

/** kubectl's RelaxedJSONPathExpression: `a.b`, `.a.b`, `{a.b}` and `{.a.b}` all to `{.a.b}`. */
export function relaxedJsonPathExpression(path: string): string {
  if (path === '') return path;
  const match = RELAXED.exec(path);
  if (!match) {
    throw new JsonPathError("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'");
  }
  return `{.${match[1] || match[2]}}`;
}

/** Tekton's event: what `$(…)` sees. `headers` as tektonHeaders gives them. */
export function tektonEvent(body: unknown, headers: Readonly<Record<string, string>>, extensions: Record<string, unknown>, eventID: string): GoStruct {
  return new GoStruct('template.event', [
    { tag: 'header', name: 'Header', value: headers },
    { tag: 'body', name: 'Body', value: body ?? null },
    { tag: 'extensions', name: 'Extensions', value: extensions },
    { tag: 'context', name: 'Context', value: new GoStruct('template.TriggerContext', [{ tag: 'eventID', name: 'EventID', value: eventID }]) },
  ]);
}

export type EvaluateResult = { ok: true; text: string } | { ok: false; message: string };

/** Tekton's parseJSONPath: the results printed one after the other. */
export function evaluateExpression(expression: TektonExpression, event: unknown): EvaluateResult {
  try {
    return { ok: true, text: findResults(expression.template, event).map(tektonResultText).join('') };
  } catch (error) {
    if (error instanceof JsonPathError) return { ok: false, message: error.message };
    // A payload nested deeper than the stack reaches, met by `..` or by printing it whole.
    if (error instanceof RangeError) return { ok: false, message: 'the payload is nested too deeply to evaluate this expression' };
    throw error;
  }
}

/**
 * Tekton's getResults: one string is JSON-escaped and loses its quotes (so it can sit inside a JSON string of the
 * template), one other value is its JSON, several are a JSON array.
 */
export function tektonResultText(values: readonly unknown[]): string {
  if (values.length === 1) {
    const value = values[0];
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'string') return goJsonString(value).slice(1, -1);
    return marshalGo(value);
  }
  return marshalGo([...values]);
}

/** encoding/json for the values a JSONPath yields: structs keep their field order, the rest goes to goJson. */
function marshalGo(value: unknown): string {
  if (value instanceof GoStruct) return `{${value.fields.map((field) => `${goJsonString(field.tag || field.name)}:${marshalGo(field.value)}`).join(',')}}`;
  if (value instanceof GoInteger) return String(value.value);
  if (Array.isArray(value)) return `[${value.map(marshalGo).join(',')}]`;
  return goJson(value);
}

export type ResolvedParams = { ok: true; params: Map<string, string> } | { ok: false; reason: string };

/**
 * Tekton's applyEventValuesToParams: the template's defaults, then each binding with its expressions replaced in
 * turn. An expression that finds nothing takes the param's default when the template gives one; otherwise the
 * trigger fails. Bindings of params the template does not declare are evaluated too, as Tekton does.
 */
export function resolveParams(bindings: readonly BindingParam[], templateParams: readonly TemplateParam[], templateName: string, event: GoStruct): ResolvedParams {
  const params = new Map<string, string>();
  for (const param of templateParams) if (param.default !== undefined) params.set(param.name, param.default);
  for (const binding of bindings) {
    let value = binding.value.text;
    for (const expression of binding.value.expressions) {
      const result = evaluateExpression(expression, event);
      let text: string;
      if (result.ok) text = result.text;
      else {
        const fallback = params.get(binding.name);
        if (fallback === undefined) {
          return {
            ok: false,
            reason: `binding param "${binding.name}" (${binding.source}) cannot be resolved: ${expression.original}: ${result.message}, and TriggerTemplate/${templateName} has no default for it`,
          };
        }
        text = fallback;
      }
      value = value.replaceAll(expression.original, () => text);
    }
    params.set(binding.name, value);
  }
  return { ok: true, params };
}
