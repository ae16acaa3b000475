import { randomUUID } from 'node:crypto';
import type { KubernetesObject, ResourceRef } from '../core/delivery-types.ts';
import { ACTIVE_MEMBERS_SELECTOR, GROUP_LABEL, GROUP_STATE_ANNOTATIONS, groupOf, sameGroup, type GroupRef } from '../core/concurrency/group-annotations.ts';
import { decideGroup, type GroupAction } from '../core/concurrency/group-decision.ts';
import { readMember, type GroupMember } from '../core/concurrency/group-members.ts';
import { messageOf } from './error-message.ts';
import type { KubernetesClient } from './kubernetes-api.ts';
import type { RunVerifier } from './run-verifier.ts';

/** A claim older than this died with its bridge; a live settlement finishes its claims within a second or two. */
export const DEFAULT_CLAIM_LEASE_MS = 30_000;
/** Rounds of one settlement: list, decide, act. Two or three suffice; contested claims take a few more. */
const MAX_ROUNDS = 10;
const RUN_KINDS = ['PipelineRun', 'TaskRun'] as const;

/** One thing a settlement did (or could not do) to one run, for its log line and metric. */
export interface GroupEntry {
  action: 'cancelled' | 'queued' | 'started' | 'pruned' | 'released' | 'ignored' | 'failed';
  group: string;
  run?: ResourceRef;
  reason: string;
}

export interface GroupSettlementOptions {
  kube: Pick<KubernetesClient, 'get' | 'list' | 'patch' | 'delete'>;
  verifyRun: RunVerifier;
  /** GitHub reporting is on: finished runs are pruned only once their final state was reported. */
  awaitReports: boolean;
  now?: () => number;
  leaseMs?: number;
  /** Between contested rounds; default a jittered 50–150 ms. */
  pause?: () => Promise<void>;
}

const LOGGED: Partial<Record<GroupAction['action'], GroupEntry['action']>> = { cancel: 'cancelled', queue: 'queued', start: 'started', prune: 'pruned', release: 'released' };

/**
 * Settles concurrency groups against the Kubernetes API with its own optimistic concurrency, no lock of the bridge's:
 * list the group's active runs, keep those whose signature verifies, decide (decideGroup), act with patches and
 * deletes conditional on the resourceVersion read, and read again after claims or conflicts. Any number of these may
 * run at once — webhook containers, the reporter's events and its schedule — and the group ends as one would leave it.
 */
