import type { MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { EnqueueCreation, PendingCreation } from '../core/delivery-types.ts';
import { MAC_ATTRIBUTE, type RetryMessageMac } from './retry-message-mac.ts';

/**
 * SQS's classic message limit (body and attributes). A pending creation is its params, well under a KiB as a rule; one over this is not queued:
 * the delivery is answered 503 with the reason (GitHub shows it, a person can redeliver) and the failure alarm rings.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;
const ATTRIBUTE_ALLOWANCE = 2 * 1024;
const MAX_REASON_ATTRIBUTE = 1000;

export interface SqsSettings {
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** AWS_ENDPOINT_URL_SQS, read at the cold start. */
  endpoint?: string;
  /** SDK attempts per call; the webhook keeps it low, GitHub gives up after 10 s. */
  maxAttempts?: number;
  /** Per HTTP request. */
  timeoutMs?: number;
}

type SqsModule = typeof import('@aws-sdk/client-sqs');

/**
 * The SQS client, made on first use. `@aws-sdk/client-sqs` is external to the bundles (the Lambda runtime ships it) and
 * imported dynamically here, at the point of use: a static import would be hoisted to the bundle's top and loaded on
 * every cold start, while the webhook needs it only when a creation fails.
 */
function lazySqs(settings: SqsSettings): () => Promise<{ client: SQSClient; sdk: SqsModule }> {
  let loaded: Promise<{ client: SQSClient; sdk: SqsModule }> | undefined;
  return () => {
    loaded ??= import('@aws-sdk/client-sqs')
      .then((sdk) => ({
        sdk,
        client: new sdk.SQSClient({
          region: settings.region,
          credentials: settings.credentials,
          ...(settings.endpoint !== undefined && { endpoint: settings.endpoint }),
          maxAttempts: settings.maxAttempts ?? 3,
          // Without throwOnRequestTimeout, recent SDKs only warn when the timeout passes, and keep waiting.
          requestHandler: { connectionTimeout: 1000, requestTimeout: settings.timeoutMs ?? 3000, throwOnRequestTimeout: true },
        }),
      }))
      .catch((error: unknown) => {
        loaded = undefined;
        throw error;
      });
    return loaded;
  };
}

/**
 * The webhook's side: puts what could not be created on the retry queue, its body MACed (attribute `mac`) so the retry
 * function knows the webhook wrote it. Never throws; says why it could not.
 */
export function createRetryQueueSender(settings: SqsSettings & { queueUrl: string; mac: RetryMessageMac }): EnqueueCreation {
  const sqs = lazySqs(settings);
  return async (pending) => {
    const body = JSON.stringify(pending);
    const bytes = Buffer.byteLength(body);
    if (bytes > MAX_MESSAGE_BYTES - ATTRIBUTE_ALLOWANCE) {
      return { queued: false, reason: `the pending creation is ${bytes} bytes, more than an SQS message holds (${MAX_MESSAGE_BYTES} bytes)` };
    }
    let mac: string;
    try {
      mac = await settings.mac.sign(body);
    } catch (error) {
      return { queued: false, reason: `the retry message could not be signed with KMS (${describeError(error)})` };
    }
    try {
      const { client, sdk } = await sqs();
      await client.send(new sdk.SendMessageCommand({ QueueUrl: settings.queueUrl, MessageBody: body, MessageAttributes: attributesOf(pending, pending.reason, mac) }));
      return { queued: true };
    } catch (error) {
      if ((error as { name?: string }).name === 'TimeoutError') {
        // SQS may have taken it all the same: then it is retried, and a redelivery meets the same names.
        return { queued: false, reason: `the retry queue did not confirm in time (${describeError(error)}); a redelivery is safe, the names are deterministic` };
      }
      return { queued: false, reason: `the retry queue could not be written (${describeError(error)})` };
    }
  };
}

/** A creation parked for a person: the pending creation as queued, and why it was parked. */
export interface DeadLetter {
  /** The queued message's body as it came, when it was not accepted as a pending creation (never signed again). */
  unreadableBody?: string;
  pending?: PendingCreation;
  reason: string;
  attempt: number;
}

export interface RetryQueueOperations {
  /** Sends it to the dead-letter queue; throws when SQS cannot take it (the message then stays on the retry queue). */
  deadLetter: (letter: DeadLetter) => Promise<void>;
  /** The next attempt, no sooner than `seconds` from now (ChangeMessageVisibility). Best effort. */
  postpone: (receiptHandle: string, seconds: number) => Promise<void>;
}

/**
 * The retry function's side: park in the dead-letter queue, postpone on the retry queue. A parked pending creation is
 * MACed again (its body changed), so a redrive to the retry queue is accepted; a message that was refused is parked
 * as it came, unsigned, and a redrive refuses it again.
 */
export function createRetryQueueOperations(settings: SqsSettings & { retryQueueUrl: string; deadLetterQueueUrl: string; mac: RetryMessageMac }): RetryQueueOperations {
  const sqs = lazySqs(settings);
  return {
    async deadLetter(letter) {
      const body = JSON.stringify(deadLetterBody(letter));
      const mac = letter.pending ? await settings.mac.sign(body) : undefined;
      const { client, sdk } = await sqs();
      await client.send(
        new sdk.SendMessageCommand({
          QueueUrl: settings.deadLetterQueueUrl,
          MessageBody: body,
          MessageAttributes: attributesOf(letter.pending, letter.reason, mac),
        }),
      );
    },
    async postpone(receiptHandle, seconds) {
      const { client, sdk } = await sqs();
      await client.send(new sdk.ChangeMessageVisibilityCommand({ QueueUrl: settings.retryQueueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }));
    },
  };
}

/**
 * The dead-letter message: the pending creation with `permanent: false`, so that a redrive back to the retry queue
 * (SQS's "start DLQ redrive") tries it again once a person has fixed the cause, and `deadLetter` saying why it is here.
 */
export function deadLetterBody(letter: DeadLetter): Record<string, unknown> {
  const deadLetter = { reason: letter.reason, attempts: letter.attempt, ...(letter.pending?.permanent && { permanentFailure: true }) };
  if (letter.pending) return { ...letter.pending, permanent: false, deadLetter };
  return { unreadableBody: letter.unreadableBody, deadLetter };
}

function attributesOf(pending: PendingCreation | undefined, reason: string, mac: string | undefined): Record<string, MessageAttributeValue> {
  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value === '' ? '-' : value });
  return {
    reason: text(reason.length > MAX_REASON_ATTRIBUTE ? `${reason.slice(0, MAX_REASON_ATTRIBUTE)}…` : reason),
    ...(pending && { deliveryId: text(pending.deliveryId.slice(0, 256)), trigger: text(pending.trigger.slice(0, 256)) }),
    ...(mac !== undefined && { [MAC_ATTRIBUTE]: text(mac) }),
  };
}

function describeError(error: unknown): string {
  const name = (error as { name?: string }).name;
  const message = error instanceof Error ? error.message : String(error);
  return name && name !== 'Error' && !message.includes(name) ? `${name}: ${message}` : message;
}
