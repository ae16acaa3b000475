import { checkGroupAnnotations } from './concurrency/group-check.ts';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { legacySpelling, parseBindingValue } from './binding-expressions.ts';
import { NO_FEATURE_MODULES, type CelFeature, type CelFeatureModules } from './cel/feature-modules.ts';
import { overlayKeyProblem } from './cel/overlay-keys.ts';
import type { ServiceAccountRef } from './delivery-types.ts';
import { createCelEnvironment, type CelEnvironment, type CelProgram } from './interceptors/cel-environment.ts';
import { matchesLabels, parseLabelSelector, type LabelSelector } from './label-selector.ts';
import {
  HYGIENE_ANNOTATIONS,
  NAMESPACES_ANNOTATION,
  REPORT_SKIPPED_ANNOTATION,
  RESOURCE_API_VERSIONS,
  RESOURCE_KINDS,
  type BindingParam,
  type EventListenerConfig,
  type InterceptorConfig,
  type PushHygiene,
  type TemplateConfig,
  type TemplateParam,
  type TriggerConfig,
  type TriggerGroupConfig,
  type TriggersConfig,
} from './triggers-config.ts';

const API_VERSIONS = new Set(['triggers.tekton.dev/v1beta1', 'triggers.tekton.dev/v1alpha1']);
const KINDS = new Set(['EventListener', 'TriggerBinding', 'ClusterTriggerBinding', 'TriggerTemplate', 'Trigger']);
/** Tekton's own interceptors the bridge cannot run: they read other providers' deliveries. */
const OTHER_PROVIDERS = new Set(['gitlab', 'bitbucket', 'slack']);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** Tekton's verifyParamDeclarations pattern: these names must be declared params. */
const DECLARED_PARAM = /\$\(tt\.params\.([_a-zA-Z][_a-zA-Z0-9.-]*)\)/g;
const OLD_ESCAPE_ANNOTATION = 'triggers.tekton.dev/old-escape-quotes';
const DEFAULT_NAMESPACE = 'default';

const LISTENER_SPEC_FIELDS = new Set(['serviceAccountName', 'triggers', 'triggerGroups', 'namespaceSelector', 'labelSelector', 'resources', 'cloudEventURI']);
const LISTENER_TRIGGER_FIELDS = new Set(['name', 'triggerRef', 'interceptors', 'bindings', 'template', 'serviceAccountName']);
const TRIGGER_SPEC_FIELDS = new Set(['interceptors', 'bindings', 'template', 'serviceAccountName']);

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

function whereOf(doc: Doc): Where {
  return { file: doc.file, object: doc.object };
}

/**
 * Builds the config from Tekton Triggers objects (EventListener, TriggerBinding, ClusterTriggerBinding,
 * TriggerTemplate, Trigger; v1beta1 and the older v1alpha1 spellings), already parsed from YAML: every reference
 * resolved in its namespace, every selection made, every expression compiled. Throws ConfigError naming file, object
 * and field of every problem, including `issues` found while parsing.
 */
export function buildTriggersConfig(documents: readonly ConfigDocument[], issues: readonly ConfigIssue[] = [], options: BuildOptions = {}): TriggersConfig {
  const findings = new Findings();
  findings.errors.push(...issues);
  const docs = readDocuments(documents, findings);
  const cel = createCelEnvironment(options.celModules ?? NO_FEATURE_MODULES);

  const templates = new Map<Doc, TemplateConfig | undefined>();
  const bindings = new Map<Doc, BindingParam[]>();
  for (const doc of docs) {
    if (doc.kind === 'TriggerTemplate') templates.set(doc, parseTemplateSpec(doc.raw.spec, doc.name, oldEscapeQuotes(doc.raw), whereOf(doc), 'spec', findings));
    else if (doc.kind === 'TriggerBinding' || doc.kind === 'ClusterTriggerBinding') {
      bindings.set(doc, parseBindingParams(doc.raw.spec, doc.object, whereOf(doc), 'spec', findings));
    }
  }

  const lookups: Lookups = { docs, templates, bindings, cel, findings, triggerObjects: new Map(), selected: new Set(), features: new Set() };
  const eventListeners: EventListenerConfig[] = [];
  for (const doc of docs.filter((d) => d.kind === 'EventListener')) {
    const listener = parseEventListener(doc, lookups);
    if (listener) eventListeners.push(listener);
  }
  for (const doc of docs.filter((d) => d.kind === 'Trigger' && !lookups.selected.has(d))) {
    findings.warn(whereOf(doc), 'metadata', 'no EventListener of the config refers to or selects this Trigger: it is never evaluated');
    triggerObject(doc, doc.namespace ?? DEFAULT_NAMESPACE, lookups);
  }
  if (eventListeners.length === 0 && findings.errors.length === 0) {
    const files = [...new Set(documents.map((d) => d.file))].join(', ') || '(no files)';
    findings.error({ file: files, object: '(config)' }, 'kind', 'no EventListener found: the bridge needs at least one');
  }
  if (findings.errors.length > 0) throw new ConfigError(findings.errors);
  const features = [...new Set([...cel.features, ...lookups.features])].sort();
  return { eventListeners, warnings: findings.warnings, cel: { features, usesTriggerSecrets: cel.usesTriggerSecrets } };
}

