import { ConfigError, type ConfigIssue } from './errors.ts';
import { parseBindingValue } from './binding-expressions.ts';
import { compileCel, createCelEnvironment, type CelProgram, type SecretSlot } from './interceptors/cel-environment.ts';
import {
  HYGIENE_ANNOTATIONS,
  REPORT_SKIPPED_ANNOTATION,
  type BindingParam,
  type EventListenerConfig,
  type InterceptorConfig,
  type PushHygiene,
  type TemplateConfig,
  type TriggerConfig,
  type TriggersConfig,
} from './triggers-config.ts';
import type { Environment } from '@marcbachmann/cel-js';

const API_VERSIONS = new Set(['triggers.tekton.dev/v1beta1', 'triggers.tekton.dev/v1alpha1']);
const KINDS = new Set(['EventListener', 'TriggerBinding', 'ClusterTriggerBinding', 'TriggerTemplate', 'Trigger']);
const RESOURCE_API_VERSIONS = new Set(['tekton.dev/v1', 'tekton.dev/v1beta1']);
const RESOURCE_KINDS = new Set(['PipelineRun', 'TaskRun']);
const UNSUPPORTED_INTERCEPTORS = new Set(['gitlab', 'bitbucket', 'slack', 'webhook']);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const TEMPLATE_PARAM = /\$\(\s*tt\.params\.([^)\s]*)\s*\)/g;

type Json = Record<string, unknown>;

interface Doc {
  file: string;
  kind: string;
  name: string;
  namespace: string | undefined;
  object: string;
  raw: Json;
}

interface Where {
  file: string;
  object: string;
}

class Findings {
  readonly errors: ConfigIssue[] = [];
  readonly warnings: ConfigIssue[] = [];

  error(where: Where, field: string, message: string): void {
    this.errors.push({ ...where, field, message });
  }

