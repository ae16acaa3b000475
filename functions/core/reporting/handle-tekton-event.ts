import type { ResourceRef } from '../delivery-types.ts';
import { parseCloudEvent } from './parse-cloud-event.ts';

/** Tekton's events carry the whole run; a generous bound that still refuses a flood. */
export const MAX_EVENT_BYTES = 1024 * 1024;

export interface TektonEventAnswer {
  status: 202 | 400 | 413;
  body: {
    outcome?: string;
    reason?: string;
    error?: string;
    event?: { id: string; type: string };
    run?: { kind: string; namespace: string; name: string };
    reports?: Array<{ outcome: string; state?: string; context?: string; reason: string }>;
  };
}

export interface TektonEventDependencies {
  /** The namespaces the bridge creates runs in; an event about any other is ignored. */
  namespaces: readonly string[];
  /** Reads the run from the Kubernetes API and reports what it says. */
  reportRun: (ref: ResourceRef) => Promise<Array<{ outcome: string; state?: string; context?: string; reason: string }>>;
}

/**
 * `POST /tekton/events`: a CloudEvent names a run, and that is all it is trusted for. The run is read from the
 * Kubernetes API and reported as the API has it, so a forged event can at most make the bridge look at a run.
 */
export async function handleTektonEvent(
  request: { headers: Readonly<Record<string, string | undefined>>; body: Uint8Array; receivedBytes?: number },
  deps: TektonEventDependencies,
): Promise<TektonEventAnswer> {
  const received = request.receivedBytes ?? request.body.byteLength;
  if (received > MAX_EVENT_BYTES) return { status: 413, body: { error: `the event is ${received} bytes; the limit is ${MAX_EVENT_BYTES} bytes` } };
  const text = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8');
  const parsed = parseCloudEvent(request.headers, text);
  if (parsed.ok === false) return { status: 400, body: { error: parsed.error } };
  if (parsed.ok === 'ignored') return { status: 202, body: { outcome: 'ignored', reason: `${parsed.type ?? 'the event'}: ${parsed.reason}` } };
  const { event } = parsed;
  const run = { kind: event.kind, namespace: event.namespace, name: event.name };
  const about = { event: { id: event.id, type: event.type }, run };
  if (!deps.namespaces.includes(event.namespace)) {
    return { status: 202, body: { ...about, outcome: 'ignored', reason: `the bridge creates no runs in namespace ${event.namespace}` } };
  }
  const reports = await deps.reportRun({ apiVersion: 'tekton.dev/v1', ...run });
  const last = reports[reports.length - 1];
  const reported = reports.filter((r) => r.outcome === 'reported');
  const outcome = reported.length > 0 ? 'reported' : (last?.outcome ?? 'unchanged');
  return {
    status: 202,
    body: {
      ...about,
      outcome,
      reason: last?.reason ?? 'nothing to report',
      reports: reports.map(({ outcome: o, state, context, reason }) => ({ outcome: o, state, context, reason })),
    },
  };
}