export interface BuildOptions {
  /** Loads the optional parts of the CEL environment (RE2, YAML) when an expression needs them. */
  celModules?: CelFeatureModules;
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
    if (metadata.namespace !== undefined && (typeof metadata.namespace !== 'string' || !DNS_LABEL.test(metadata.namespace) || metadata.namespace.length > 63)) {
      findings.error(where, 'metadata.namespace', `must be a namespace name (a DNS-1123 label), got ${describe(metadata.namespace)}`);
      continue;
    }
    // ClusterTriggerBindings belong to no namespace.
    const namespace = kind === 'ClusterTriggerBinding' ? undefined : (metadata.namespace as string | undefined);
    const key = `${kind}/${namespace ?? ''}/${name}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      findings.error(where, 'metadata.name', `${kind}/${name}${namespace ? ` in namespace ${namespace}` : ''} is defined twice (also in ${earlier})`);
      continue;
    }
    seen.set(key, file);
    docs.push({ file, kind, name, namespace, object: `${kind}/${name}`, raw });
  }
  return docs;
}

interface Lookups {
  docs: Doc[];
  templates: Map<Doc, TemplateConfig | undefined>;
  bindings: Map<Doc, BindingParam[]>;
  cel: CelEnvironment;
  findings: Findings;
  /** Trigger objects parsed for a namespace (an unnamespaced one belongs to the namespace that looks it up). */
  triggerObjects: Map<string, TriggerConfig | undefined>;
  /** Trigger objects some EventListener refers to or selects. */
  selected: Set<Doc>;
  /** Optional parts needed beyond CEL's own: YAML, for the OWNERS files of githubOwners. */
  features: Set<CelFeature>;
}

/** An object of `kind` named `name` in `namespace`: one of that namespace first, else an unnamespaced one. */
function lookup(lookups: Lookups, kind: string, name: string, namespace: string): Doc | undefined {
  const candidates = lookups.docs.filter((d) => d.kind === kind && d.name === name);
  if (kind === 'ClusterTriggerBinding') return candidates[0];
  return candidates.find((d) => d.namespace === namespace) ?? candidates.find((d) => d.namespace === undefined);
}

/** Where a trigger of an EventListener came from, to name both places when one is selected twice. */
interface Origin {
  trigger: TriggerConfig;
  /** The Trigger object, or undefined for a trigger written inline in spec.triggers. */
  doc: Doc | undefined;
  field: string;
}

function parseEventListener(doc: Doc, lookups: Lookups): EventListenerConfig | undefined {
  const where = whereOf(doc);
  const { findings } = lookups;
  const spec = doc.raw.spec;
  if (!isObject(spec)) return void findings.error(where, 'spec', `expected a mapping, got ${describe(spec)}`);
  const errorsBefore = findings.errors.length;
  const namespace = doc.namespace ?? DEFAULT_NAMESPACE;
  if (doc.name.length > 60) findings.error(where, 'metadata.name', 'an EventListener name has at most 60 characters (Tekton prefixes its Service with "el-")');
  for (const key of Object.keys(spec)) {
    if (!LISTENER_SPEC_FIELDS.has(key)) findings.warn(where, `spec.${key}`, `is no field of an EventListener spec; Tekton Triggers ignores it (known: ${[...LISTENER_SPEC_FIELDS].join(', ')})`);
  }
  if (spec.cloudEventURI !== undefined) {
    findings.error(where, 'spec.cloudEventURI', 'the bridge does not send CloudEvents about trigger processing; remove cloudEventURI (each delivery is logged and answered instead)');
  }
  const account = listenerAccount(doc, spec, namespace, findings);
  const { reportSkipped, ...hygiene } = parseHygiene(doc, findings);

  const origins: Origin[] = [];
  const triggerItems = spec.triggers ?? [];
  if (!Array.isArray(triggerItems)) findings.error(where, 'spec.triggers', `expected a list, got ${describe(triggerItems)}`);
  else {
    triggerItems.forEach((item: unknown, index) => {
      const field = `spec.triggers[${index}]`;
      const origin = parseListenerTrigger(item, index, namespace, where, field, lookups);
      if (origin) origins.push(origin);
    });
  }
  const labelSelector = spec.labelSelector === undefined ? undefined : parseLabelSelector(spec.labelSelector, (field, message) => findings.error(where, `spec.labelSelector${field}`, message));
  const matchNames = parseNamespaceSelector(spec.namespaceSelector, where, 'spec.namespaceSelector', findings);
  for (const selected of selectTriggers(matchNames, labelSelector, spec.labelSelector !== undefined, namespace, lookups)) {
    const field = spec.labelSelector !== undefined ? 'spec.labelSelector' : 'spec.namespaceSelector';
    const trigger = triggerObject(selected.doc, selected.namespace, lookups);
    if (trigger) origins.push({ trigger, doc: selected.doc, field });
  }

  const groups: TriggerGroupConfig[] = [];
  const groupItems = spec.triggerGroups ?? [];
  if (!Array.isArray(groupItems)) findings.error(where, 'spec.triggerGroups', `expected a list, got ${describe(groupItems)}`);
  else {
    groupItems.forEach((item: unknown, index) => {
      const group = parseTriggerGroup(item, namespace, where, `spec.triggerGroups[${index}]`, lookups, origins);
      if (group) groups.push(group);
    });
  }
  if (!hasItems(triggerItems) && !hasItems(groupItems) && spec.labelSelector === undefined && matchNames.length === 0) {
    findings.error(where, 'spec', 'needs triggers, triggerGroups, labelSelector or namespaceSelector');
  }
  checkSelectedOnce(origins, where, findings);
  if (findings.errors.length > errorsBefore) return undefined;
  if (origins.length === 0) findings.warn(where, 'spec', 'selects no trigger: every delivery is answered with no results');

  const withAccount = (trigger: TriggerConfig): TriggerConfig => ({ ...trigger, serviceAccount: trigger.serviceAccount ?? account });
  const grouped = new Set(groups.flatMap((group) => group.triggers));
  const triggers = origins.map((origin) => origin.trigger).filter((trigger) => !grouped.has(trigger)).map(withAccount);
  const triggerGroups = groups.map((group) => ({ ...group, triggers: group.triggers.map(withAccount) }));
  return { name: doc.name, namespace, file: doc.file, hygiene, reportSkipped, allowedNamespaces: parseAllowedNamespaces(doc, findings), triggers, triggerGroups };
}

function hasItems(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}

/**
 * The account Tekton's EventListener pod runs as, which creates what a trigger without its own serviceAccountName
 * renders: resources.kubernetesResource's pod template's, else spec.serviceAccountName; a customResource (Knative
 * Service) pod's own. The pod itself, its replicas and its Service have no counterpart in the bridge: a warning.
 */
function listenerAccount(doc: Doc, spec: Json, namespace: string, findings: Findings): ServiceAccountRef | undefined {
  const where = whereOf(doc);
  let name = accountName(spec.serviceAccountName, where, 'spec.serviceAccountName', findings);
  const resources = spec.resources;
  if (resources !== undefined) {
    if (!isObject(resources)) {
      findings.error(where, 'spec.resources', `expected a mapping, got ${describe(resources)}`);
      return undefined;
    }
    if (resources.kubernetesResource !== undefined && resources.customResource !== undefined) {
      findings.error(where, 'spec.resources', 'give kubernetesResource or customResource, not both');
    }
    for (const key of ['kubernetesResource', 'customResource'] as const) {
      const resource = resources[key];
      if (resource === undefined) continue;
      const field = `spec.resources.${key}`;
      const podSpec = isObject(resource) && isObject(resource.spec) && isObject(resource.spec.template) ? resource.spec.template.spec : undefined;
      const podAccount = isObject(podSpec) ? accountName(podSpec.serviceAccountName, where, `${field}.spec.template.spec.serviceAccountName`, findings) : undefined;
      if (key === 'customResource') name = podAccount;
      else name = podAccount ?? name;
      findings.warn(
        where,
        field,
        `the bridge runs no EventListener pod or Service: replicas, service settings and the pod template have no effect here${podAccount ? `; its serviceAccountName ${podAccount} creates the resources, as in Tekton` : ''}`,
      );
    }
  }
  return name === undefined ? undefined : { namespace, name };
}

function accountName(value: unknown, where: Where, field: string, findings: Findings): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || value.length > 253 || !DNS_SUBDOMAIN.test(value)) {
    findings.error(where, field, `must be a service account name (a DNS-1123 subdomain), got ${describe(value)}`);
    return undefined;
  }
  return value;
}

function parseNamespaceSelector(value: unknown, where: Where, field: string, findings: Findings): string[] {
  if (value === undefined) return [];
  if (!isObject(value)) {
    findings.error(where, field, `expected {matchNames: [namespace, …]}, got ${describe(value)}`);
    return [];
  }
  for (const key of Object.keys(value)) if (key !== 'matchNames') findings.error(where, `${field}.${key}`, 'a namespaceSelector has only matchNames');
  const names = value.matchNames ?? [];
  if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) {
    findings.error(where, `${field}.matchNames`, `expected a list of namespace names (or ["*"] for all), got ${describe(names)}`);
    return [];
  }
  return names as string[];
}

/**
 * Tekton's selectTriggers over the config's Trigger objects: matchNames ["*"] is every namespace, other matchNames
 * those namespaces, none the EventListener's own when a labelSelector is given, and nothing otherwise. An
 * unnamespaced Trigger is in the EventListener's namespace. Sorted by namespace and name.
 */
function selectTriggers(
  matchNames: readonly string[],
  labels: LabelSelector | undefined,
  hasLabelSelector: boolean,
  listenerNamespace: string,
  lookups: Lookups,
): { doc: Doc; namespace: string }[] {
  const all = matchNames.length === 1 && matchNames[0] === '*';
  if (matchNames.length === 0 && !hasLabelSelector) return [];
  return lookups.docs
    .filter((doc) => doc.kind === 'Trigger')
    .map((doc) => ({ doc, namespace: doc.namespace ?? listenerNamespace }))
    .filter(({ namespace }) => all || (matchNames.length > 0 ? matchNames.includes(namespace) : namespace === listenerNamespace))
    .filter(({ doc }) => labels === undefined || matchesLabels(labels, labelsOf(doc)))
    .sort((a, b) => (a.namespace === b.namespace ? a.doc.name.localeCompare(b.doc.name) : a.namespace.localeCompare(b.namespace)));
}

function labelsOf(doc: Doc): Record<string, string> {
  const metadata = doc.raw.metadata as Json;
  if (!isObject(metadata.labels)) return {};
  return Object.fromEntries(Object.entries(metadata.labels).map(([key, value]) => [key, String(value)]));
}

function parseTriggerGroup(item: unknown, namespace: string, where: Where, field: string, lookups: Lookups, origins: Origin[]): TriggerGroupConfig | undefined {
  const { findings } = lookups;
  if (!isObject(item)) return void findings.error(where, field, `expected {name, interceptors, triggerSelector}, got ${describe(item)}`);
  if (typeof item.name !== 'string' || item.name === '') return void findings.error(where, `${field}.name`, `expected the group's name, got ${describe(item.name)}`);
  const interceptors = parseInterceptors(item.interceptors, where, `${field}.interceptors`, lookups);
  if (interceptors && interceptors.length === 0) findings.error(where, `${field}.interceptors`, 'a trigger group needs at least one interceptor');
  const selector = item.triggerSelector;
  if (!isObject(selector)) return void findings.error(where, `${field}.triggerSelector`, 'expected {labelSelector} or {namespaceSelector}');
  const labelSelector = selector.labelSelector === undefined ? undefined : parseLabelSelector(selector.labelSelector, (f, message) => findings.error(where, `${field}.triggerSelector.labelSelector${f}`, message));
  const matchNames = parseNamespaceSelector(selector.namespaceSelector, where, `${field}.triggerSelector.namespaceSelector`, findings);
  if (selector.labelSelector === undefined && matchNames.length === 0) {
    findings.error(where, `${field}.triggerSelector`, 'needs a labelSelector or a namespaceSelector with matchNames');
  }
  const triggers: TriggerConfig[] = [];
  for (const selected of selectTriggers(matchNames, labelSelector, selector.labelSelector !== undefined, namespace, lookups)) {
    const trigger = triggerObject(selected.doc, selected.namespace, lookups);
    if (!trigger) continue;
    triggers.push(trigger);
    origins.push({ trigger, doc: selected.doc, field: `${field}.triggerSelector` });
  }
  if (!interceptors) return undefined;
  return { name: item.name, interceptors, triggers };
}

