import { createHash } from 'node:crypto';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { createAwsJsonCall, type AwsJsonCall } from './aws-json-call.ts';

/** The message attribute that carries a retry-queue message's MAC (base64, as KMS returns it). */
export const MAC_ATTRIBUTE = 'mac';
const MAC_ALGORITHM = 'HMAC_SHA_256';
/** A SHA-256 HMAC is 32 bytes: 44 base64 characters. Anything else is not worth a KMS call. */
const MAC_SHAPE = /^[A-Za-z0-9+/]{43}=$/;

/**
 * Signs and checks retry-queue messages with KMS GenerateMac / VerifyMac (HMAC_SHA_256) under a key only the webhook
 * and retry functions may use, so anyone else able to SendMessage to the queue cannot make the retry function act.
 * KMS takes at most 4096 bytes: what is MACed is the SHA-256 of the message body, with a label that keeps these MACs
 * from standing for anything else made under the same key.
 */
export interface RetryMessageMac {
  sign: (body: string) => Promise<string>;
  /** True when `mac` is the body's; false when it is not; throws when KMS cannot answer (try again later). */
  verify: (body: string, mac: string) => Promise<boolean>;
}

export function createRetryMessageMac(options: {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** AWS_ENDPOINT_URL_KMS, as the SDK honours it. */
  endpoint?: string;
  keyArn: string;
  timeoutMs?: number;
}): RetryMessageMac {
  let call: AwsJsonCall | undefined;
  // Made on first use: the webhook signs only when a creation fails and is queued.
  const kms = (): AwsJsonCall => (call ??= createAwsJsonCall({ ...options, service: 'kms', targetPrefix: 'TrentService', title: 'KMS' }));
  const message = (body: string): string => createHash('sha256').update('tekton-bridge retry message\n').update(body).digest('base64');
  return {
    async sign(body) {
      const answer = await kms()('GenerateMac', { KeyId: options.keyArn, MacAlgorithm: MAC_ALGORITHM, Message: message(body) });
      if (typeof answer.Mac !== 'string') throw new Error('KMS answered GenerateMac without a Mac');
      return answer.Mac;
    },
    async verify(body, mac) {
      if (!MAC_SHAPE.test(mac)) return false;
      try {
        const answer = await kms()('VerifyMac', { KeyId: options.keyArn, MacAlgorithm: MAC_ALGORITHM, Message: message(body), Mac: mac });
        return answer.MacValid === true;
      } catch (error) {
        if ((error as { name?: string }).name === 'KMSInvalidMacException') return false;
        throw error;
      }
    },
  };
}
