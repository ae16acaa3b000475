import { createHmac, timingSafeEqual } from 'node:crypto';

/** `mismatch`: a well-formed signature made with some other secret (another secret may still verify it). */
export type SignatureCheck = { valid: true } | { valid: false; reason: string; mismatch: boolean };

const SHA256_SIGNATURE = /^sha256=([0-9a-f]{64})$/;

/**
 * Checks `X-Hub-Signature-256` over the raw body bytes against every secret in turn (current first, then the
 * previous one during a rotation). A wrong signature is an answer, not an exception.
 *
 * This is @octokit/webhooks-methods' `verify` (HMAC-SHA256, constant-time compare) over bytes: the library takes
 * the payload as a string, and decoding then re-encoding a 6 MB body makes verification 3× slower than the HMAC
 * itself (BENCHMARKS.md). The library still signs everything the tests and `send` produce.
 */
export function verifyDelivery(body: Uint8Array, headers: Readonly<Record<string, string | undefined>>, secrets: readonly string[]): SignatureCheck {
  // Anyone can compute an HMAC under an empty key: such a secret would let every forged delivery through.
  if (secrets.length === 0 || !secrets.every(isUsableSecret)) {
    throw new TypeError('[tekton-bridge] verifyDelivery needs at least one secret, none of them empty or whitespace');
  }
  const signature = headers['x-hub-signature-256'];
  if (signature === undefined || signature === '') {
    return headers['x-hub-signature']
      ? { valid: false, mismatch: false, reason: 'only an X-Hub-Signature (sha1) header was sent; tekton-bridge requires X-Hub-Signature-256' }
      : { valid: false, mismatch: false, reason: 'X-Hub-Signature-256 header is missing: set a secret on the webhook' };
  }
  const hex = SHA256_SIGNATURE.exec(signature)?.[1];
  if (hex === undefined) {
    return { valid: false, mismatch: false, reason: 'X-Hub-Signature-256 is malformed: expected sha256= followed by 64 lower-case hex digits' };
  }
  const expected = Buffer.from(hex, 'hex');
  const valid = secrets.some((secret) => timingSafeEqual(createHmac('sha256', secret).update(body).digest(), expected));
  return valid
    ? { valid: true }
    : { valid: false, mismatch: true, reason: "X-Hub-Signature-256 does not match: the webhook's secret differs from the bridge's" };
}

/** A secret the bridge may verify with: not empty, not only whitespace. */
export function isUsableSecret(secret: string): boolean {
  return typeof secret === 'string' && secret.trim() !== '';
}