/**
 * Tekton runs a Trigger as often as it is selected, and names nothing after it; the bridge answers and names runs
 * per trigger, so a Trigger selected twice, or two triggers of one name, would make one run where Tekton makes two.
 */
function checkSelectedOnce(origins: readonly Origin[], where: Where, findings: Findings): void {
  const byName = new Map<string, Origin>();
  for (const origin of origins) {
    const earlier = byName.get(origin.trigger.name);
    if (!earlier) {
      byName.set(origin.trigger.name, origin);
      continue;
    }
    const same = earlier.doc !== undefined && earlier.doc === origin.doc && earlier.trigger.namespace === origin.trigger.namespace;
    findings.error(
      where,
      origin.field,
      same
        ? `Trigger ${origin.trigger.namespace}/${origin.trigger.name} is selected again (first by ${earlier.field}): Tekton would run it twice for each event and the bridge, which names runs per trigger, once; select it once`
        : `a second trigger named "${origin.trigger.name}" (the first from ${earlier.field}): the bridge answers and names runs per trigger name; rename one`,
    );
  }
}

function parseListenerTrigger(item: unknown, index: number, namespace: string, where: Where, field: string, lookups: Lookups): Origin | undefined {
  const { findings } = lookups;
  if (!isObject(item)) return void findings.error(where, field, `expected a mapping, got ${describe(item)}`);
  for (const key of Object.keys(item)) {
    if (!LISTENER_TRIGGER_FIELDS.has(key)) findings.warn(where, `${field}.${key}`, `is no field of an EventListener trigger; Tekton Triggers ignores it (known: ${[...LISTENER_TRIGGER_FIELDS].join(', ')})`);
  }
  if (item.triggerRef !== undefined) {
    if (typeof item.triggerRef !== 'string' || item.triggerRef === '') return void findings.error(where, `${field}.triggerRef`, 'expected the name of a Trigger');
    for (const key of ['template', 'bindings', 'interceptors']) {
      if (item[key] !== undefined) findings.error(where, `${field}.${key}`, 'give triggerRef or template, bindings and interceptors, not both');
    }
    for (const key of ['name', 'serviceAccountName']) {
      if (item[key] !== undefined) findings.warn(where, `${field}.${key}`, `Tekton Triggers ignores ${key} next to triggerRef: the Trigger's own is used`);
    }
    const doc = lookup(lookups, 'Trigger', item.triggerRef, namespace);
    if (!doc) return void findings.error(where, `${field}.triggerRef`, `no Trigger named "${item.triggerRef}" in namespace ${namespace} in the config`);
    const trigger = triggerObject(doc, namespace, lookups);
    return trigger && { trigger, doc, field: `${field}.triggerRef` };
  }
  const name = typeof item.name === 'string' && item.name !== '' ? item.name : `trigger-${index}`;
  if (!LABEL_VALUE.test(name) || name.length > 63) {
    return void findings.error(where, `${field}.name`, `must be a valid label value (it becomes the triggers.tekton.dev/trigger label), got ${describe(item.name)}`);
  }
  const trigger = parseTriggerSpec(item, name, namespace, where, field, lookups);
  return trigger && { trigger, doc: undefined, field };
}

