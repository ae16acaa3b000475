import type { PushHygiene } from './triggers-config.ts';

const ZERO_SHA = /^0{40}$/;
/** The markers GitHub itself honours in a head commit message. */
const SKIP_MARKERS = ['[skip ci]', '[ci skip]', '[no ci]', '[skip actions]', '[actions skip]'];

interface PushPayload {
  ref?: unknown;
  deleted?: unknown;
  after?: unknown;
  head_commit?: { id?: unknown; message?: unknown } | null;
}

/** Why a push should not start anything, or undefined when it should. Only pushes are judged. */
export function pushSkipReason(event: string, payload: unknown, hygiene: PushHygiene): string | undefined {
  if (event !== 'push') return undefined;
  const push = payload as PushPayload;
  if (hygiene.skipDeletedBranches && (push.deleted === true || (typeof push.after === 'string' && ZERO_SHA.test(push.after)))) {
    return `the push deletes ${typeof push.ref === 'string' ? push.ref : 'a ref'}; nothing to build (annotation tekton-bridge/skip-deleted-branches: "false" turns this off)`;
  }
  const message = push.head_commit?.message;
  if (hygiene.skipCiMessages && typeof message === 'string') {
    const lower = message.toLowerCase();
    const marker = SKIP_MARKERS.find((m) => lower.includes(m));
    if (marker) {
      return `the head commit message asks to skip CI with ${marker} (annotation tekton-bridge/skip-ci-messages: "false" turns this off)`;
    }
  }
  return undefined;
}
