import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BridgeFunction, powertoolsEnvironment } from './bridge-function.ts';
import { projectRoot } from './function-bundling.ts';

export interface RetryQueueProps {
  /** Prefixes the function, alarm and widget names, like the stack's own (`<name>-retry`, `<name>-dead-letters`). */
  readonly namePrefix: string;
  /** The webhook function: it may send to the retry queue, and do nothing else with it. */
  readonly webhookFunction: lambda.IFunction;
  readonly clusterName: string;
  /**
   * The cluster's API endpoint and CA (PEM, or base64 of it as EKS returns it), literal or deploy-time tokens: the
   * retry function never calls DescribeCluster and is not granted any EKS permission.
   */
  readonly clusterEndpoint: string;
  readonly clusterCa: string;
  /** The Kubernetes group the retry function's role is mapped to, as the webhook's (tekton/10-bridge-rbac.yaml). */
  readonly kubernetesGroup: string;
  /** Copied into the bundle as BridgeFunction does for every function (the retry function does not read it). */
  readonly triggersDir: string;
  /** The handler's source; default `functions/retry.ts`. Tests point it at a fixture. */
  readonly entry?: string;
  readonly logRetention?: logs.RetentionDays;
  /** Attempts in all, the webhook's own first try included, before a creation is parked in the DLQ. Default 16. */
  readonly maxAttempts?: number;
  /** The first wait after a failed retry, doubling up to `maxBackoff`. Default 30 s and 15 min. */
  readonly backoffBase?: Duration;
  readonly maxBackoff?: Duration;
  /** The alarm rings when the oldest queued creation is this old. Default 15 minutes. */
  readonly oldestMessageAlarmAge?: Duration;
}

/** Records per invocation, and concurrent invocations: a cluster coming back is not stampeded. */
export const retryEventSource = { batchSize: 10, maxConcurrency: 2 } as const;
export const retryFunctionTimeout = Duration.seconds(60);

/**
 * What makes "created exactly once, or parked with its reason" hold when the cluster fails: the retry queue (SSE,
 * TLS only) the webhook function sends to, the retry function consuming it with partial batch failures and a growing
 * backoff, the dead-letter queue for permanent failures and exhausted retries, SQS's own redrive as a backstop, and the
 * alarms and widgets to watch them. The webhook function still needs RETRY_QUEUE_URL (see README: wiring).
 */
export class RetryQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly retryFunction: BridgeFunction;
  /** DLQ not empty; oldest queued creation too old. Give them the stack's alarm actions and alarm status widget. */
  readonly alarms: cloudwatch.Alarm[];
  /** Rows of widgets for the stack's dashboard (`dashboard.addWidgets(...row)`). */
  readonly widgetRows: cloudwatch.IWidget[][];

  constructor(scope: Construct, id: string, props: RetryQueueProps) {
    super(scope, id);
    const maxAttempts = props.maxAttempts ?? 16;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
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
      description: 'Creates the PipelineRuns the webhook function could not, from the retry queue',
      triggersDir: props.triggersDir,
      timeout: retryFunctionTimeout,
      ...(props.logRetention !== undefined && { logRetention: props.logRetention }),
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

    // Least privilege: the webhook sends; the retry function consumes (the event source grants it) and parks.
    this.queue.grantSendMessages(props.webhookFunction);
    fn.addEventSource(new SqsEventSource(this.queue, { ...retryEventSource, reportBatchItemFailures: true }));
    this.deadLetterQueue.grantSendMessages(fn);
    // Its own role, mapped to the same Kubernetes group as the webhook's: it may create PipelineRuns, nothing else.
    new eks.CfnAccessEntry(this, 'RetryAccessEntry', {
      clusterName: props.clusterName,
      principalArn: fn.functionRole.roleArn,
      type: 'STANDARD',
      kubernetesGroups: [props.kubernetesGroup],
    });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose, as the webhook function: the project targets Node 22 (engines, esbuild target node22, local serve and CI); moving to a newer runtime is a tested change of its own.',
    });

    const minute = Duration.minutes(1);
    const deadLetters = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: minute });
    const oldest = this.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: minute });
    const oldestAge = props.oldestMessageAlarmAge ?? Duration.minutes(15);
    this.alarms = [
      new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
        alarmName: `${props.namePrefix}-dead-letters`,
        alarmDescription:
          'A PipelineRun could not be created and is parked in the dead-letter queue with its reason (a permanent failure such as RBAC, ' +
          'or retries exhausted). Read the reason in the message or the retry function\'s log ("pending creation dead-lettered"), fix the cause, ' +
          'then redrive the dead-letter queue to the retry queue: the names are deterministic, so nothing runs twice.',
        metric: deadLetters,
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'OldestQueuedAlarm', {
        alarmName: `${props.namePrefix}-retry-backlog-age`,
        alarmDescription:
          `A creation has waited on the retry queue for ${oldestAge.toMinutes()} minutes or more: the cluster's API has been failing for that long. ` +
          'The retry function keeps trying with backoff; see its log ("pending creation postponed") for the reason.',
        metric: oldest,
        threshold: oldestAge.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];

    const period = Duration.minutes(5);
    const retryMetric = (metricName: string, label: string) =>
      new cloudwatch.Metric({
        namespace: powertoolsEnvironment.POWERTOOLS_METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service: powertoolsEnvironment.POWERTOOLS_SERVICE_NAME },
        statistic: 'Sum',
        period,
        label,
      });
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
            retryMetric('RetryCreated', 'Created'),
            retryMetric('RetryDuplicate', 'Already there'),
            retryMetric('RetryPostponed', 'Postponed'),
            retryMetric('DeadLettered', 'Dead-lettered'),
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