/** A Trigger object as seen from `namespace` (its own, or the looking EventListener's when it has none). */
function triggerObject(doc: Doc, namespace: string, lookups: Lookups): TriggerConfig | undefined {
  lookups.selected.add(doc);
  const key = `${doc.file}\0${doc.object}\0${doc.namespace ?? ''}\0${namespace}`;
  if (!lookups.triggerObjects.has(key)) {
    const where = whereOf(doc);
    const spec = doc.raw.spec;
    if (isObject(spec)) {
      for (const field of Object.keys(spec)) {
        if (!TRIGGER_SPEC_FIELDS.has(field)) lookups.findings.warn(where, `spec.${field}`, `is no field of a Trigger spec; Tekton Triggers ignores it (known: ${[...TRIGGER_SPEC_FIELDS].join(', ')})`);
      }
    }
    lookups.triggerObjects.set(key, parseTriggerSpec(spec, doc.name, namespace, where, 'spec', lookups));
  }
  return lookups.triggerObjects.get(key);
}

function parseTriggerSpec(spec: unknown, name: string, namespace: string, where: Where, field: string, lookups: Lookups): TriggerConfig | undefined {
  const { findings } = lookups;
  if (!isObject(spec)) return void findings.error(where, field, `expected a mapping, got ${describe(spec)}`);
  const errorsBefore = findings.errors.length;
  const interceptors = parseInterceptors(spec.interceptors, where, `${field}.interceptors`, lookups) ?? [];
  const bindings = parseTriggerBindings(spec.bindings, namespace, where, `${field}.bindings`, lookups);
  const template = parseTemplateRef(spec.template, namespace, where, `${field}.template`, lookups);
  const account = accountName(spec.serviceAccountName, where, `${field}.serviceAccountName`, findings);
  if (!template || findings.errors.length > errorsBefore) return undefined;
  checkParams(name, bindings, template, where, field, findings);
  return { name, namespace, interceptors, bindings, template, serviceAccount: account === undefined ? undefined : { namespace, name: account } };
}

