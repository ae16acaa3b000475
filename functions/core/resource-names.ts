import { createHash } from 'node:crypto';

// Kubernetes' own generateName alphabet: no vowels, so no words, and no look-alike characters.
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** 10 characters of a 27-letter alphabet is ~47 bits: two bodies colliding on one prefix is negligible. */
const SUFFIX_LENGTH = 10;
const MAX_NAME = 63;

/**
 * The suffix that replaces Kubernetes' random one, derived from the signed body's digest (not the delivery id, which
 * the signature does not cover), the EventListener, the trigger and the resource index: the same bytes always give
 * the same name, so a redelivery — or anyone replaying a captured delivery under a fresh id — finds the object it
 * already made.
 */
export function deterministicSuffix(bodyDigest: string, eventListener: string, trigger: string, index: number): string {
  const digest = createHash('sha256').update(`${bodyDigest}\0${eventListener}\0${trigger}\0${index}`).digest();
  let suffix = '';
  for (let i = 0; i < SUFFIX_LENGTH; i += 1) suffix += ALPHABET[(digest[i] as number) % ALPHABET.length];
  return suffix;
}

/** A stand-in for Tekton's random `$(uid)`, derived like the names so a redelivery renders identically. */
export function deterministicUid(bodyDigest: string, eventListener: string, trigger: string): string {
  const hex = createHash('sha256').update(`uid\0${bodyDigest}\0${eventListener}\0${trigger}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The hex SHA-256 of the signed body bytes: what names, `$(uid)` and the body-digest annotation derive from. */
export function bodyDigestOf(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** generateName + suffix, with the prefix cut so the name stays a valid 63-character DNS label. */
export function nameFromGenerateName(generateName: string, suffix: string): string {
  const prefix = toDnsLabel(generateName, true).slice(0, MAX_NAME - suffix.length);
  return `${prefix}${suffix}`;
}

/**
 * Lower-cases and replaces what a DNS-1123 label may not hold, whatever the payload put there.
 * With `keepTrailingDash`, a trailing "-" stays (generateName prefixes end with one).
 */
export function toDnsLabel(value: string, keepTrailingDash = false): string {
  let label = value
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+/, '');
  if (!keepTrailingDash) label = label.slice(0, MAX_NAME).replace(/-+$/, '');
  return label === '' ? 'run' : label;
}

/** A label value: at most 63 of [A-Za-z0-9-_.], starting and ending alphanumeric, or empty. */
export function toLabelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_.-]+/g, '-')
    .slice(0, MAX_NAME)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
}
