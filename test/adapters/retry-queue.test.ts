import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import type { PendingCreation } from '../../functions/core/delivery-types.ts';
import { createRetryQueueOperations, createRetryQueueSender, MAX_MESSAGE_BYTES } from '../../functions/adapters/retry-queue.ts';

/** A MAC that says what it signed, so the tests can see what was signed. */
const mac = { sign: async (body: string) => `mac-of-${body.length}`, verify: async () => true };
const settings = { region: 'eu-west-1', credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }), mac };
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tekton-bridge-retry';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tekton-bridge-dead-letters';

function pending(overrides: Partial<PendingCreation> = {}): PendingCreation {
  return {
    deliveryId: 'd-1',
    event: 'push',
    eventListener: 'github-push',
    trigger: 'default-branch',
    bodyDigest: 'a'.repeat(64),
    summary: { repository: 'octo/hello', ref: 'refs/heads/main', commit: 'c0ffee' },
    params: { revision: 'c0ffee' },
    reason: 'the Kubernetes API answered 503 Service Unavailable',
    permanent: false,
    ...overrides,
  };
}

const sqs = mockClient(SQSClient);
afterEach(() => sqs.reset());

describe('createRetryQueueSender (the webhook side)', () => {
  it('sends the pending creation as the body, MACed, with the delivery, trigger and reason as attributes', async () => {
    // Prepare
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
    const enqueue = createRetryQueueSender({ ...settings, queueUrl: QUEUE });
    // Act
    const result = await enqueue(pending());
    // Assess
    assert.deepEqual(result, { queued: true });
    const [call] = sqs.commandCalls(SendMessageCommand);
    assert.equal(call?.args[0].input.QueueUrl, QUEUE);
    assert.deepEqual(JSON.parse(call?.args[0].input.MessageBody ?? ''), pending());
    assert.deepEqual(call?.args[0].input.MessageAttributes, {
      reason: { DataType: 'String', StringValue: 'the Kubernetes API answered 503 Service Unavailable' },
      deliveryId: { DataType: 'String', StringValue: 'd-1' },
      trigger: { DataType: 'String', StringValue: 'default-branch' },
      mac: { DataType: 'String', StringValue: `mac-of-${call?.args[0].input.MessageBody?.length}` },
    });
  });

  it('does not queue what it could not sign, and says why', async () => {
    const failing = { sign: async () => Promise.reject(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' })), verify: async () => false };
    const result = await createRetryQueueSender({ ...settings, mac: failing, queueUrl: QUEUE })(pending());
    assert.deepEqual(result, { queued: false, reason: 'the retry message could not be signed with KMS (AccessDeniedException: not allowed)' });
    assert.equal(sqs.commandCalls(SendMessageCommand).length, 0);
  });

  it('says why when SQS refuses, and never throws', async () => {
    sqs.on(SendMessageCommand).rejects(Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' }));
    const result = await createRetryQueueSender({ ...settings, queueUrl: QUEUE })(pending());
    assert.deepEqual(result, { queued: false, reason: 'the retry queue could not be written (QueueDoesNotExist: The specified queue does not exist.)' });
  });

  it('does not try to queue a pending creation larger than an SQS message', async () => {
    const big = pending({ params: { revision: 'x'.repeat(MAX_MESSAGE_BYTES) } });
    const result = await createRetryQueueSender({ ...settings, queueUrl: QUEUE })(big);
    assert.equal(result.queued, false);
    assert.match(result.queued ? '' : result.reason, /^the pending creation is \d+ bytes, more than an SQS message holds \(262144 bytes\)$/);
    assert.equal(sqs.commandCalls(SendMessageCommand).length, 0);
  });
});

describe('createRetryQueueOperations (the retry function side)', () => {
  it('parks a creation in the dead-letter queue with the reason, MACed again and replayable by a redrive (permanent: false)', async () => {
    sqs.on(SendMessageCommand).resolves({});
    const queue = createRetryQueueOperations({ ...settings, retryQueueUrl: QUEUE, deadLetterQueueUrl: DLQ });
    await queue.deadLetter({ pending: pending({ permanent: true, reason: 'RBAC' }), reason: 'not retried, no retry will cure it: RBAC', attempt: 2 });
    const input = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    assert.equal(input?.QueueUrl, DLQ);
    const body = JSON.parse(input?.MessageBody ?? '');
    assert.equal(body.permanent, false);
    assert.equal(body.reason, 'RBAC');
    assert.deepEqual(body.deadLetter, { reason: 'not retried, no retry will cure it: RBAC', attempts: 2, permanentFailure: true });
    assert.equal(input?.MessageAttributes?.reason?.StringValue, 'not retried, no retry will cure it: RBAC');
    assert.equal(input?.MessageAttributes?.mac?.StringValue, `mac-of-${input?.MessageBody?.length}`);
  });

  it('parks an unreadable message as it came, unsigned, and throws when the dead-letter queue cannot be written', async () => {
    sqs.on(SendMessageCommand).resolvesOnce({}).rejects(new Error('down'));
    const queue = createRetryQueueOperations({ ...settings, retryQueueUrl: QUEUE, deadLetterQueueUrl: DLQ });
    await queue.deadLetter({ unreadableBody: 'garbage', reason: 'not a pending creation', attempt: 2 });
    assert.deepEqual(JSON.parse(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? ''), {
      unreadableBody: 'garbage',
      deadLetter: { reason: 'not a pending creation', attempts: 2 },
    });
    assert.equal(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageAttributes?.mac, undefined);
    await assert.rejects(queue.deadLetter({ unreadableBody: 'x', reason: 'y', attempt: 2 }), /down/);
  });

  it('postpones the next attempt with ChangeMessageVisibility on the retry queue', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    await createRetryQueueOperations({ ...settings, retryQueueUrl: QUEUE, deadLetterQueueUrl: DLQ }).postpone('handle-1', 120);
    assert.deepEqual(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input, { QueueUrl: QUEUE, ReceiptHandle: 'handle-1', VisibilityTimeout: 120 });
  });
});
