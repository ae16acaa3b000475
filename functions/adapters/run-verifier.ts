import type { KubernetesObject } from '../core/delivery-types.ts';
import { runSigningKey, verifyRunSignature, type RunVerdict } from '../core/run-signature.ts';
import { messageOf } from './error-message.ts';

export type RunVerifier = (run: Pick<KubernetesObject, 'kind' | 'metadata'>) => Promise<RunVerdict>;

/**
 * Checks a run's signature against the current webhook secret and, only when that does not verify a well-formed
 * signature, against the previous one while its grace period lasts (the webhook-secret source decides that), as the
 * webhook checks deliveries. Without the previous secret, the run does not verify, as after the grace period; with no
 * secret readable at all, no run does (and nothing is acted on).
 */
export function createRunVerifier(secrets: { current: () => Promise<readonly string[]>; previous?: () => Promise<readonly string[]> }): RunVerifier {
  const keys = new Map<string, Buffer>();
  const keysOf = (values: readonly string[]): Buffer[] =>
    values.filter((value) => value.trim() !== '').map((value) => keys.get(value) ?? (keys.set(value, runSigningKey(value)), keys.get(value) as Buffer));
  return async (run) => {
    let current: readonly string[];
    try {
      current = await secrets.current();
    } catch (error) {
      return { ok: false, mismatch: false, reason: `the webhook secret, which run signatures are checked with, cannot be read: ${messageOf(error)}` };
    }
    const verdict = verifyRunSignature(run, keysOf(current));
    if (verdict.ok || !verdict.mismatch || !secrets.previous) return verdict;
    const previous = keysOf(await secrets.previous().catch(() => []));
    if (previous.length === 0) return verdict;
    const again = verifyRunSignature(run, previous);
    return again.ok ? again : verdict;
  };
}