function parseInterceptors(items: unknown, where: Where, field: string, lookups: Lookups): InterceptorConfig[] | undefined {
  if (items === undefined) return [];
  if (!Array.isArray(items)) return void lookups.findings.error(where, field, `expected a list, got ${describe(items)}`);
  const interceptors: InterceptorConfig[] = [];
  items.forEach((item: unknown, i) => {
    const interceptor = parseInterceptor(item, where, `${field}[${i}]`, lookups);
    if (interceptor) interceptors.push(interceptor);
  });
  return interceptors;
}

function parseHygiene(doc: Doc, findings: Findings): PushHygiene & { reportSkipped: boolean } {
  const where = { file: doc.file, object: doc.object };
  const metadata = doc.raw.metadata as Json;
  const annotations = isObject(metadata.annotations) ? metadata.annotations : {};
  const known = new Set<string>([...Object.values(HYGIENE_ANNOTATIONS), NAMESPACES_ANNOTATION, REPORT_SKIPPED_ANNOTATION]);
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

function parseAllowedNamespaces(doc: Doc, findings: Findings): string[] {
  const annotations = (doc.raw.metadata as Json).annotations;
  const value = isObject(annotations) ? annotations[NAMESPACES_ANNOTATION] : undefined;
  if (value === undefined) return [];
  const where = { file: doc.file, object: doc.object };
  const field = `metadata.annotations.${NAMESPACES_ANNOTATION}`;
  if (typeof value !== 'string') {
    findings.error(where, field, `expected a comma-separated list of namespaces, got ${describe(value)}`);
    return [];
  }
  const namespaces = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  for (const namespace of namespaces) {
    if (!DNS_LABEL.test(namespace) || namespace.length > 63) findings.error(where, field, `"${namespace}" is not a namespace name (a DNS-1123 label)`);
  }
  return namespaces;
}

function parseInterceptor(item: unknown, where: Where, field: string, lookups: Lookups): InterceptorConfig | undefined {
  const { findings } = lookups;
  if (!isObject(item)) return void findings.error(where, field, `expected a mapping, got ${describe(item)}`);
  let type: string;
  let params: Json;
  let paramsField: string;
  if (item.webhook !== undefined) {
    return void findings.error(where, `${field}.webhook`, 'webhook interceptors are not supported: the bridge calls no services of its own; use the github and cel interceptors');
  }
  if (item.ref !== undefined) {
    const ref = item.ref;
    if (!isObject(ref) || typeof ref.name !== 'string') return void findings.error(where, `${field}.ref.name`, 'expected the interceptor name (github or cel)');
    if (ref.kind !== undefined && ref.kind !== 'ClusterInterceptor') {
      return void findings.error(where, `${field}.ref.kind`, `${describe(ref.kind)} interceptors are not supported: the bridge runs only Tekton's github and cel ClusterInterceptors, in-process`);
    }
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
    const inline = ['github', 'cel', ...OTHER_PROVIDERS].find((key) => item[key] !== undefined);
    if (!inline) return void findings.error(where, field, 'expected ref: {name: github|cel} with params (or the v1alpha1 github:/cel: form)');
    type = inline;
    paramsField = `${field}.${inline}`;
    params = isObject(item[inline]) ? (item[inline] as Json) : {};
  }
  if (type === 'github') return parseGithubInterceptor(params, where, paramsField, lookups);
  if (type === 'cel') return parseCelInterceptor(params, where, paramsField, lookups);
  const why = OTHER_PROVIDERS.has(type) ? 'tekton-bridge receives GitHub deliveries only' : 'custom interceptors are not supported: the bridge runs only github and cel, in-process';
  return void findings.error(where, item.ref ? `${field}.ref.name` : field, `interceptor "${type}" is not supported (${why}); use github or cel`);
}

const CREDENTIALS_NOTE = "is not read: the bridge calls GitHub's API with its own GitHub credentials (GITHUB_CREDENTIALS_SECRET_ARN; serve --github-token)";
const CHECK_TYPES = ['orgMembers', 'repoMembers', 'all', 'none'];

/**
 * A field of interceptor params as Go's encoding/json finds it for Tekton: the exact name, else any spelling that
 * differs only in case (`CheckType` is `checkType`).
 */
function goField(object: Json, name: string): { key: string; value: unknown } | undefined {
  if (object[name] !== undefined) return { key: name, value: object[name] };
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : { key, value: object[key] };
}

function parseGithubInterceptor(params: Json, where: Where, field: string, lookups: Lookups): InterceptorConfig | undefined {
  const { findings } = lookups;
  let eventTypes: string[] | undefined;
  let addChangedFiles = false;
  let owners: { checkType: string } | undefined;
  const known = ['secretRef', 'eventTypes', 'addChangedFiles', 'githubOwners'];
  for (const key of Object.keys(params)) {
    if (!known.some((name) => name.toLowerCase() === key.toLowerCase())) {
      findings.error(where, `${field}.${key}`, 'unknown github interceptor param; known: secretRef, eventTypes, addChangedFiles, githubOwners');
    }
  }
  const secretRef = goField(params, 'secretRef');
  if (secretRef) {
    // The bridge has verified X-Hub-Signature-256 with its own webhook secret before any trigger runs.
    const ref = isObject(secretRef.value) ? secretRef.value : undefined;
    if (!ref || typeof goField(ref, 'secretName')?.value !== 'string' || typeof goField(ref, 'secretKey')?.value !== 'string') {
      findings.error(where, `${field}.${secretRef.key}`, 'expected {secretName, secretKey}');
    } else if (goField(ref, 'secretKey')?.value === '') {
      findings.error(where, `${field}.${secretRef.key}.secretKey`, 'is empty: Tekton Triggers fails every event with "github interceptor secretRef.secretKey is empty"');
    }
  }
  const types = goField(params, 'eventTypes');
  if (types) {
    if (!Array.isArray(types.value) || !types.value.every((v) => typeof v === 'string')) {
      findings.error(where, `${field}.${types.key}`, `expected a list of event names, got ${describe(types.value)}`);
    } else {
      eventTypes = types.value as string[];
    }
  }
  const changed = goField(params, 'addChangedFiles');
  if (changed) {
    const at = `${field}.${changed.key}`;
    addChangedFiles = enabledFlag(changed.value, where, at, findings);
    if (addChangedFiles && isObject(changed.value)) tokenRef(changed.value, at, 'error getting secret: github interceptor githubToken.secretKey is empty', where, findings);
  }
  const ownersParam = goField(params, 'githubOwners');
  if (ownersParam) {
    const at = `${field}.${ownersParam.key}`;
    if (enabledFlag(ownersParam.value, where, at, findings) && isObject(ownersParam.value)) {
      const value = ownersParam.value;
      const checkTypeField = goField(value, 'checkType');
      const checkType = checkTypeField?.value ?? '';
      if (typeof checkType !== 'string') findings.error(where, `${at}.${checkTypeField?.key}`, `expected one of ${CHECK_TYPES.join(', ')}, got ${describe(checkType)}`);
      else {
        const hasToken = tokenRef(value, at, 'error getting github token: github interceptor personalAccessToken.secretKey is empty', where, findings);
        if (!hasToken && checkType !== 'none') {
          findings.error(
            where,
            `${at}.personalAccessToken`,
            `is needed with checkType ${checkType === '' ? '(unset)' : checkType}: Tekton Triggers fails every pull request and issue comment with "checkType is set to check org or repo members but no personalAccessToken was supplied" (the bridge then asks GitHub with its own credentials)`,
          );
        }
        if (checkType !== '' && !CHECK_TYPES.includes(checkType)) {
          findings.warn(where, `${at}.${checkTypeField?.key}`, `"${checkType}" is not a checkType Tekton Triggers knows (${CHECK_TYPES.join(', ')}): only the OWNERS file is consulted`);
        }
        if (addChangedFiles) {
          findings.warn(where, at, 'is never checked: with addChangedFiles enabled in the same interceptor, Tekton Triggers returns after the changed files; put githubOwners in a github interceptor of its own');
        }
        owners = { checkType };
      }
    }
  }
  if (owners === undefined || addChangedFiles) return { type: 'github', eventTypes, addChangedFiles };
  // The OWNERS file is YAML.
  lookups.features.add('yaml');
  return { type: 'github', eventTypes, addChangedFiles, owners };
}

/** `enabled: true` (or "true"); anything but a boolean is an error. */
function enabledFlag(value: unknown, where: Where, at: string, findings: Findings): boolean {
  const enabled = isObject(value) ? goField(value, 'enabled')?.value : value;
  if (enabled !== undefined && typeof enabled !== 'boolean' && enabled !== 'true' && enabled !== 'false') {
    findings.error(where, at, 'expected {enabled: true|false}');
    return false;
  }
  return enabled === true || enabled === 'true';
}

/**
 * Tekton's personalAccessToken secretRef: the bridge reads no Kubernetes Secret and calls GitHub with its own
 * credentials (a note says so); an empty secretKey fails every event in Tekton, so it is an error here.
 */
function tokenRef(value: Json, at: string, tektonError: string, where: Where, findings: Findings): boolean {
  const token = goField(value, 'personalAccessToken');
  if (token === undefined || token.value === null) return false;
  const key = isObject(token.value) ? goField(token.value, 'secretKey')?.value : undefined;
  if (!isObject(token.value) || typeof goField(token.value, 'secretName')?.value !== 'string') {
    findings.error(where, `${at}.${token.key}`, 'expected {secretName, secretKey}');
  } else if (key === undefined || key === '') {
    findings.error(where, `${at}.${token.key}.secretKey`, `is empty: Tekton Triggers fails every event with "${tektonError}"`);
  } else {
    findings.warn(where, `${at}.${token.key}`, CREDENTIALS_NOTE);
  }
  return true;
}

function parseCelInterceptor(params: Json, where: Where, field: string, lookups: Lookups): InterceptorConfig | undefined {
  const { findings, cel } = lookups;
  let filter: CelProgram | undefined;
  const overlays: { key: string; expression: CelProgram }[] = [];
  const compile = (source: string, at: string): CelProgram | undefined => {
    const compiled = cel.compile(source);
    if (!compiled.ok) return void findings.error(where, at, `CEL: ${compiled.message}`);
    for (const warning of compiled.warnings) findings.warn(where, at, warning);
    return compiled.program;
  };
  for (const [key, value] of Object.entries(params)) {
    if (key === 'filter') {
      if (typeof value !== 'string') {
        findings.error(where, `${field}.filter`, `expected a CEL expression string, got ${describe(value)}`);
        continue;
      }
      filter = compile(value, `${field}.filter`);
    } else if (key === 'overlays') {
      if (!Array.isArray(value)) {
        findings.error(where, `${field}.overlays`, `expected a list of {key, expression}, got ${describe(value)}`);
        continue;
      }
      value.forEach((overlay: unknown, i) => {
        if (!isObject(overlay) || typeof overlay.key !== 'string' || overlay.key === '' || typeof overlay.expression !== 'string') {
          return findings.error(where, `${field}.overlays[${i}]`, 'expected {key: name, expression: CEL}');
        }
        const keyProblem = overlayKeyProblem(overlay.key);
        if (keyProblem) return findings.error(where, `${field}.overlays[${i}].key`, keyProblem);
        const expression = compile(overlay.expression, `${field}.overlays[${i}].expression`);
        if (expression) overlays.push({ key: overlay.key, expression });
      });
    } else {
      findings.error(where, `${field}.${key}`, 'unknown cel interceptor param; known: filter, overlays');
    }
  }
  return { type: 'cel', filter, overlays };
}

function parseBindingParams(spec: unknown, source: string, where: Where, field: string, findings: Findings): BindingParam[] {
  if (spec === undefined || (isObject(spec) && spec.params === undefined)) return [];
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
  const legacy = legacySpelling(param.value);
  if (legacy) {
    findings.warn(where, `${field}.value`, `${legacy} is no Tekton Triggers expression and stays as written; write $(${legacy.slice(2, -1)})`);
  }
  return { name: param.name, value: parsed.value, source };
}

function parseTriggerBindings(items: unknown, namespace: string, where: Where, field: string, lookups: Lookups): BindingParam[] {
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
    if (item.ref !== undefined && item.name !== undefined) return findings.error(where, itemField, 'give ref (a binding object) or name and value (one param), not both');
    // v1alpha1 wrote a reference as {name: binding} without a value.
    const ref = item.ref ?? (item.value === undefined && item.spec === undefined ? item.name : undefined);
    if (typeof ref === 'string') {
      const kind = item.kind ?? 'TriggerBinding';
      if (kind !== 'TriggerBinding' && kind !== 'ClusterTriggerBinding') return findings.error(where, `${itemField}.kind`, `expected TriggerBinding or ClusterTriggerBinding, got ${describe(kind)}`);
      const doc = lookup(lookups, kind, ref, namespace);
      if (!doc) return findings.error(where, `${itemField}.ref`, `no ${kind} named "${ref}"${kind === 'TriggerBinding' ? ` in namespace ${namespace}` : ''} in the config`);
      params.push(...(lookups.bindings.get(doc) ?? []));
    } else if (item.spec !== undefined) {
      params.push(...parseBindingParams(item.spec, 'inline', where, `${itemField}.spec`, findings));
    } else {
      const param = parseBindingParam(item, 'inline', where, itemField, findings);
      if (param) params.push(param);
    }
  });
  const sources = new Map<string, string>();
  for (const param of params) {
    const earlier = sources.get(param.name);
    if (earlier !== undefined) {
      findings.error(where, field, `param "${param.name}" is bound twice (${earlier} and ${param.source}): Tekton Triggers fails such a trigger on every event ("duplicate param name")`);
    }
    sources.set(param.name, param.source);
  }
  return params;
}

