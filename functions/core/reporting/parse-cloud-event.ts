/** A Tekton CloudEvent about a run, reduced to the run it names: the event is only a hint to read that run. */
export interface RunEvent {
  id: string;
  type: string;
  kind: 'PipelineRun' | 'TaskRun';
  namespace: string;
  name: string;
}

export type ParsedCloudEvent =
  | { ok: true; event: RunEvent }
  | { ok: false; status: 400; error: string }
  | { ok: 'ignored'; type: string | undefined; reason: string };

const RUN_TYPE = /^dev\.tekton\.event\.(pipelinerun|taskrun)\.(queued|started|running|successful|failed|unknown)\.v1$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Tekton's source when the object has no selfLink: `/apis/<group>/<version>/namespaces/<ns>/<Kind>/<name>`. */
const SOURCE_PATH = /\/namespaces\/([^/]+)\/(?:[^/]+)\/([^/]+)$/;
const KINDS = { pipelinerun: 'PipelineRun', taskrun: 'TaskRun' } as const;

interface Attributes {
  specversion?: unknown;
  id?: unknown;
  source?: unknown;
  type?: unknown;
  subject?: unknown;
}

/**
 * CloudEvents 1.0 over HTTP, binary mode (`ce-*` headers, the data as the body) or structured mode
 * (`application/cloudevents+json`), as Tekton Pipelines sends them to its `config-events` sink.
 * Header names lower-cased.
 */
export function parseCloudEvent(headers: Readonly<Record<string, string | undefined>>, body: string): ParsedCloudEvent {
  const mediaType = (headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let attributes: Attributes;
  let data: unknown;
  if (mediaType === 'application/cloudevents-batch+json') {
    return { ok: false, status: 400, error: 'batched CloudEvents are not accepted: send one event per request (binary or structured mode)' };
  }
  if (mediaType === 'application/cloudevents+json') {
    const parsed = parseJson(body);
    if (!parsed.ok) return { ok: false, status: 400, error: `the structured CloudEvent is not valid JSON${parsed.where}` };
    if (!isObject(parsed.value)) return { ok: false, status: 400, error: 'the structured CloudEvent is not a JSON object' };
    attributes = parsed.value;
    data = parsed.value.data;
    if (data === undefined && typeof parsed.value.data_base64 === 'string') {
      const decoded = parseJson(Buffer.from(parsed.value.data_base64, 'base64').toString('utf8'));
      data = decoded.ok ? decoded.value : undefined;
    }
  } else {
    attributes = { specversion: headers['ce-specversion'], id: headers['ce-id'], source: headers['ce-source'], type: headers['ce-type'], subject: headers['ce-subject'] };
    if (attributes.specversion === undefined && attributes.type === undefined) {
      return { ok: false, status: 400, error: 'not a CloudEvent: no ce-specversion and ce-type headers, and the content type is not application/cloudevents+json' };
    }
    if (body.trim() !== '') {
      if (mediaType !== 'application/json' && !mediaType.endsWith('+json')) {
        return { ok: false, status: 400, error: `the event data must be JSON, not ${mediaType ? `"${mediaType}"` : 'an undeclared content type'}` };
      }
      const parsed = parseJson(body);
      if (!parsed.ok) return { ok: false, status: 400, error: `the event data is not valid JSON${parsed.where}` };
      data = parsed.value;
    }
  }

  for (const name of ['specversion', 'id', 'source', 'type'] as const) {
    const value = attributes[name];
    if (typeof value !== 'string' || value === '') return { ok: false, status: 400, error: `the CloudEvent has no ${name} attribute` };
  }
  const { specversion, id, source, type } = attributes as { specversion: string; id: string; source: string; type: string };
  if (specversion !== '1.0') return { ok: false, status: 400, error: `CloudEvents specversion ${JSON.stringify(specversion.slice(0, 20))} is not supported: expected 1.0` };
  const match = RUN_TYPE.exec(type);
  if (!match) return { ok: 'ignored', type: type.slice(0, 120), reason: 'not a PipelineRun or TaskRun event of Tekton Pipelines' };
  const kind = KINDS[match[1] as keyof typeof KINDS];

  const run = isObject(data) ? data[kind === 'PipelineRun' ? 'pipelineRun' : 'taskRun'] : undefined;
  const metadata = isObject(run) && isObject(run.metadata) ? run.metadata : {};
  const fromSource = SOURCE_PATH.exec(source);
  const namespace = metadata.namespace ?? fromSource?.[1];
  const name = metadata.name ?? attributes.subject ?? fromSource?.[2];
  if (typeof namespace !== 'string' || !DNS_LABEL.test(namespace)) return { ok: false, status: 400, error: `the ${kind} event names no valid namespace` };
  if (typeof name !== 'string' || !DNS_SUBDOMAIN.test(name)) return { ok: false, status: 400, error: `the ${kind} event names no valid run name` };
  return { ok: true, event: { id: id.slice(0, 200), type, kind, namespace, name } };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; where: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    // Never quote the body back: the position is enough.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    return { ok: false, where: position ? ` (error at position ${position})` : '' };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
