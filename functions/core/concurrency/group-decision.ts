import type { MetadataPatch } from '../reporting/run-annotations.ts';
import { GROUP_STATE_ANNOTATIONS, MEMBER_LABEL, MEMBER_RETIRED, unstartedCancelStatusOf } from './group-annotations.ts';
import { startClaimText, type GroupMember } from './group-members.ts';
import { comparePushOrder } from './push-order.ts';

/** A JSON merge patch of a run, based on the resourceVersion read: a conflict means it moved on, and the group is read again. */
export interface RunPatch extends MetadataPatch {
  spec?: { status: string | null };
}

export type GroupAction =
  /** A claim whose bridge died: cleared, so its run can be started by another (and never by the dead one). */
  | { action: 'release'; member: GroupMember; patch: RunPatch; reason: string }
  | { action: 'cancel'; member: GroupMember; patch: RunPatch; reason: string }
  /** Step one of a start under max-running: mark the run as being started, then read the group again. */
  | { action: 'claim'; member: GroupMember; patch: RunPatch }
  | { action: 'start'; member: GroupMember; patch: RunPatch; reason: string }
  /** Our claim lost to others: taken back, the run waits. */
  | { action: 'withdraw'; member: GroupMember; patch: RunPatch }
  | { action: 'queue'; member: GroupMember; patch: RunPatch; reason: string }
  | { action: 'prune'; member: GroupMember; reason: string }
  | { action: 'retire'; member: GroupMember; patch: RunPatch };

export interface GroupDecision {
  actions: GroupAction[];
  /** Claims are in the air: read the group again after a short pause and decide anew. */
  wait: boolean;
}

export interface GroupDecisionContext {
  /** This settlement's own claims carry it; any other claim is another bridge's. */
  token: string;
  /** Epoch milliseconds. */
  nowMs: number;
  /** A claim older than this died with its bridge. */
  leaseMs: number;
  /** GitHub reporting is on: a finished run is deleted only once its final state was reported. */
  awaitReports: boolean;
}

/**
 * One round of a group's settlement, from the group's members as listed just now (every one's signature verified).
 * The newest push's settings rule the group. In order:
 *
 * 1. Claims older than the lease are released first, and the group read again: a dead bridge's claim must not be
 *    ignored (its bridge could still wake up and start), only removed, which its start patch then fails on.
 * 2. cancel-in-progress: every waiting or running member but the newest push is cancelled — one that never started
 *    plainly, a started one with its `cancel-status`. A member is cancelled only when a newer one is in view, and a view
 *    never holds members that do not exist, so the newest push is never cancelled, however stale a view is.
 * 3. Starts. Without max-running, the waiting members (with cancel-in-progress only the newest) are started, each by
 *    a patch conditional on its resourceVersion. With max-running N, a start takes two steps: claim the member (a
 *    conditional patch), read the group again, and start it only if fewer than N *other* members are running, stopping
 *    or claimed in that second view; else wait while it ranks among the first free slots, or withdraw. Of any N+1
 *    members running at once, the one claimed last read the group after the other N claims, saw them, and could not
 *    have started: at most N run. Creation is never conditional, which is why every member is created waiting.
 * 4. Members still waiting are told why, once (`queue`).
 * 5. max-keep-runs K: finished members beyond the K newest pushes are deleted (once their final state was reported);
 *    without it, finished members other than the newest are retired from the group's working set.
 */
