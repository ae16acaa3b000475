/**
 * Lambda's SQS event source mapping, played against moto_server for tests: receive a batch, hand it to the handler as
 * an SQSEvent, delete what the handler did not report in `batchItemFailures` (all of it when the handler throws stays).
 *
 *   const report = await drainQueue({ sqs, queueUrl, queueArn, handler });
 */
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse>;

export interface EventSource {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  /** As the CDK construct sets it. */
  batchSize?: number;
  /** How long a received batch stays invisible before the handler's ChangeMessageVisibility (Lambda: the queue's). */
  visibilityTimeoutSeconds?: number;
}

export interface PollReport {
  received: number;
  deleted: number;
  failed: number;
  threw: boolean;
}

/** One batch: receive, invoke, delete the successes. */
export async function pollOnce(source: EventSource): Promise<PollReport> {
  const { Messages: messages = [] } = await source.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: source.queueUrl,
      MaxNumberOfMessages: source.batchSize ?? 10,
      VisibilityTimeout: source.visibilityTimeoutSeconds ?? 30,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  if (messages.length === 0) return { received: 0, deleted: 0, failed: 0, threw: false };
  let failedIds: Set<string>;
  let threw = false;
  try {
    const response = await source.handler({ Records: messages.map((m) => recordOf(m, source.queueArn)) });
    failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch {
    threw = true;
    failedIds = new Set(messages.map((m) => m.MessageId as string));
  }
  let deleted = 0;
  for (const message of messages) {
    if (failedIds.has(message.MessageId as string)) continue;
    await source.sqs.send(new DeleteMessageCommand({ QueueUrl: source.queueUrl, ReceiptHandle: message.ReceiptHandle }));
    deleted += 1;
  }
  return { received: messages.length, deleted, failed: messages.length - deleted, threw };
}

export interface DrainReport {
  polls: number;
  received: number;
  deleted: number;
  failed: number;
  /** True when the queue held nothing, visible, in flight or delayed, at the end. */
  empty: boolean;
}

/**
 * Polls until the queue is empty (nothing visible, in flight or delayed), `maxPolls` batches, or `timeoutMs`.
 * Bounded: with a backoff of 0 s a failing message comes straight back, and SQS's maxReceiveCount ends it.
 */
export async function drainQueue(source: EventSource & { maxPolls?: number; timeoutMs?: number; idleWaitMs?: number }): Promise<DrainReport> {
  const maxPolls = source.maxPolls ?? 200;
  const deadline = Date.now() + (source.timeoutMs ?? 30_000);
  const report: DrainReport = { polls: 0, received: 0, deleted: 0, failed: 0, empty: false };
  while (report.polls < maxPolls && Date.now() < deadline) {
    const poll = await pollOnce(source);
    report.polls += 1;
    report.received += poll.received;
    report.deleted += poll.deleted;
    report.failed += poll.failed;
    if (poll.received === 0) {
      if ((await queueDepth(source.sqs, source.queueUrl)).total === 0) {
        report.empty = true;
        return report;
      }
      await new Promise((resolve) => setTimeout(resolve, source.idleWaitMs ?? 50));
    }
  }
  report.empty = (await queueDepth(source.sqs, source.queueUrl)).total === 0;
  return report;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number; delayed: number; total: number }> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const visible = Number(a.ApproximateNumberOfMessages ?? 0);
  const inFlight = Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
  const delayed = Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  return { visible, inFlight, delayed, total: visible + inFlight + delayed };
}

/** Receives and deletes everything a queue holds (a dead-letter queue, for assertions); bounded. */
export async function takeAll(sqs: SQSClient, queueUrl: string, maxBatches = 100): Promise<Message[]> {
  const taken: Message[] = [];
  for (let i = 0; i < maxBatches; i += 1) {
    const { Messages: messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
    );
    if (messages.length === 0) break;
    for (const message of messages) {
      taken.push(message);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return taken;
}

function recordOf(message: Message, queueArn: string): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        { dataType: value.DataType ?? 'String', stringValue: value.StringValue, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
  };
}