  warn(where: Where, field: string, message: string): void {
    this.warnings.push({ ...where, field, message });
  }
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Builds the config from Tekton Triggers objects (EventListener, TriggerBinding, TriggerTemplate, Trigger;
 * v1beta1 and the older v1alpha1 spellings), already parsed from YAML: every reference resolved and every CEL
 * expression compiled. Throws ConfigError naming file, object and field of every problem, including `issues`
 * found while parsing.
 */
export function buildTriggersConfig(documents: readonly ConfigDocument[], issues: readonly ConfigIssue[] = []): TriggersConfig {
  const findings = new Findings();
  findings.errors.push(...issues);
  const docs = readDocuments(documents, findings);
  const secretSlot: SecretSlot = { secrets: [] };
  const cel = createCelEnvironment(secretSlot);

  const templates = new Map<string, TemplateConfig>();
  const bindings = new Map<string, BindingParam[]>();
  const standaloneTriggers = new Map<string, Doc>();
  for (const doc of docs) {
    const where = { file: doc.file, object: doc.object };
    if (doc.kind === 'TriggerTemplate') {
      const template = parseTemplateSpec(doc.raw.spec, doc.name, where, 'spec', findings);
      if (template) templates.set(doc.name, template);
    } else if (doc.kind === 'TriggerBinding' || doc.kind === 'ClusterTriggerBinding') {
      bindings.set(`${doc.kind}/${doc.name}`, parseBindingParams(doc.raw.spec, `${doc.kind}/${doc.name}`, where, 'spec', findings));
    } else if (doc.kind === 'Trigger') {
      standaloneTriggers.set(doc.name, doc);
    }
  }

  const lookups: Lookups = { templates, bindings, standaloneTriggers, cel, findings };
  const eventListeners: EventListenerConfig[] = [];
  for (const doc of docs.filter((d) => d.kind === 'EventListener')) {
    const listener = parseEventListener(doc, lookups);
    if (listener) eventListeners.push(listener);
  }
  if (eventListeners.length === 0 && findings.errors.length === 0) {
    const files = [...new Set(documents.map((d) => d.file))].join(', ') || '(no files)';
    findings.error({ file: files, object: '(config)' }, 'kind', 'no EventListener found: the bridge needs at least one');
  }
  if (findings.errors.length > 0) throw new ConfigError(findings.errors);
  return { eventListeners, warnings: findings.warnings, secretSlot };
}

/** One parsed YAML document of the configuration; `value` is its plain JavaScript form. */
export interface ConfigDocument {
  file: string;
  /** 1-based position of the document in its file. */
  index: number;
  value: unknown;
}

function readDocuments(documents: readonly ConfigDocument[], findings: Findings): Doc[] {
  const docs: Doc[] = [];
  const seen = new Map<string, string>();
  for (const { file, index, value: raw } of documents) {
    const position = { file, object: `document ${index}` };
    if (raw === null || raw === undefined) continue;
    if (!isObject(raw)) {
      findings.error(position, '(root)', `expected a Kubernetes object, got ${describe(raw)}`);
      continue;
    }
    const kind = typeof raw.kind === 'string' ? raw.kind : '';
    const metadata = isObject(raw.metadata) ? raw.metadata : {};
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    const where = { file, object: `${kind || '(no kind)'}/${name || `(document ${index})`}` };
    if (!KINDS.has(kind)) {
      findings.error(where, 'kind', `expected one of ${[...KINDS].join(', ')}, got ${describe(raw.kind)}`);
      continue;
    }
    if (typeof raw.apiVersion !== 'string' || !API_VERSIONS.has(raw.apiVersion)) {
      findings.error(where, 'apiVersion', `expected triggers.tekton.dev/v1beta1 (or v1alpha1), got ${describe(raw.apiVersion)}`);
      continue;
    }
    if (!DNS_LABEL.test(name) || name.length > 63) {
      findings.error(where, 'metadata.name', `must be a DNS-1123 label (lower-case letters, digits, "-"; at most 63), got ${describe(metadata.name)}`);
      continue;
    }
    const key = `${kind}/${name}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      findings.error(where, 'metadata.name', `${key} is defined twice (also in ${earlier})`);
      continue;
    }
    seen.set(key, file);
    const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : undefined;
    docs.push({ file, kind, name, namespace, object: key, raw });
  }
  return docs;
}

interface Lookups {
  templates: Map<string, TemplateConfig>;
  bindings: Map<string, BindingParam[]>;
  standaloneTriggers: Map<string, Doc>;
  cel: Environment;
  findings: Findings;
}

function parseEventListener(doc: Doc, lookups: Lookups): EventListenerConfig | undefined {
  const where = { file: doc.file, object: doc.object };
  const { findings } = lookups;
  const spec = doc.raw.spec;
  if (!isObject(spec)) return void findings.error(where, 'spec', `expected a mapping, got ${describe(spec)}`);
  for (const field of ['triggerGroups', 'labelSelector', 'namespaceSelector']) {
    if (spec[field] !== undefined) findings.error(where, `spec.${field}`, 'is not supported by tekton-bridge: list the triggers in spec.triggers');
  }
  if (!Array.isArray(spec.triggers) || spec.triggers.length === 0) {
    return void findings.error(where, 'spec.triggers', `expected a non-empty list, got ${describe(spec.triggers)}`);
  }
  const { reportSkipped, ...hygiene } = parseHygiene(doc, findings);
  const triggers: TriggerConfig[] = [];
  const names = new Set<string>();
  spec.triggers.forEach((item: unknown, index) => {
    const field = `spec.triggers[${index}]`;
    const trigger = parseListenerTrigger(item, index, where, field, lookups);
    if (!trigger) return;
    if (names.has(trigger.name)) return findings.error(where, `${field}.name`, `trigger "${trigger.name}" appears twice in this EventListener`);
    names.add(trigger.name);
    triggers.push(trigger);
  });
  return { name: doc.name, namespace: doc.namespace, file: doc.file, hygiene, reportSkipped, triggers };
}

function parseHygiene(doc: Doc, findings: Findings): PushHygiene & { reportSkipped: boolean } {
  const where = { file: doc.file, object: doc.object };
  const metadata = doc.raw.metadata as Json;
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const known = new Set<string>([...Object.values(HYGIENE_ANNOTATIONS), REPORT_SKIPPED_ANNOTATION]);
  for (const key of Object.keys(annotations)) {
    if (key.startsWith('tekton-bridge/') && !known.has(key)) {
      findings.error(where, `metadata.annotations.${key}`, `unknown tekton-bridge annotation; known: ${[...known].join(', ')}`);
    }
  }
  const flag = (key: string, fallback = true): boolean => {
    const value = annotations[key];
    if (value === undefined) return fallback;
    if (value === 'true' || value === true) return true;
    if (value === 'false' || value === false) return false;
    findings.error(where, `metadata.annotations.${key}`, `expected "true" or "false", got ${describe(value)}`);
    return fallback;
  };
  return {
    skipDeletedBranches: flag(HYGIENE_ANNOTATIONS.skipDeletedBranches),
    skipCiMessages: flag(HYGIENE_ANNOTATIONS.skipCiMessages),
    reportSkipped: flag(REPORT_SKIPPED_ANNOTATION, false),
  };
}

function parseListenerTrigger(item: unknown, index: number, where: Where, field: string, lookups: Lookups): TriggerConfig | undefined {
  const { findings } = lookups;
  if (!isObject(item)) return void findings.error(where, field, `expected a mapping, got ${describe(item)}`);
  if (item.triggerRef !== undefined) {
    if (typeof item.triggerRef !== 'string') return void findings.error(where, `${field}.triggerRef`, 'expected the name of a Trigger');
    const doc = lookups.standaloneTriggers.get(item.triggerRef);
    if (!doc) return void findings.error(where, `${field}.triggerRef`, `no Trigger named "${item.triggerRef}" in the config`);
    return parseTriggerSpec(doc.raw.spec, doc.name, { file: doc.file, object: doc.object }, 'spec', lookups);
  }
  const name = typeof item.name === 'string' ? item.name : `trigger-${index}`;
  if (!DNS_LABEL.test(name) || name.length > 63) {
    return void findings.error(where, `${field}.name`, `must be a DNS-1123 label (it becomes a label value), got ${describe(item.name)}`);
  }
  return parseTriggerSpec(item, name, where, field, lookups);
}

function parseTriggerSpec(spec: unknown, name: string, where: Where, field: string, lookups: Lookups): TriggerConfig | undefined {
  const { findings } = lookups;
  if (!isObject(spec)) return void findings.error(where, field, `expected a mapping, got ${describe(spec)}`);
  const errorsBefore = findings.errors.length;
  const interceptorItems = spec.interceptors ?? [];
  const interceptors: InterceptorConfig[] = [];
  if (!Array.isArray(interceptorItems)) {
    findings.error(where, `${field}.interceptors`, `expected a list, got ${describe(interceptorItems)}`);
  } else {
    interceptorItems.forEach((item: unknown, i) => {
      const interceptor = parseInterceptor(item, where, `${field}.interceptors[${i}]`, lookups);
      if (interceptor) interceptors.push(interceptor);
    });
  }
  const bindings = parseTriggerBindings(spec.bindings, where, `${field}.bindings`, lookups);
  const template = parseTemplateRef(spec.template, where, `${field}.template`, lookups);
  if (!template || findings.errors.length > errorsBefore) return undefined;
  checkParamCoverage(name, bindings, template, where, field, findings);
  return { name, interceptors, bindings, template };
}

function parseInterceptor(item: unknown, where: Where, field: string, lookups: Lookups): InterceptorConfig | undefined {
  const { findings } = lookups;
  if (!isObject(item)) return void findings.error(where, field, `expected a mapping, got ${describe(item)}`);
  let type: string;
  let params: Json;
  let paramsField: string;
  if (item.ref !== undefined) {
    const ref = item.ref;
    if (!isObject(ref) || typeof ref.name !== 'string') return void findings.error(where, `${field}.ref.name`, 'expected the interceptor name (github or cel)');
    type = ref.name;
    paramsField = `${field}.params`;
    params = {};
    const list = item.params ?? [];
    if (!Array.isArray(list)) return void findings.error(where, paramsField, `expected a list of {name, value}, got ${describe(list)}`);
    for (const [i, param] of list.entries()) {
      if (!isObject(param) || typeof param.name !== 'string') return void findings.error(where, `${paramsField}[${i}]`, 'expected {name, value}');
      params[param.name] = param.value;
    }
  } else {
    const inline = ['github', 'cel', ...UNSUPPORTED_INTERCEPTORS].find((key) => item[key] !== undefined);
    if (!inline) return void findings.error(where, field, 'expected ref: {name: github|cel} with params (or the v1alpha1 github:/cel: form)');
    type = inline;
    paramsField = `${field}.${inline}`;
    params = isObject(item[inline]) ? (item[inline] as Json) : {};
  }
  if (type === 'github') return parseGithubInterceptor(params, where, paramsField, findings);
  if (type === 'cel') return parseCelInterceptor(params, where, paramsField, lookups);
  const why = UNSUPPORTED_INTERCEPTORS.has(type) ? 'tekton-bridge receives GitHub deliveries only' : 'unknown interceptor';
  return void findings.error(where, item.ref ? `${field}.ref.name` : field, `interceptor "${type}" is not supported (${why}); use github or cel`);
}

function parseGithubInterceptor(params: Json, where: Where, field: string, findings: Findings): InterceptorConfig | undefined {
  let eventTypes: string[] | undefined;
  let addChangedFiles = false;
  for (const [key, value] of Object.entries(params)) {
    if (key === 'secretRef') {
      // Accepted for compatibility: the bridge verifies signatures with its own secret store.
      if (!isObject(value)) findings.error(where, `${field}.secretRef`, 'expected {secretName, secretKey}');
    } else if (key === 'eventTypes') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
        findings.error(where, `${field}.eventTypes`, `expected a list of event names, got ${describe(value)}`);
      } else {
        eventTypes = value as string[];
      }
    } else if (key === 'addChangedFiles') {
      const enabled = isObject(value) ? value.enabled : value;
      if (typeof enabled !== 'boolean' && enabled !== 'true' && enabled !== 'false') {
        findings.error(where, `${field}.addChangedFiles`, 'expected {enabled: true|false}');
      } else {
        addChangedFiles = enabled === true || enabled === 'true';
      }
    } else {
      findings.error(where, `${field}.${key}`, 'unknown github interceptor param; known: secretRef, eventTypes, addChangedFiles');
    }
  }
  return { type: 'github', eventTypes, addChangedFiles };
}

function parseCelInterceptor(params: Json, where: Where, field: string, lookups: Lookups): InterceptorConfig | undefined {
  const { findings, cel } = lookups;
  let filter: CelProgram | undefined;
  const overlays: { key: string; expression: CelProgram }[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (key === 'filter') {
      if (typeof value !== 'string') {
        findings.error(where, `${field}.filter`, `expected a CEL expression string, got ${describe(value)}`);
        continue;
      }
      const compiled = compileCel(cel, value);
      if (compiled.ok) filter = compiled.program;
      else findings.error(where, `${field}.filter`, `CEL: ${compiled.message}`);
    } else if (key === 'overlays') {
      if (!Array.isArray(value)) {
        findings.error(where, `${field}.overlays`, `expected a list of {key, expression}, got ${describe(value)}`);
        continue;
      }
      value.forEach((overlay: unknown, i) => {
        if (!isObject(overlay) || typeof overlay.key !== 'string' || overlay.key === '' || typeof overlay.expression !== 'string') {
          return findings.error(where, `${field}.overlays[${i}]`, 'expected {key: name, expression: CEL}');
        }
        const compiled = compileCel(cel, overlay.expression);
        if (compiled.ok) overlays.push({ key: overlay.key, expression: compiled.program });
        else findings.error(where, `${field}.overlays[${i}].expression`, `CEL: ${compiled.message}`);
      });
    } else {
      findings.error(where, `${field}.${key}`, 'unknown cel interceptor param; known: filter, overlays');
    }
  }
  return { type: 'cel', filter, overlays };
}

function parseBindingParams(spec: unknown, source: string, where: Where, field: string, findings: Findings): BindingParam[] {
  if (!isObject(spec) || !Array.isArray(spec.params)) {
    findings.error(where, `${field}.params`, 'expected a list of {name, value}');
    return [];
  }
  const params: BindingParam[] = [];
  spec.params.forEach((param: unknown, i) => {
    const binding = parseBindingParam(param, source, where, `${field}.params[${i}]`, findings);
    if (binding) params.push(binding);
  });
  return params;
}

function parseBindingParam(param: unknown, source: string, where: Where, field: string, findings: Findings): BindingParam | undefined {
  if (!isObject(param) || typeof param.name !== 'string' || param.name === '') {
    return void findings.error(where, field, 'expected {name, value}');
  }
  if (typeof param.value !== 'string') {
    return void findings.error(where, `${field}.value`, `expected a string such as $(body.head_commit.id), got ${describe(param.value)}`);
  }
  const parsed = parseBindingValue(param.value);
  if (!parsed.ok) return void findings.error(where, `${field}.value`, parsed.message);
  if (parsed.value.legacySpelling) {
    findings.warn(where, `${field}.value`, `"${param.value}" uses \${…}; Tekton Triggers writes $(…): ${param.value.replace(/\$\{([^{}]*)\}/g, '$($1)')}`);
  }
  return { name: param.name, text: param.value, value: parsed.value, source };
}

function parseTriggerBindings(items: unknown, where: Where, field: string, lookups: Lookups): BindingParam[] {
  const { findings } = lookups;
  if (items === undefined) return [];
  if (!Array.isArray(items)) {
    findings.error(where, field, `expected a list, got ${describe(items)}`);
    return [];
  }
  const params: BindingParam[] = [];
  items.forEach((item: unknown, i) => {
    const itemField = `${field}[${i}]`;
    if (!isObject(item)) return findings.error(where, itemField, `expected a mapping, got ${describe(item)}`);
    // v1alpha1 wrote a reference as {name: binding} without a value.
    const ref = item.ref ?? (item.value === undefined && item.spec === undefined ? item.name : undefined);
    if (typeof ref === 'string') {
      const kind = item.kind === 'ClusterTriggerBinding' ? 'ClusterTriggerBinding' : 'TriggerBinding';
      const found = lookups.bindings.get(`${kind}/${ref}`);
      if (!found) return findings.error(where, `${itemField}.ref`, `no ${kind} named "${ref}" in the config`);
      params.push(...found);
    } else if (item.spec !== undefined) {
      params.push(...parseBindingParams(item.spec, 'inline', where, `${itemField}.spec`, findings));
    } else {
      const param = parseBindingParam(item, 'inline', where, itemField, findings);
      if (param) params.push(param);
    }
  });
  return params;
}

function parseTemplateRef(item: unknown, where: Where, field: string, lookups: Lookups): TemplateConfig | undefined {
  const { findings } = lookups;
  if (!isObject(item)) return void findings.error(where, field, 'expected {ref: template-name} or {spec: …}');
  if (item.spec !== undefined) return parseTemplateSpec(item.spec, 'inline', where, `${field}.spec`, findings);
  const ref = item.ref ?? item.name;
  if (typeof ref !== 'string') return void findings.error(where, `${field}.ref`, 'expected the name of a TriggerTemplate');
  const template = lookups.templates.get(ref);
  if (!template) return void findings.error(where, `${field}.ref`, `no TriggerTemplate named "${ref}" in the config`);
  return template;
}

function parseTemplateSpec(spec: unknown, name: string, where: Where, field: string, findings: Findings): TemplateConfig | undefined {
  if (!isObject(spec)) return void findings.error(where, field, `expected a mapping, got ${describe(spec)}`);
  const errorsBefore = findings.errors.length;
  const params: TemplateConfig['params'] = [];
  const paramItems = spec.params ?? [];
  if (!Array.isArray(paramItems)) findings.error(where, `${field}.params`, `expected a list, got ${describe(paramItems)}`);
  else {
    paramItems.forEach((param: unknown, i) => {
      if (!isObject(param) || typeof param.name !== 'string' || param.name === '') {
        return findings.error(where, `${field}.params[${i}]`, 'expected {name, default?, description?}');
      }
      if (param.default !== undefined && typeof param.default !== 'string') {
        return findings.error(where, `${field}.params[${i}].default`, `expected a string, got ${describe(param.default)}`);
      }
      if (params.some((p) => p.name === param.name)) return findings.error(where, `${field}.params[${i}].name`, `param "${param.name}" is declared twice`);
      params.push({ name: param.name, default: param.default as string | undefined });
    });
  }
  const resources = spec.resourcetemplates;
  if (!Array.isArray(resources) || resources.length === 0) {
    findings.error(where, `${field}.resourcetemplates`, `expected a non-empty list of PipelineRun or TaskRun, got ${describe(resources)}`);
    return undefined;
  }
  resources.forEach((resource: unknown, i) => checkResourceTemplate(resource, params, where, `${field}.resourcetemplates[${i}]`, findings));
  if (findings.errors.length > errorsBefore) return undefined;
  return { name, params, resourcetemplates: resources as Json[] };
}

function checkResourceTemplate(resource: unknown, params: TemplateConfig['params'], where: Where, field: string, findings: Findings): void {
  if (!isObject(resource)) return findings.error(where, field, `expected a PipelineRun or TaskRun, got ${describe(resource)}`);
  if (typeof resource.apiVersion !== 'string' || !RESOURCE_API_VERSIONS.has(resource.apiVersion)) {
    return findings.error(where, `${field}.apiVersion`, `expected tekton.dev/v1 or tekton.dev/v1beta1, got ${describe(resource.apiVersion)}`);
  }
  if (typeof resource.kind !== 'string' || !RESOURCE_KINDS.has(resource.kind)) {
    return findings.error(where, `${field}.kind`, `expected PipelineRun or TaskRun, got ${describe(resource.kind)}`);
  }
  const metadata = resource.metadata;
  if (!isObject(metadata) || (typeof metadata.name !== 'string' && typeof metadata.generateName !== 'string')) {
    return findings.error(where, `${field}.metadata`, 'needs generateName (recommended) or name');
  }
  const spec = isObject(resource.spec) ? resource.spec : {};
  if (spec.resources !== undefined) {
    findings.warn(where, `${field}.spec.resources`, 'PipelineResources were removed from Tekton Pipelines (v0.50); a current cluster rejects this object: clone with the git-clone task into a workspace instead');
  }
  for (const used of collectTemplateParams(resource)) {
    if (!params.some((p) => p.name === used)) {
      findings.error(where, field, `uses $(tt.params.${used}) but the template declares no param "${used}"`);
    }
  }
}

function collectTemplateParams(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string') for (const match of value.matchAll(TEMPLATE_PARAM)) found.add(match[1] ?? '');
  else if (Array.isArray(value)) for (const item of value) collectTemplateParams(item, found);
  else if (isObject(value)) for (const item of Object.values(value)) collectTemplateParams(item, found);
  return found;
}

function checkParamCoverage(trigger: string, bindings: BindingParam[], template: TemplateConfig, where: Where, field: string, findings: Findings): void {
  for (const param of template.params) {
    if (param.default === undefined && !bindings.some((b) => b.name === param.name)) {
      findings.error(where, `${field}.bindings`, `TriggerTemplate/${template.name} param "${param.name}" has no default and no binding of trigger "${trigger}" sets it`);
    }
  }
  for (const binding of bindings) {
    if (!template.params.some((p) => p.name === binding.name)) {
      findings.warn(where, `${field}.bindings`, `binding param "${binding.name}" (${binding.source}) is not a param of TriggerTemplate/${template.name}; it is ignored`);
    }
  }
}
