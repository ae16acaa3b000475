import type { Answer, CreateResource, DeliveryRequest, EnqueueCreation, KubernetesObject, ResourceRef, TriggerResult } from './delivery-types.ts';
import { summarizeDelivery, type DeliverySummary } from './delivery-summary.ts';
import type { TriggerSecretStore } from './cel/evaluation-scope.ts';
import { crashReason } from './errors.ts';
import { evaluateTriggers, type TriggerDecision } from './evaluate-triggers.ts';
import { plannedGithubLookups, unavailableLookups, type GithubLookups, type PlannedLookups } from './interceptors/github-lookups.ts';
import { parseDelivery } from './parse-delivery.ts';
import { DEFAULT_MAX_PUSH_AGE_MS, pushAgeRefusal } from './push-age.ts';
import { bodyDigestOf } from './resource-names.ts';
import { deliveryGroups } from './concurrency/delivery-groups.ts';
import type { GroupRef } from './concurrency/group-annotations.ts';
import { runSigningKey, signaturesOf, signRenderedRuns } from './run-signature.ts';
import type { EventListenerConfig, TriggersConfig } from './triggers-config.ts';
import { isUsableSecret, verifyDelivery } from './verify-delivery.ts';

/** API Gateway's payload limit for a Lambda integration; GitHub caps deliveries at 25 MB. */
export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

export interface DeliveryDependencies {
  config: TriggersConfig;
  /** The current webhook secret (empty or whitespace ones are refused: they would verify anyone's signature). */
  secrets: readonly string[];
  /**
   * The previous secret(s) while a rotation may still be under way, asked for only when no current secret verifies a
   * well-formed signature, so the common path reads no more than the current one.
   */
  previousSecrets?: () => Promise<readonly string[]>;
  /** The wall clock, epoch milliseconds: a push older than `maxPushAgeMs` by it is refused. */
  wallClock: () => number;
  /** Default DEFAULT_MAX_PUSH_AGE_MS (72 h); 0 turns the check off. */
  maxPushAgeMs?: number;
  /** Absent: dry run — nothing is created and the rendered resources are answered. */
  createResource?: CreateResource;
  /** Absent: a failure is answered as failed. Present: what could not be created goes to the retry queue. */
  enqueue?: EnqueueCreation;
  maxBodyBytes?: number;
  /** Monotonic milliseconds, for the timings in the report and CEL's time budget; the core keeps no clock of its own. */
  now?: () => number;
  /** The trigger secrets CEL's compareSecret reads (Tekton reads a Kubernetes Secret); absent: none are configured. */
  triggerSecrets?: TriggerSecretStore;
  /** How long CEL may take over the whole delivery (default 1000 ms); needs `now`. */
  celBudgetMs?: number;
  /**
   * Asks GitHub's API what the github interceptors need for this delivery (a pull request's files, owners checks),
   * before evaluation, within the delivery's time; called only when some are needed. Absent: each such trigger fails.
   */
  lookupGithub?: (planned: PlannedLookups) => Promise<GithubLookups>;
}

export interface DeliveryTimings {
  verifyMs: number;
  parseMs: number;
  /** Waiting for GitHub's API (the github interceptors' lookups). */
  githubMs: number;
  evaluateMs: number;
  createMs: number;
}

/** The answer for the client, and what the adapters log about the delivery. */
export interface DeliveryReport {
  answer: Answer;
  /** X-GitHub-Delivery as sent. Only with `signatureVerified` did it come with a body signed with the secret. */
  deliveryId: string | undefined;
  signatureVerified: boolean;
  event: string | undefined;
  eventListener: string | undefined;
  summary: DeliverySummary;
  timings: DeliveryTimings;
  /** How long each trigger took to create (or queue) its resources, by trigger name. */
  triggerDurationsMs: Record<string, number>;
  /** The concurrency groups its runs joined: the adapters settle them (cancel, start, prune) after the delivery. */
  groups?: GroupRef[];
}

const NO_SUMMARY: DeliverySummary = { repository: undefined, ref: undefined, commit: undefined };

