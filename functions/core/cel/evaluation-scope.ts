/**
 * What one CEL evaluation may use beyond its variables: the trigger secrets that `compareSecret` reads, and the time
 * budget of the delivery. CEL functions are registered once per environment, so the scope of the evaluation under way
 * is set on the environment's slot right before the (synchronous) evaluation and cleared after it.
 */

/**
 * Reads `secretKey` of `secretName` from the bridge's trigger-secret store, as Tekton reads a key of a Kubernetes
 * Secret. Answers undefined for a secret or key that does not exist; throws TriggerSecretError when the store itself
 * cannot be read.
 */
export type TriggerSecretStore = (secretName: string, secretKey: string) => string | undefined;

/** The time CEL may take over one delivery, on the clock the caller hands in (the core has none of its own). */
export interface CelTimeBudget {
  now: () => number;
  limitMs: number;
  deadline: number;
}

export interface CelEvaluationScope {
  triggerSecrets: TriggerSecretStore | undefined;
  budget: CelTimeBudget | undefined;
}

export interface CelScopeSlot {
  scope: CelEvaluationScope | undefined;
  /** Evaluation steps since the clock was last read. */
  steps: number;
}

/** A trigger secret that is missing, or a store that cannot be read: the trigger fails, as in Tekton. */
export class TriggerSecretError extends Error {
  override readonly name = 'TriggerSecretError';
}

export class CelBudgetExceededError extends Error {
  override readonly name = 'CelBudgetExceededError';

  constructor(limitMs: number) {
    super(`CEL evaluation went past the delivery's time budget of ${limitMs} ms`);
  }
}

function createTimeBudget(now: () => number, limitMs: number): CelTimeBudget {
  return { now, limitMs, deadline: now() + limitMs };
}

// Reading the clock costs more than a step; every 256 steps keeps the overshoot far below a millisecond.
const STEPS_PER_CLOCK_READ = 256;

/** Called on every evaluation step; throws once the budget is spent. */
export function spendStep(slot: CelScopeSlot): void {
  const budget = slot.scope?.budget;
  if (!budget) return;
  slot.steps += 1;
  if (slot.steps < STEPS_PER_CLOCK_READ) return;
  slot.steps = 0;
  checkBudget(budget);
}

function checkBudget(budget: CelTimeBudget | undefined): void {
  if (budget && budget.now() > budget.deadline) throw new CelBudgetExceededError(budget.limitMs);
}

export function budgetSpent(budget: CelTimeBudget | undefined): boolean {
  return budget !== undefined && budget.now() > budget.deadline;
}

/** How long CEL may run over one delivery, unless the caller says otherwise. */
export const DEFAULT_CEL_BUDGET_MS = 1000;

/** What a delivery brings to CEL evaluation; without `now` there is no clock, so no time budget. */
export interface CelDeliveryOptions {
  triggerSecrets?: TriggerSecretStore;
  now?: () => number;
  budgetMs?: number;
}

/** One scope for all the triggers of a delivery: they share its time budget. */
export function createEvaluationScope(options: CelDeliveryOptions = {}): CelEvaluationScope {
  const { now, budgetMs = DEFAULT_CEL_BUDGET_MS } = options;
  return { triggerSecrets: options.triggerSecrets, budget: now ? createTimeBudget(now, budgetMs) : undefined };
}
