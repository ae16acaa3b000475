import { sign } from '@octokit/webhooks-methods';
import type { DeliveryRequest } from '../../functions/core/delivery-types.ts';

export const TEST_SECRET = 'test-webhook-secret';

export interface SignedDelivery {
  headers: Record<string, string>;
  body: Buffer;
}

/** A delivery signed the way GitHub signs it: HMAC-SHA256 of the exact body bytes. */
export async function signedDelivery(
  event: string,
  payload: unknown,
  options: { deliveryId?: string; secret?: string; contentType?: 'json' | 'form'; headers?: Record<string, string> } = {},
): Promise<SignedDelivery> {
  const json = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const form = options.contentType === 'form';
  const body = form ? `payload=${encodeURIComponent(json)}` : json;
  return {
    headers: {
      'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.deliveryId ?? '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': await sign(options.secret ?? TEST_SECRET, body),
      ...options.headers,
    },
    body: Buffer.from(body),
  };
}

export function asRequest(delivery: { headers: Record<string, string | undefined>; body: Buffer }, listenerPath = ''): DeliveryRequest {
  return { headers: delivery.headers, body: delivery.body, listenerPath };
}
