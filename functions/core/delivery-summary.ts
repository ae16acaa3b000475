import { pushOrderOf } from './concurrency/push-order.ts';

/** The few facts of a delivery that go into logs and annotations: never the whole payload. */
export interface DeliverySummary {
  repository: string | undefined;
  ref: string | undefined;
  commit: string | undefined;
  /** The GitHub App installation that sent the delivery, when one did. */
  installationId?: string;
  /** The push's own time, for concurrency groups (push-order.ts). */
  pushOrder?: string;
}

interface PayloadFacts {
  repository?: { full_name?: unknown };
  ref?: unknown;
  after?: unknown;
  head_commit?: { id?: unknown } | null;
  pull_request?: { head?: { ref?: unknown; sha?: unknown } };
  installation?: { id?: unknown } | null;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function summarizeDelivery(payload: unknown): DeliverySummary {
  const facts = (payload ?? {}) as PayloadFacts;
  const pull = facts.pull_request?.head;
  return {
    repository: text(facts.repository?.full_name),
    ref: text(facts.ref) ?? text(pull?.ref),
    commit: text(facts.head_commit?.id) ?? text(facts.after) ?? text(pull?.sha),
    installationId: Number.isSafeInteger(facts.installation?.id) ? String(facts.installation?.id) : undefined,
    pushOrder: pushOrderOf(payload),
  };
}