/** One GitHub delivery, from raw bytes to the answer: verify, parse, evaluate, render, create. */
export async function handleDelivery(request: DeliveryRequest, deps: DeliveryDependencies): Promise<DeliveryReport> {
  const now = deps.now ?? (() => 0);
  const timings: DeliveryTimings = { verifyMs: 0, parseMs: 0, githubMs: 0, evaluateMs: 0, createMs: 0 };
  const headerDeliveryId = request.headers['x-github-delivery'] || undefined;
  const headerEvent = request.headers['x-github-event'] || undefined;
  let signatureVerified = false;
  const reject = (status: number, error: string, eventListener?: string): DeliveryReport => ({
    answer: { status, body: { deliveryId: headerDeliveryId, event: headerEvent, error } },
    deliveryId: headerDeliveryId,
    signatureVerified,
    event: headerEvent,
    eventListener,
    summary: NO_SUMMARY,
    timings,
    triggerDurationsMs: {},
  });

  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const receivedBytes = request.receivedBytes ?? request.body.byteLength;
  if (receivedBytes > maxBodyBytes) {
    return reject(413, `body is ${receivedBytes} bytes; the limit is ${maxBodyBytes} bytes`);
  }
  if (!deps.secrets.some(isUsableSecret)) {
    return reject(503, "the bridge's webhook secret is empty or whitespace, which would accept anyone's signature: set a real secret");
  }
  let secrets = deps.secrets.filter(isUsableSecret);
  // Runs are signed with the current secret, whichever one verified the delivery.
  const signingKey = runSigningKey(secrets[0] as string);
  let start = now();
  let signature = verifyDelivery(request.body, request.headers, secrets);
  timings.verifyMs = now() - start;
  if (!signature.valid && signature.mismatch && deps.previousSecrets) {
    // Without the previous secret the delivery is a 401, as it would be after the grace period.
    const previous = (await deps.previousSecrets().catch(() => [])).filter(isUsableSecret);
    if (previous.length > 0) {
      start = now();
      signature = verifyDelivery(request.body, request.headers, previous);
      timings.verifyMs += now() - start;
      secrets = [...secrets, ...previous];
    }
  }
  if (!signature.valid) return reject(401, signature.reason);
  signatureVerified = true;

  start = now();
  const text = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8');
  const parsed = parseDelivery(text, request.headers);
  timings.parseMs = now() - start;
  if (!parsed.ok) return reject(parsed.status, parsed.error);
  const { event, deliveryId, payload } = parsed;
  const tooOld = pushAgeRefusal(event, payload, deps.wallClock(), deps.maxPushAgeMs ?? DEFAULT_MAX_PUSH_AGE_MS);
  if (tooOld) return reject(403, tooOld);
  const summary = summarizeDelivery(payload);
  const bodyDigest = bodyDigestOf(request.body);
  const triggerDurationsMs: Record<string, number> = {};
  const report = (answer: Answer, eventListener?: string): DeliveryReport => ({
    answer,
    deliveryId,
    signatureVerified,
    event,
    eventListener,
    summary,
    timings,
    triggerDurationsMs,
  });

  if (event === 'ping') {
    const zen = typeof payload.zen === 'string' ? payload.zen : undefined;
    return report({ status: 200, body: { deliveryId, event, pong: true, zen } });
  }
  const listener = selectListener(deps.config.eventListeners, request.listenerPath ?? '');
  if (typeof listener === 'string') return reject(404, listener);

  start = now();
  const github = await githubAnswers(plannedGithubLookups(listener, event, payload), deps.lookupGithub);
  timings.githubMs = now() - start;

  start = now();
  const cel = { triggerSecrets: deps.triggerSecrets, now: deps.now, budgetMs: deps.celBudgetMs };
  const decisions: TriggerDecision[] = evaluateTriggers({ listener, deliveryId, event, headers: request.headers, payload, summary, bodyDigest, requestURL: request.requestURL, cel, github }).map(
    (decision) => signRenderedRuns(decision, signingKey),
  );
  timings.evaluateMs = now() - start;

  start = now();
  const dryRun = deps.createResource === undefined;
  const settle = { deliveryId, event, eventListener: listener.name, bodyDigest, summary, createResource: deps.createResource, enqueue: deps.enqueue };
  const results = await Promise.all(
    decisions.map(async (decision) => {
      const triggerStart = now();
      // An adapter that throws instead of answering fails this trigger alone.
      const result = await settleDecision(decision, settle).catch(
        (error: unknown): TriggerResult => ({ trigger: decision.trigger, outcome: 'failed', reason: `creating its resources failed unexpectedly (${crashReason(error)})` }),
      );
      triggerDurationsMs[decision.trigger] = now() - triggerStart;
      return result;
    }),
  );
  timings.createMs = now() - start;

  const body: Answer['body'] = { deliveryId, event, eventListener: listener.name, results };
  if (dryRun) {
    body.dryRun = true;
    body.rendered = decisions.flatMap((decision) => (decision.outcome === 'render' ? decision.resources : []));
  }
  return { ...report({ status: answerStatus(results), body }, listener.name), groups: deliveryGroups(decisions, results) };
}

