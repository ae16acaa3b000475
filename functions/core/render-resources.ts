import type { KubernetesObject } from './delivery-types.ts';
import type { TemplateConfig } from './triggers-config.ts';
import type { DeliverySummary } from './delivery-summary.ts';
import { joinGroup } from './concurrency/group-annotations.ts';
import { goJsonString } from './go-json.ts';
import { contextName } from './reporting/github-report.ts';
import { REPORT_ANNOTATIONS, REPORT_LABEL, REPORT_OPEN } from './reporting/run-annotations.ts';
import { deterministicSuffix, deterministicUid, nameFromGenerateName, toDnsLabel, toLabelValue } from './resource-names.ts';

export const LABELS = {
  eventListener: 'triggers.tekton.dev/eventlistener',
  trigger: 'triggers.tekton.dev/trigger',
  eventId: 'triggers.tekton.dev/triggers-eventid',
} as const;

export const ANNOTATIONS = {
  repository: 'tekton-bridge/repository',
  ref: 'tekton-bridge/ref',
  commit: 'tekton-bridge/commit',
  /** The hex SHA-256 of the signed body it was rendered from: on AlreadyExists, what tells the bridge's object apart. */
  bodyDigest: 'tekton-bridge/body-sha256',
} as const;

export interface RenderInput {
  template: TemplateConfig;
  /** The params as Tekton resolved them: bindings evaluated, defaults applied. */
  params: ReadonlyMap<string, string>;
  deliveryId: string;
  /** bodyDigestOf the signed body: names and `$(uid)` derive from it, not from the unsigned delivery id. */
  bodyDigest: string;
  trigger: string;
  eventListener: string;
  /** The trigger's namespace: where a resource that names none goes. */
  namespace: string;
  summary: DeliverySummary;
}

export type RenderResult = { ok: true; resources: KubernetesObject[] } | { ok: false; reason: string };

/**
 * Tekton's ResolveResources, computed on the parsed template: each string (value or key) is rendered as Tekton's
 * splice of `$(tt.params.x)` and `$(uid)` into the template's JSON text would leave it once parsed, never by splicing
 * into YAML or JSON text here. A value that would not stay inside its JSON string there fails the trigger. Then
 * generateName turns into a deterministic name, and the labels Triggers sets are added.
 */
export function renderResources(input: RenderInput): RenderResult {
  const uid = deterministicUid(input.bodyDigest, input.eventListener, input.trigger);
  const splice = { params: input.params, uid, oldEscapeQuotes: input.template.oldEscapeQuotes };
  let failure: string | undefined;
  const substitute = (value: unknown, path: string): unknown => {
    if (failure !== undefined) return value;
    if (typeof value === 'string') {
      const rendered = spliceTemplateString(value, splice);
      if (rendered.ok) return rendered.value;
      failure = `${path}: ${rendered.reason}`;
      return value;
    }
    if (Array.isArray(value)) return value.map((item, i) => substitute(item, `${path}[${i}]`));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => {
          const renderedKey = substitute(key, `${path}.${key}`) as string;
          return [renderedKey, substitute(item, `${path}.${key}`)];
        }),
      );
    }
    return value;
  };
  const resources: KubernetesObject[] = [];
  for (const [index, resourceTemplate] of input.template.resourcetemplates.entries()) {
    const resource = substitute(resourceTemplate, `resourcetemplates[${index}]`) as Record<string, unknown> & { metadata: Record<string, unknown> };
    if (failure !== undefined) return { ok: false, reason: `TriggerTemplate/${input.template.name} ${failure}` };
    const { generateName, name, namespace, labels, annotations, ...metadata } = resource.metadata;
    const joined = joinGroup({
      ...resource,
      apiVersion: String(resource.apiVersion),
      kind: String(resource.kind),
      metadata: {
        ...metadata,
        name:
          typeof generateName === 'string' && typeof name !== 'string'
            ? nameFromGenerateName(generateName, deterministicSuffix(input.bodyDigest, input.eventListener, input.trigger, index))
            : toDnsLabel(String(name)),
        namespace: typeof namespace === 'string' && namespace !== '' ? toDnsLabel(namespace) : input.namespace,
        labels: {
          ...stringValues(labels, toLabelValue),
          [LABELS.eventListener]: input.eventListener,
          [LABELS.trigger]: input.trigger,
          [LABELS.eventId]: toLabelValue(input.deliveryId),
          ...reportLabel(input.summary),
        },
        annotations: {
          ...stringValues(annotations, String),
          ...definedValues({
            [ANNOTATIONS.repository]: input.summary.repository,
            [ANNOTATIONS.ref]: input.summary.ref,
            [ANNOTATIONS.commit]: input.summary.commit,
            ...reportAnnotations(input, index),
          }),
          [ANNOTATIONS.bodyDigest]: input.bodyDigest,
        },
      },
    }, input.summary.pushOrder);
    if (!joined.ok) return { ok: false, reason: `TriggerTemplate/${input.template.name} resourcetemplates[${index}]: ${joined.reason}` };
    resources.push(joined.object);
  }
  return { ok: true, resources };
}