export function createGroupSettlement(options: GroupSettlementOptions) {
  const now = options.now ?? Date.now;
  const leaseMs = options.leaseMs ?? DEFAULT_CLAIM_LEASE_MS;
  const pause = options.pause ?? (() => new Promise<void>((resolve) => setTimeout(resolve, 50 + Math.random() * 100)));
  const { kube } = options;

  const listGroup = async (group: GroupRef): Promise<KubernetesObject[] | string> => {
    const listed = await kube.list({ apiVersion: group.apiVersion, kind: group.kind, namespace: group.namespace, labelSelector: `${GROUP_LABEL}=${group.label},${ACTIVE_MEMBERS_SELECTOR}` });
    return listed.outcome === 'listed' ? listed.items : `the group's runs could not be listed: ${listed.reason}`;
  };

  /** The members of the group among `objects`: signature verified, the group's own, readable; the rest are named. */
  const membersOf = async (group: GroupRef, objects: readonly KubernetesObject[], entries: GroupEntry[]): Promise<GroupMember[]> => {
    const members: GroupMember[] = [];
    for (const object of objects) {
      const run = refOf(object);
      const verdict = await options.verifyRun(object);
      if (!verdict.ok) {
        entries.push({ action: 'ignored', group: group.group, run, reason: verdict.reason });
        continue;
      }
      const own = groupOf(object);
      if (!own || !sameGroup(own, group)) continue;
      const member = readMember(object);
      if (typeof member === 'string') entries.push({ action: 'ignored', group: group.group, run, reason: member });
      else members.push(member);
    }
    return members;
  };

  /** Never throws: what went wrong is an entry, and the next event or schedule settles the group again. */
  const settle = async (group: GroupRef, settleOptions: { deadline?: number; listed?: KubernetesObject[] } = {}): Promise<GroupEntry[]> => {
    const entries: GroupEntry[] = [];
    try {
      await settleInto(entries, group, settleOptions);
    } catch (error) {
      entries.push({ action: 'failed', group: group.group, reason: `settling crashed: ${messageOf(error)}` });
    }
    return entries;
  };

  const settleInto = async (entries: GroupEntry[], group: GroupRef, settleOptions: { deadline?: number; listed?: KubernetesObject[] }): Promise<void> => {
    const token = randomUUID().slice(0, 13);
    // Our claims still standing, with the resourceVersion they were last seen at.
    const claims = new Map<string, { ref: ResourceRef; resourceVersion: string }>();
    let view: KubernetesObject[] | string = settleOptions.listed ?? (await listGroup(group));
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      if (typeof view === 'string') {
        entries.push({ action: 'failed', group: group.group, reason: view });
        break;
      }
      // Ignored runs are named once per settlement, not once per round.
      const members = await membersOf(group, view, round === 0 ? entries : []);
      for (const member of members) {
        if (!claims.has(member.name)) continue;
        if (member.claim?.token === token) claims.set(member.name, { ref: member.ref, resourceVersion: member.resourceVersion });
        else claims.delete(member.name);
      }
      const decision = decideGroup(members, { token, nowMs: now(), leaseMs, awaitReports: options.awaitReports });
      let again = decision.wait;
      for (const action of decision.actions) {
        const acted = await act(action, entries, group);
        if (acted.outcome === 'refused') continue;
        if (action.action === 'claim' && acted.outcome === 'done') claims.set(action.member.name, { ref: action.member.ref, resourceVersion: acted.resourceVersion });
        if (action.action === 'start' || action.action === 'withdraw' || action.action === 'cancel') claims.delete(action.member.name);
        if (acted.outcome === 'moved' || action.action === 'claim' || action.action === 'release' || action.action === 'withdraw') again = true;
      }
      if (!again || (settleOptions.deadline !== undefined && now() >= settleOptions.deadline)) break;
      if (decision.wait) await pause();
      view = await listGroup(group);
    }
    // Out of rounds or time with a claim still ours: take it back, so the next settlement need not wait for the lease.
    for (const { ref, resourceVersion } of claims.values()) {
      await kube.patch(ref, { type: 'merge', patch: { metadata: { resourceVersion, annotations: { [GROUP_STATE_ANNOTATIONS.starting]: null } } } });
    }
  };

  /**
   * Carries out one action: `done` (with the run's resourceVersion after it, `''` once deleted); `moved` when the run
   * moved on (or is gone) since it was read, so the group is read again; `refused` by the API (named in an entry, and
   * not tried again at once: it would only be refused again).
   */
  const act = async (action: GroupAction, entries: GroupEntry[], group: GroupRef): Promise<{ outcome: 'done'; resourceVersion: string } | { outcome: 'moved' | 'refused' }> => {
    const { member } = action;
    const result = action.action === 'prune' ? await kube.delete(member.ref, { resourceVersion: member.resourceVersion }) : await kube.patch(member.ref, { type: 'merge', patch: action.patch });
    if (result.outcome === 'patched' || result.outcome === 'deleted') {
      const logged = LOGGED[action.action];
      if (logged && 'reason' in action) entries.push({ action: logged, group: group.group, run: member.ref, reason: action.reason });
      return { outcome: 'done', resourceVersion: result.outcome === 'patched' ? String(result.object.metadata.resourceVersion ?? '') : '' };
    }
    if (result.outcome !== 'failed') return { outcome: 'moved' };
    entries.push({ action: 'failed', group: group.group, run: member.ref, reason: `could not ${action.action} the run: ${result.reason}` });
    return { outcome: 'refused' };
  };

  return {
    settle,

    /** The groups a delivery's runs joined, one after the other. */
    async settleGroups(groups: readonly GroupRef[], deadline?: number): Promise<GroupEntry[]> {
      const entries: GroupEntry[] = [];
      for (const group of groups) {
        if (deadline !== undefined && now() >= deadline) break;
        entries.push(...(await settle(group, { deadline })));
      }
      return entries;
    },

    /** A Tekton event named this run: read it, and if it is the bridge's and in a group, settle that group. */
    async settleGroupOf(ref: ResourceRef): Promise<GroupEntry[]> {
      const read = await kube.get(ref);
      if (read.outcome !== 'found') return [];
      const group = groupOf(read.object);
      if (!group) return [];
      const verdict = await options.verifyRun(read.object);
      if (!verdict.ok) return [{ action: 'ignored', group: group.group, run: ref, reason: verdict.reason }];
      return settle(group);
    },

    /** The schedule: every group with an active run in these namespaces, until `deadline`. */
    async settleActive(namespaces: readonly string[], deadline: number): Promise<{ groups: number; entries: GroupEntry[]; problem?: string }> {
      const entries: GroupEntry[] = [];
      const problems: string[] = [];
      let groups = 0;
      for (const namespace of namespaces) {
        for (const kind of RUN_KINDS) {
          const listed = await kube.list({ apiVersion: 'tekton.dev/v1', kind, namespace, labelSelector: ACTIVE_MEMBERS_SELECTOR });
          if (listed.outcome === 'failed') {
            problems.push(`${kind}s in ${namespace} could not be listed: ${listed.reason}`);
            continue;
          }
          const byGroup = new Map<string, { group: GroupRef; objects: KubernetesObject[] }>();
          for (const object of listed.items) {
            const group = groupOf(object);
            if (!group) continue;
            const key = `${group.label}\0${group.group}`;
            const known = byGroup.get(key) ?? { group, objects: [] };
            known.objects.push(object);
            byGroup.set(key, known);
          }
          for (const { group, objects } of byGroup.values()) {
            if (now() >= deadline) return { groups, entries, problem: [...problems, 'time ran out before every group was settled'].join('; ') };
            groups += 1;
            entries.push(...(await settle(group, { deadline, listed: objects })));
          }
        }
      }
      return { groups, entries, ...(problems.length > 0 && { problem: problems.join('; ') }) };
    },
  };
}

export type GroupSettlement = ReturnType<typeof createGroupSettlement>;

function refOf(object: KubernetesObject): ResourceRef {
  return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata.namespace, name: object.metadata.name };
}
