/** What an interceptor sees of one delivery, and what it answers. Failures come back as values with a reason. */

export interface InterceptorInput {
  event: string;
  payload: unknown;
  /** Lower-cased header names, as the adapters pass them. */
  headers: Readonly<Record<string, string | undefined>>;
  /** Canonical header names with value lists, as Tekton's CEL `header` variable has them. */
  celHeader: Record<string, string[]>;
  /** What earlier interceptors of the same trigger added. */
  extensions: Record<string, unknown>;
}

export type InterceptorOutcome =
  | { continue: true; extensions?: Record<string, unknown> }
  /** `failed`: the event should have passed but could not be processed (the trigger fails rather than skips). */
  | { continue: false; reason: string; failed?: true };
