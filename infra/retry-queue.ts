import * as path from 'node:path';
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BridgeFunction, metricsNamespace, type FunctionPlacement } from './bridge-function.ts';
import { projectRoot } from './function-bundling.ts';

export interface RetryQueueProps {
  /** Prefixes the function, alarm and widget names (`<name>-retry`, `<name>-dead-letters`); the metrics' `service`. */
  readonly namePrefix: string;
  /** The webhook function: it may send to the retry queue and sign what it sends, and do nothing else with either. */
  readonly webhookFunction: BridgeFunction;
  readonly clusterName: string;
  /**
   * The cluster's API endpoint and CA (PEM, or base64 of it as EKS returns it), literal or deploy-time tokens: the
   * retry function never calls DescribeCluster and is not granted any EKS permission.
   */
  readonly clusterEndpoint: string;
  readonly clusterCa: string;
  /** Copied into the bundle: the retry function creates only what this configuration could have rendered. */
  readonly triggersDir: string;
  /** The handler's source; default `functions/retry.ts`. Tests point it at a fixture. */
  readonly entry?: string;
  readonly logRetention?: logs.RetentionDays;
  /** VPC mode: where the retry function runs, as the webhook function. */
  readonly network?: FunctionPlacement;
  /** Roles besides the two functions' that may send to the retry queue: people who redrive the dead-letter queue. */
  readonly redriveRoleArns?: readonly string[];
  /** Attempts in all, the webhook's own first try included, before a creation is parked in the DLQ. Default 16. */
  readonly maxAttempts?: number;
  /** The first wait after a failed retry, doubling up to `maxBackoff`. Default 30 s and 15 min. */
  readonly backoffBase?: Duration;
  readonly maxBackoff?: Duration;
}

/** Records per invocation, and concurrent invocations: a cluster coming back is not stampeded. */
export const retryEventSource = { batchSize: 10, maxConcurrency: 2 } as const;
export const retryFunctionTimeout = Duration.seconds(60);

/** Administration of a KMS key without the right to use it: what the account keeps over the message-signing key. */
const keyAdministration = [
  'kms:CancelKeyDeletion',
  'kms:Create*',
  'kms:Delete*',
  'kms:Describe*',
  'kms:Disable*',
  'kms:Enable*',
  'kms:Get*',
  'kms:List*',
  'kms:Put*',
  'kms:Revoke*',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:Update*',
];

/**
 * What makes "created exactly once, or parked with its reason" hold when the cluster fails, and keeps the queue from
 * being a way into the cluster: the retry queue and its dead-letter queue (TLS only, under a customer-managed KMS
 * key, SendMessage denied to every principal but the bridge's functions), an HMAC KMS key only those two functions may
 * sign (and the retry function verify) with, the retry function consuming the queue with partial batch failures and a
 * growing backoff, SQS's own redrive as a backstop, and the alarms and widgets to watch them.
 */