/** An adapter that throws fails only the triggers that needed GitHub, with the reason. */
async function githubAnswers(planned: PlannedLookups, lookup: DeliveryDependencies['lookupGithub']): Promise<GithubLookups | undefined> {
  if (planned.lookups.length === 0) return undefined;
  if (!lookup) return unavailableLookups(planned.lookups, 'the bridge has no GitHub credentials to ask GitHub\'s API with');
  return lookup(planned).catch((error: unknown) => unavailableLookups(planned.lookups, `looking it up failed unexpectedly (${crashReason(error)})`));
}

function selectListener(listeners: readonly EventListenerConfig[], path: string): EventListenerConfig | string {
  const name = path.replace(/^\/+|\/+$/g, '');
  if (name === '') {
    if (listeners.length === 1) return listeners[0] as EventListenerConfig;
    return `several EventListeners are configured (${listeners.map((l) => l.name).join(', ')}): post to /webhook/<name>`;
  }
  return listeners.find((l) => l.name === name) ?? `no EventListener named "${name}" (configured: ${listeners.map((l) => l.name).join(', ')})`;
}

function refOf(object: KubernetesObject): ResourceRef {
  return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}

interface Settlement {
  deliveryId: string;
  event: string;
  eventListener: string;
  bodyDigest: string;
  summary: DeliverySummary;
  createResource: CreateResource | undefined;
  enqueue: EnqueueCreation | undefined;
}

/**
 * Creates a trigger's resources in order. The first failure stops the rest of that trigger; with a queue, the
 * trigger is queued — its params, not its objects: the retry function renders them again from its own config —
 * for retry when the failure may pass, for a person when it won't.
 */
async function settleDecision(decision: TriggerDecision, settlement: Settlement): Promise<TriggerResult> {
  if (decision.outcome !== 'render') return decision;
  const { createResource, enqueue } = settlement;
  const resources = decision.resources.map(refOf);
  if (!createResource) return { trigger: decision.trigger, outcome: 'created', resources };
  let created = 0;
  for (const [index, object] of decision.resources.entries()) {
    const result = await createResource(object, decision.serviceAccount && { impersonate: decision.serviceAccount });
    if (result.outcome === 'failed') {
      const which = `${object.kind} ${object.metadata.namespace}/${object.metadata.name}`;
      const done = created > 0 ? ` (${created} of ${decision.resources.length} created before it)` : '';
      const reason = `${which} was not created: ${result.reason}${done}`;
      const failed: TriggerResult = { trigger: decision.trigger, outcome: 'failed', reason, resources: resources.slice(0, index) };
      if (!enqueue) return failed;
      const queued = await enqueue({
        deliveryId: settlement.deliveryId,
        event: settlement.event,
        eventListener: settlement.eventListener,
        trigger: decision.trigger,
        bodyDigest: settlement.bodyDigest,
        summary: settlement.summary,
        params: decision.params,
        reason: result.reason,
        permanent: !result.retryable,
        signatures: signaturesOf(decision.resources),
      });
      if (!queued.queued) return { ...failed, reason: `${reason}; it could not be queued either: ${queued.reason}` };
      if (!result.retryable) return { ...failed, reason: `${reason}; kept in the dead-letter queue for a person to fix and replay` };
      return { trigger: decision.trigger, outcome: 'queued', reason: `${reason}; queued, the bridge will retry`, resources };
    }
    if (result.outcome === 'created') created += 1;
  }
  if (created === 0) {
    return { trigger: decision.trigger, outcome: 'duplicate', reason: 'already created by an earlier delivery of the same signed body', resources };
  }
  return { trigger: decision.trigger, outcome: 'created', resources };
}

function answerStatus(results: readonly TriggerResult[]): number {
  if (results.some((r) => r.outcome === 'created' || r.outcome === 'queued')) return 202;
  if (results.some((r) => r.outcome === 'failed')) return 503;
  return 200;
}
