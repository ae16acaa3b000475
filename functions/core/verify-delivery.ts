import { verifyWithFallback } from '@octokit/webhooks-methods';

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

const SHA256_SIGNATURE = /^sha256=[0-9a-f]{64}$/;

/**
 * Checks `X-Hub-Signature-256` against every secret in turn (current first, then the previous one during a
 * rotation). A wrong signature is an answer, not an exception.
 */
export async function verifyDelivery(
  body: string,
  headers: Readonly<Record<string, string | undefined>>,
  secrets: readonly string[],
): Promise<SignatureCheck> {
  const signature = headers['x-hub-signature-256'];
  if (signature === undefined || signature === '') {
    return headers['x-hub-signature']
      ? { valid: false, reason: 'only an X-Hub-Signature (sha1) header was sent; tekton-bridge requires X-Hub-Signature-256' }
      : { valid: false, reason: 'X-Hub-Signature-256 header is missing: set a secret on the webhook' };
  }
  if (!SHA256_SIGNATURE.test(signature)) {
    return { valid: false, reason: 'X-Hub-Signature-256 is malformed: expected sha256= followed by 64 hex digits' };
  }
  const [current, ...previous] = secrets;
  if (current === undefined) throw new TypeError('[tekton-bridge] verifyDelivery needs at least one secret');
  // An empty body cannot be signed by GitHub; the library treats it as misuse, so answer it here.
  if (body.length === 0) return { valid: false, reason: 'X-Hub-Signature-256 does not match the body: the body is empty' };
  const valid = await verifyWithFallback(current, body, signature, previous);
  return valid
    ? { valid: true }
    : { valid: false, reason: "X-Hub-Signature-256 does not match: the webhook's secret differs from the bridge's" };
}