export class RetryQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  /** Encrypts both queues. */
  readonly queueKey: kms.Key;
  /** HMAC_256: the webhook signs each message it queues; the retry function verifies, and re-signs what it parks. */
  readonly messageMacKey: kms.Key;
  readonly retryFunction: BridgeFunction;
  /** Dead letters, sustained postponements, retry-function errors. Give them the stack's alarm actions. */
  readonly alarms: cloudwatch.Alarm[];
  /** Rows of widgets for the stack's dashboard (`dashboard.addWidgets(...row)`). */
  readonly widgetRows: cloudwatch.IWidget[][];

  constructor(scope: Construct, id: string, props: RetryQueueProps) {
    super(scope, id);
    const maxAttempts = props.maxAttempts ?? 16;
    const webhookRole = props.webhookFunction.functionRole;

    this.queueKey = new kms.Key(this, 'QueueKey', {
      description: `Encrypts the retry and dead-letter queues of ${props.namePrefix}`,
      enableKeyRotation: true,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
      // AWS's advice for a Lambda event source: six times the function's timeout.
      visibilityTimeout: Duration.seconds(retryFunctionTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      // The cluster just failed; the first retry waits a little.
      deliveryDelay: Duration.seconds(15),
      // The function parks a creation itself after maxAttempts; this catches what it could not (a crash, a DLQ outage).
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: maxAttempts + 3 },
    });

    this.retryFunction = new BridgeFunction(this, 'RetryFunction', {
      entry: props.entry ?? path.join(projectRoot, 'functions', 'retry.ts'),
      functionName: `${props.namePrefix}-retry`,
      serviceName: props.namePrefix,
      description: 'Creates the PipelineRuns the webhook function could not, from the retry queue',
      triggersDir: props.triggersDir,
      timeout: retryFunctionTimeout,
      ...(props.logRetention !== undefined && { logRetention: props.logRetention }),
      ...(props.network !== undefined && { network: props.network }),
      environment: {
        CLUSTER_NAME: props.clusterName,
        CLUSTER_ENDPOINT: props.clusterEndpoint,
        CLUSTER_CA: props.clusterCa,
        RETRY_QUEUE_URL: this.queue.queueUrl,
        DEAD_LETTER_QUEUE_URL: this.deadLetterQueue.queueUrl,
        RETRY_MAX_ATTEMPTS: String(maxAttempts),
        RETRY_BACKOFF_BASE_SECONDS: String((props.backoffBase ?? Duration.seconds(30)).toSeconds()),
        RETRY_BACKOFF_MAX_SECONDS: String((props.maxBackoff ?? Duration.minutes(15)).toSeconds()),
      },
    });
    const fn = this.retryFunction;
    const retryRole = fn.functionRole;

    // Least privilege, by hand rather than grantSendMessages (which adds GetQueueUrl, GetQueueAttributes and
    // kms:Encrypt/ReEncrypt*): a producer of an SSE-KMS queue needs kms:GenerateDataKey and kms:Decrypt, through SQS.
    const viaSqs = { StringEquals: { 'kms:ViaService': `sqs.${Aws.REGION}.${Aws.URL_SUFFIX}` } };
    const sendTo = (role: iam.Role, sid: string, queues: sqs.Queue[]) => {
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: `SendTo${sid}`, actions: ['sqs:SendMessage'], resources: queues.map((q) => q.queueArn) }));
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: `EncryptFor${sid}`, actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [this.queueKey.keyArn], conditions: viaSqs }),
      );
    };
    sendTo(webhookRole, 'RetryQueue', [this.queue]);
    // The retry function consumes (the event source grants it, kms:Decrypt included), parks, and may re-queue.
    fn.addEventSource(new SqsEventSource(this.queue, { ...retryEventSource, reportBatchItemFailures: true }));
    sendTo(retryRole, 'Queues', [this.queue, this.deadLetterQueue]);

    // Whatever IAM policies in the account say, only these principals may put a message on the queues.
    const denySendExcept = (queue: sqs.Queue, allowed: string[]) =>
      queue.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'OnlyTheBridgeSends',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
          // SQS's own move to the dead-letter queue (maxReceiveCount) is the service's, never denied here.
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': allowed }, Bool: { 'aws:PrincipalIsAWSService': 'false' } },
        }),
      );
    denySendExcept(this.queue, [webhookRole.roleArn, retryRole.roleArn, ...(props.redriveRoleArns ?? [])]);
    denySendExcept(this.deadLetterQueue, [retryRole.roleArn]);

    // The key policy alone decides who may sign: it names the two roles and does not defer to IAM policies.
    const onlySha256 = { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } };
    this.messageMacKey = new kms.Key(this, 'MessageMacKey', {
      description: `Signs and verifies the retry queue messages of ${props.namePrefix}`,
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      pendingWindow: Duration.days(7),
      removalPolicy: RemovalPolicy.DESTROY,
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({ sid: 'AccountAdministersButDoesNotUse', principals: [new iam.AccountRootPrincipal()], actions: keyAdministration, resources: ['*'] }),
          new iam.PolicyStatement({ sid: 'WebhookSigns', principals: [new iam.ArnPrincipal(webhookRole.roleArn)], actions: ['kms:GenerateMac'], resources: ['*'], conditions: onlySha256 }),
          new iam.PolicyStatement({
            sid: 'RetrySignsAndVerifies',
            principals: [new iam.ArnPrincipal(retryRole.roleArn)],
            actions: ['kms:GenerateMac', 'kms:VerifyMac'],
            resources: ['*'],
            conditions: onlySha256,
          }),
        ],
      }),
    });
    props.webhookFunction.addEnvironment('RETRY_MESSAGE_MAC_KEY_ARN', this.messageMacKey.keyArn);
    fn.addEnvironment('RETRY_MESSAGE_MAC_KEY_ARN', this.messageMacKey.keyArn);

    const minute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const deadLetters = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: minute });
    const oldest = this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: minute });
    const retryMetric = (metricName: string, period = fiveMinutes) =>
      new cloudwatch.Metric({ namespace: metricsNamespace, metricName, dimensionsMap: { service: props.namePrefix }, statistic: 'Sum', period });
    this.alarms = [
      new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
        alarmName: `${props.namePrefix}-dead-letters`,
        alarmDescription:
          'A PipelineRun could not be created and was parked in the dead-letter queue with its reason (a permanent failure such as RBAC, ' +
          'retries exhausted, or a message the bridge did not write). Read the reason in the message or the retry function\'s log ("pending creation dead-lettered"), fix the cause, ' +
          'then redrive the dead-letter queue to the retry queue (README: --destination-arn RetryQueueArn): the names are deterministic, so nothing runs twice.',
        // Each arrival, not the depth: a depth alarm rings once and then stays in ALARM while the letters wait.
        // The function counts what it parks; SQS's own redrive (maxReceiveCount) shows only as the depth growing.
        metric: new cloudwatch.MathExpression({
          expression: 'MAX([parked, IF(DIFF(depth) > 0, DIFF(depth), 0)])',
          usingMetrics: { parked: retryMetric('DeadLettered', minute), depth: deadLetters },
          period: minute,
          label: 'Dead letters arriving',
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'PostponedAlarm', {
        alarmName: `${props.namePrefix}-retries-postponed`,
        alarmDescription:
          'The retry function has postponed creations for 30 minutes: the cluster\'s API has been failing for that long. It keeps trying with ' +
          'backoff; see its log ("pending creation postponed") for the reason.',
        // The function's own count, not ApproximateAgeOfOldestMessage, which skips messages received three times or more.
        metric: retryMetric('RetryPostponed', Duration.minutes(15)),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'RetryErrorsAlarm', {
        alarmName: `${props.namePrefix}-retry-function-errors`,
        alarmDescription: 'The retry function threw or timed out; its batch comes back after the visibility timeout, and SQS\'s redrive ends a loop.',
        metric: fn.metricErrors({ statistic: 'Sum', period: fiveMinutes }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];

    const period = fiveMinutes;
    this.widgetRows = [
      [
        new cloudwatch.GraphWidget({
          title: 'Retry queue',
          left: [
            this.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: minute, label: 'Waiting' }),
            this.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: minute, label: 'Backing off / in flight' }),
            deadLetters.with({ label: 'Dead letters' }),
          ],
          right: [oldest.with({ label: 'Oldest queued creation (s)' })],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Retries by outcome',
          left: [
            retryMetric('RetryCreated').with({ label: 'Created' }),
            retryMetric('RetryDuplicate').with({ label: 'Already there' }),
            retryMetric('RetryPostponed').with({ label: 'Postponed' }),
            retryMetric('DeadLettered').with({ label: 'Dead-lettered' }),
          ],
          right: [fn.metricErrors({ period, statistic: 'Sum', label: 'Function errors' })],
          width: 12,
        }),
      ],
      [
        new cloudwatch.LogQueryWidget({
          title: 'Dead-lettered and postponed creations',
          logGroupNames: [fn.functionLogGroup.logGroupName],
          queryLines: [
            'fields @timestamp, deliveryId, trigger, outcome, attempt, reason',
            'filter outcome in ["dead-lettered", "queued"]',
            'sort @timestamp desc',
            'limit 20',
          ],
          width: 24,
        }),
      ],
    ];
  }
}