interface Splice {
  params: ReadonlyMap<string, string>;
  uid: string;
  oldEscapeQuotes: boolean;
}

const PARAM_PREFIX = '$(tt.params.';

/**
 * One string of the template as Tekton renders it: its JSON encoding (as the API server stores the template), each
 * `$(tt.params.x)` of a known param replaced by the value with `$(` escaped to `$$(` (and `"` to `\"` under the
 * old-escape-quotes annotation), then `$(uid)`, then decoded again. Values are substituted once, in one pass: Tekton
 * substitutes param after param in Go's random map order, so a value holding another `$(tt.params.y)` may or may not
 * see it replaced there; here it never is.
 */
export function spliceTemplateString(text: string, splice: Splice): { ok: true; value: string } | { ok: false; reason: string } {
  if (!text.includes('$(')) return { ok: true, value: text };
  const encoded = goJsonString(text).slice(1, -1);
  let out = '';
  let from = 0;
  const used: string[] = [];
  for (let at = encoded.indexOf(PARAM_PREFIX); at >= 0; at = encoded.indexOf(PARAM_PREFIX, from)) {
    const close = encoded.indexOf(')', at + PARAM_PREFIX.length);
    if (close < 0) break;
    const name = encoded.slice(at + PARAM_PREFIX.length, close);
    const value = splice.params.get(name);
    if (value === undefined) {
      out += encoded.slice(from, at + 1);
      from = at + 1;
      continue;
    }
    const quoted = splice.oldEscapeQuotes ? value.replaceAll('"', () => '\\"') : value;
    out += encoded.slice(from, at) + escapeTektonVariables(quoted);
    from = close + 1;
    used.push(name);
  }
  out = (out + encoded.slice(from)).replaceAll('$(uid)', () => splice.uid);
  try {
    return { ok: true, value: wellFormed(JSON.parse(`"${out}"`) as string) };
  } catch {
    const which = [...new Set(used)].map((name) => `$(tt.params.${name})`).join(', ') || 'a value';
    return {
      ok: false,
      reason: `the value of ${which} does not fit inside a JSON string, where Tekton Triggers splices it into the template's JSON text (a JSON object or array, a quote, a backslash that starts no JSON escape, or a control character), so Tekton would not create this resource as written; the bridge creates nothing`,
    };
  }
}

/** Tekton's escapeTektonVariables: `$(` becomes `$$(`, which Tekton Pipelines reads as a literal `$(`. */
export function escapeTektonVariables(value: string): string {
  return value.replaceAll('$(', () => '$$(');
}

/** Go's decoder turns an escaped lone surrogate into U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** A run built from a commit is reported back to GitHub: it is labelled for the reporter to find and says where. */
function reportLabel(summary: DeliverySummary): Record<string, string> {
  return summary.repository && summary.commit ? { [REPORT_LABEL]: REPORT_OPEN } : {};
}

function reportAnnotations(input: RenderInput, index: number): Record<string, string | undefined> {
  if (!input.summary.repository || !input.summary.commit) return {};
  return {
    [REPORT_ANNOTATIONS.context]: contextName(input.eventListener, input.trigger, index),
    [REPORT_ANNOTATIONS.installationId]: input.summary.installationId,
  };
}

function stringValues(map: unknown, clean: (value: string) => string): Record<string, string> {
  if (map === null || typeof map !== 'object') return {};
  return Object.fromEntries(Object.entries(map).map(([key, value]) => [key, clean(typeof value === 'string' ? value : JSON.stringify(value))]));
}

function definedValues(map: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).filter((entry): entry is [string, string] => entry[1] !== undefined));
}