export function decideGroup(members: readonly GroupMember[], context: GroupDecisionContext): GroupDecision {
  if (members.length === 0) return { actions: [], wait: false };
  const byOrder = [...members].sort(comparePushOrder);
  const newest = byOrder[byOrder.length - 1] as GroupMember;
  const { settings } = newest;
  const isLive = (m: GroupMember): boolean => m.claim !== undefined && (m.claim.token === context.token || context.nowMs - m.claim.atMs < context.leaseMs);

  const stale = byOrder.filter((m) => m.phase === 'pending' && m.claim !== undefined && !isLive(m));
  if (stale.length > 0) {
    return {
      wait: false,
      actions: stale.map((member) => ({
        action: 'release',
        member,
        patch: annotate(member, { [GROUP_STATE_ANNOTATIONS.starting]: null }),
        reason: `a start claimed at ${new Date(member.claim?.atMs ?? 0).toISOString()} was never finished`,
      })),
    };
  }

  const actions: GroupAction[] = [];
  const cancelled = new Set<GroupMember>();
  if (settings.cancelInProgress) {
    for (const member of byOrder) {
      if (member === newest || (member.phase !== 'pending' && member.phase !== 'running')) continue;
      cancelled.add(member);
      const status = member.phase === 'pending' ? unstartedCancelStatusOf(member.kind) : member.settings.cancelStatus;
      const reason = `superseded by a newer push in group ${settings.group}: ${newest.kind} ${newest.name}${newest.commit ? ` (commit ${newest.commit.slice(0, 7)})` : ''}`;
      actions.push({
        action: 'cancel',
        member,
        reason,
        patch: { ...annotate(member, { [GROUP_STATE_ANNOTATIONS.cancelled]: reason, [GROUP_STATE_ANNOTATIONS.starting]: null }), spec: { status } },
      });
    }
  }

  const remaining = byOrder.filter((m) => !cancelled.has(m));
  const active = remaining.filter((m) => m.phase === 'running' || m.phase === 'stopping');
  const waiting = remaining.filter((m) => m.phase === 'pending');
  const candidates = settings.cancelInProgress ? waiting.filter((m) => m === newest) : waiting;
  const limit = settings.maxRunning ?? Number.POSITIVE_INFINITY;
  const started = new Set<GroupMember>();
  let contested = false;
  let wait = false;

  if (limit === Number.POSITIVE_INFINITY) {
    for (const member of candidates) {
      started.add(member);
      actions.push(startAction(member, context, `the group ${settings.group} has no max-running`));
    }
  } else {
    const claimed = waiting.filter(isLive);
    const mine = claimed.filter((m) => m.claim?.token === context.token);
    if (mine.length > 0) {
      for (const member of mine) {
        const others = active.length + claimed.length - 1;
        if (others < limit && candidates.includes(member)) {
          started.add(member);
          actions.push(startAction(member, context, `${active.length} of max-running ${limit} running in group ${settings.group}`));
        } else if (candidates.includes(member) && claimed.indexOf(member) < limit - active.length) {
          wait = true;
          contested = true;
        } else {
          contested = true;
          actions.push({ action: 'withdraw', member, patch: annotate(member, { [GROUP_STATE_ANNOTATIONS.starting]: null }) });
        }
      }
    } else {
      const free = limit - active.length - claimed.length;
      for (const member of candidates.filter((m) => !isLive(m)).slice(0, Math.max(0, free))) {
        contested = true;
        actions.push({ action: 'claim', member, patch: annotate(member, { [GROUP_STATE_ANNOTATIONS.starting]: startClaimText(context.nowMs, context.token) }) });
      }
    }
  }

  if (!contested) {
    const stopping = active.filter((m) => m.phase === 'stopping').length;
    waiting
      .filter((m) => !started.has(m))
      .forEach((member, position) => {
        if (member.queued || isLive(member)) return;
        const reason =
          stopping > 0 && settings.cancelInProgress
            ? `waiting for ${stopping} cancelled run${stopping === 1 ? '' : 's'} of group ${settings.group} to stop (max-running ${limit})`
            : `max-running ${limit} reached in group ${settings.group}; ${ordinal(position + 1)} in line`;
        actions.push({ action: 'queue', member, reason, patch: annotate(member, { [GROUP_STATE_ANNOTATIONS.queued]: reason }) });
      });
  }

  const finished = byOrder.filter((m) => m.phase === 'finished').reverse();
  if (settings.maxKeepRuns !== undefined) {
    for (const member of finished.slice(settings.maxKeepRuns)) {
      if (context.awaitReports && member.awaitingReport) continue;
      actions.push({ action: 'prune', member, reason: `max-keep-runs ${settings.maxKeepRuns} of group ${settings.group}: ${settings.maxKeepRuns} newer finished runs are kept` });
    }
  } else {
    for (const member of finished) {
      if (member !== newest) actions.push({ action: 'retire', member, patch: { metadata: { resourceVersion: member.resourceVersion, labels: { [MEMBER_LABEL]: MEMBER_RETIRED } } } });
    }
  }
  return { actions, wait };
}

function startAction(member: GroupMember, context: GroupDecisionContext, reason: string): GroupAction {
  return {
    action: 'start',
    member,
    reason,
    patch: {
      ...annotate(member, {
        [GROUP_STATE_ANNOTATIONS.starting]: null,
        [GROUP_STATE_ANNOTATIONS.queued]: null,
        [GROUP_STATE_ANNOTATIONS.started]: new Date(context.nowMs).toISOString(),
      }),
      spec: { status: null },
    },
  };
}

function annotate(member: GroupMember, annotations: Record<string, string | null>): RunPatch {
  return { metadata: { resourceVersion: member.resourceVersion, annotations } };
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}