function parseTemplateRef(item: unknown, namespace: string, where: Where, field: string, lookups: Lookups): TemplateConfig | undefined {
  const { findings } = lookups;
  if (!isObject(item)) return void findings.error(where, field, 'expected {ref: template-name} or {spec: …}');
  const ref = item.ref ?? item.name;
  if (item.spec !== undefined && ref !== undefined) return void findings.error(where, field, 'give ref or spec, not both');
  if (item.spec !== undefined) return parseTemplateSpec(item.spec, 'inline', false, where, `${field}.spec`, findings);
  if (typeof ref !== 'string' || ref === '') return void findings.error(where, `${field}.ref`, 'expected the name of a TriggerTemplate');
  const doc = lookup(lookups, 'TriggerTemplate', ref, namespace);
  if (!doc) return void findings.error(where, `${field}.ref`, `no TriggerTemplate named "${ref}" in namespace ${namespace} in the config`);
  return lookups.templates.get(doc);
}

function oldEscapeQuotes(raw: Json): boolean {
  const metadata = raw.metadata as Json;
  return isObject(metadata.annotations) && Object.hasOwn(metadata.annotations, OLD_ESCAPE_ANNOTATION);
}

function parseTemplateSpec(spec: unknown, name: string, oldEscape: boolean, where: Where, field: string, findings: Findings): TemplateConfig | undefined {
  if (!isObject(spec)) return void findings.error(where, field, `expected a mapping, got ${describe(spec)}`);
  const errorsBefore = findings.errors.length;
  const params: TemplateParam[] = [];
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
  return { name, params, resourcetemplates: resources as Json[], oldEscapeQuotes: oldEscape };
}

