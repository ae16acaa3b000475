import type { CelEvaluationScope } from '../cel/evaluation-scope.ts';
import type { GithubLookups } from './github-lookups.ts';

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
  /** The URL the delivery was posted to (CEL's `requestURL`). */
  requestURL: string;
  /** The trigger secrets and the time budget CEL evaluation may use. */
  scope: CelEvaluationScope;
  /** What GitHub's API answered the github interceptor's lookups, fetched before evaluation; absent: none. */
  github?: GithubLookups;
}

/** `failed`: the trigger fails rather than being skipped (a missing trigger secret, the time budget). */
export type InterceptorOutcome =
  | { continue: true; extensions?: Record<string, unknown> }
  | { continue: false; reason: string; failed?: true };
