import type { KubernetesObject, ResourceRef } from '../delivery-types.ts';
import type { RunVerdict } from '../run-signature.ts';
import type { GithubReport } from './github-report.ts';
import { decideRunReport } from './report-decision.ts';
import { claimPatch, claimText, readClaim, recordPatch, releasePatch, type MetadataPatch } from './run-annotations.ts';
import { isFinal, type RunState } from './run-state.ts';

/** The Kubernetes API answers the reporter needs, shaped as the bridge's Kubernetes client gives them. */
type Failure = { outcome: 'failed'; reason: string; retryable: boolean };
export type RunRead = { outcome: 'found'; object: KubernetesObject } | { outcome: 'not-found' } | Failure;
export type RunPatched = { outcome: 'patched'; object: KubernetesObject } | { outcome: 'not-found' } | { outcome: 'conflict'; reason: string } | Failure;

/**
 * What GitHub said to one report. `refused`: it will never take this report (404, 422, missing permission), so it is
 * recorded and not tried again; `retryable`: it may take it later (5xx, rate limit, timeout, no credentials yet).
 */
export type PublishResult =
  | { outcome: 'published'; checkRunId?: string }
  | { outcome: 'refused'; reason: string }
  | { outcome: 'unavailable'; reason: string; rateLimited?: boolean };

export interface RunReporterPorts {
  getRun: (ref: ResourceRef) => Promise<RunRead>;
  patchRun: (ref: ResourceRef, patch: MetadataPatch) => Promise<RunPatched>;
  publish: (report: GithubReport) => Promise<PublishResult>;
  /** Whether the run carries the bridge's signature (run-signature.ts): only then is GitHub told anything about it. */
  verifyRun: (run: KubernetesObject) => Promise<RunVerdict>;
  /** Epoch milliseconds, for claims. */
  now: () => number;
  leaseMs: number;
  detailsUrlTemplate: string | undefined;
}

/** One report made (or not) for one run, for the log line that says what and why. */
export type RunReportOutcome =
  | { outcome: 'reported'; run: ResourceRef; state: RunState; context: string; reason: string; description: string }
  | { outcome: 'refused'; run: ResourceRef; state: RunState; context: string; reason: string }
  | { outcome: 'failed'; run: ResourceRef; state?: RunState; context?: string; reason: string; rateLimited?: boolean }
  | { outcome: 'unchanged' | 'waiting' | 'ignored' | 'gone'; run: ResourceRef; reason: string; unverified?: true };

/** Conflicts (the run moved on while we decided) are re-read this many times before the next event or schedule. */
const MAX_ROUNDS = 8;

/**
 * Reports one run as the Kubernetes API has it now, never as an event said, and only when its signature says the
 * bridge made it: labels and annotations anyone may copy, the signature they cannot. Each state is claimed on the run with a
 * patch based on the resourceVersion read before GitHub hears it, so of two reporters racing (the event route and the
 * schedule, or two containers) only one tells GitHub; the other sees the claim or a conflict, re-reads, and finds it
 * reported. A claim whose reporter died expires after `leaseMs`. When the run moved on while it was being reported
 * (started, then finished), the newer state is reported in the same call.
 */
export async function reportRun(start: ResourceRef | KubernetesObject, ports: RunReporterPorts): Promise<RunReportOutcome[]> {
  const ref = refOf(start);
  const outcomes: RunReportOutcome[] = [];
  let known: KubernetesObject | undefined = 'metadata' in start ? start : undefined;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    let run: KubernetesObject;
    if (known) {
      run = known;
      known = undefined;
    } else {
      const read = await ports.getRun(ref);
      if (read.outcome === 'not-found') return [...outcomes, { outcome: 'gone', run: ref, reason: 'the run no longer exists' }];
      if (read.outcome === 'failed') return [...outcomes, { outcome: 'failed', run: ref, reason: `the run could not be read: ${read.reason}` }];
      run = read.object;
    }

    const decision = decideRunReport(run, { nowMs: ports.now(), leaseMs: ports.leaseMs, detailsUrlTemplate: ports.detailsUrlTemplate });
    if (decision.action !== 'report') {
      // After a report of our own, "nothing more to say" is the expected end, not news for the log.
      if (outcomes.length > 0 && decision.action === 'unchanged') return outcomes;
      const outcome = decision.action === 'wait' ? 'waiting' : decision.action === 'ignore' ? 'ignored' : 'unchanged';
      return [...outcomes, { outcome, run: ref, reason: decision.reason }];
    }
    const { report } = decision;
    const context = report.target.context;
    const verdict = await ports.verifyRun(run);
    if (!verdict.ok) return [...outcomes, { outcome: 'ignored', run: ref, reason: verdict.reason, unverified: true }];

    const claim = claimText(report.state, ports.now());
    const claimed = await ports.patchRun(ref, claimPatch(run, claim));
    if (claimed.outcome === 'conflict') continue;
    if (claimed.outcome === 'not-found') return [...outcomes, { outcome: 'gone', run: ref, reason: 'the run no longer exists' }];
    if (claimed.outcome === 'failed') {
      return [...outcomes, { outcome: 'failed', run: ref, state: report.state, context, reason: `the run could not be claimed for reporting: ${claimed.reason}` }];
    }

    const published = await ports.publish(report);
    if (published.outcome === 'unavailable') {
      await settle(ref, claimed.object, claim, releasePatch, ports);
      return [...outcomes, { outcome: 'failed', run: ref, state: report.state, context, reason: published.reason, rateLimited: published.rateLimited }];
    }
    const final = isFinal(report.state);
    const record = published.outcome === 'published' ? { checkRunId: published.checkRunId } : { refused: published.reason.slice(0, 500) };
    const settled = await settle(ref, claimed.object, claim, (latest) => recordPatch(latest, { state: report.state, final, ...record }), ports);
    outcomes.push(
      published.outcome === 'published'
        ? { outcome: 'reported', run: ref, state: report.state, context, reason: decision.reason, description: report.description }
        : { outcome: 'refused', run: ref, state: report.state, context, reason: published.reason },
    );
    if (settled === undefined) return outcomes;
    known = settled;
  }
  return [...outcomes, { outcome: 'failed', run: ref, reason: `the run kept changing while it was being reported (${MAX_ROUNDS} conflicts); the next event or schedule reports it` }];
}

/**
 * Writes what became of our claim, re-reading on a conflict (Tekton updates the status meanwhile) for as long as the
 * claim is still ours. Returns the run as written, or undefined when it could not be written (the claim then expires).
 */
async function settle(
  ref: ResourceRef,
  claimedRun: KubernetesObject,
  claim: string,
  patchFor: (run: KubernetesObject) => MetadataPatch,
  ports: RunReporterPorts,
): Promise<KubernetesObject | undefined> {
  let run = claimedRun;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const written = await ports.patchRun(ref, patchFor(run));
    if (written.outcome === 'patched') return written.object;
    if (written.outcome !== 'conflict') return undefined;
    const read = await ports.getRun(ref);
    if (read.outcome !== 'found' || readClaim(read.object)?.text !== claim) return undefined;
    run = read.object;
  }
  return undefined;
}

function refOf(start: ResourceRef | KubernetesObject): ResourceRef {
  if ('metadata' in start) return { apiVersion: start.apiVersion, kind: start.kind, namespace: start.metadata.namespace, name: start.metadata.name };
  return start;
}