function checkResourceTemplate(resource: unknown, params: readonly TemplateParam[], where: Where, field: string, findings: Findings): void {
  if (!isObject(resource)) return findings.error(where, field, `expected a PipelineRun or TaskRun, got ${describe(resource)}`);
  if (typeof resource.kind !== 'string' || !RESOURCE_KINDS.has(resource.kind) || typeof resource.apiVersion !== 'string' || !RESOURCE_API_VERSIONS.has(resource.apiVersion)) {
    const what = `${describe(resource.apiVersion)} ${describe(resource.kind)}`;
    return findings.error(where, `${field}.kind`, `the bridge creates only Tekton PipelineRuns and TaskRuns (tekton.dev/v1 or v1beta1), got ${what}`);
  }
  const metadata = resource.metadata;
  if (!isObject(metadata) || (typeof metadata.name !== 'string' && typeof metadata.generateName !== 'string')) {
    return findings.error(where, `${field}.metadata`, 'needs generateName (recommended) or name');
  }
  if (typeof metadata.name === 'string' && !metadata.name.includes('$(')) {
    findings.warn(where, `${field}.metadata.name`, `is fixed ("${metadata.name}"): the first delivery creates it and every later one answers duplicate; use generateName`);
  }
  const spec = isObject(resource.spec) ? resource.spec : {};
  checkGroupAnnotations(resource.kind, metadata.annotations, spec, { error: (f, m) => findings.error(where, `${field}.${f}`, m), warn: (f, m) => findings.warn(where, `${field}.${f}`, m) });
  if (spec.resources !== undefined) {
    findings.warn(where, `${field}.spec.resources`, 'PipelineResources were removed from Tekton Pipelines (v0.50); a current cluster rejects this object: clone with the git-clone task into a workspace instead');
  }
  for (const used of collectDeclaredParams(resource)) {
    if (!params.some((p) => p.name === used)) {
      findings.error(where, field, `uses $(tt.params.${used}) but the template declares no param "${used}"`);
    }
  }
}

/** The names Tekton's validation requires to be declared, in values and in keys alike. */
function collectDeclaredParams(value: unknown, found = new Set<string>()): Set<string> {
  const scan = (text: string): void => {
    for (const match of text.matchAll(DECLARED_PARAM)) found.add(match[1] ?? '');
  };
  if (typeof value === 'string') scan(value);
  else if (Array.isArray(value)) for (const item of value) collectDeclaredParams(item, found);
  else if (isObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      scan(key);
      collectDeclaredParams(item, found);
    }
  }
  return found;
}

function checkParams(trigger: string, bindings: readonly BindingParam[], template: TemplateConfig, where: Where, field: string, findings: Findings): void {
  for (const param of template.params) {
    if (param.default === undefined && !bindings.some((b) => b.name === param.name)) {
      findings.warn(
        where,
        `${field}.bindings`,
        `TriggerTemplate/${template.name} param "${param.name}" has no default and no binding of trigger "${trigger}" sets it: $(tt.params.${param.name}) stays in the resource as written, as in Tekton Triggers`,
      );
    }
  }
  for (const binding of bindings) {
    if (!template.params.some((p) => p.name === binding.name)) {
      findings.warn(where, `${field}.bindings`, `binding param "${binding.name}" (${binding.source}) is not a param of TriggerTemplate/${template.name}: it is evaluated (a failure fails the trigger, as in Tekton) but the template cannot use it`);
    }
  }
}
