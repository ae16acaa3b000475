import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { metricsNamespace, type BridgeFunction } from './bridge-function.ts';
import type { WebhookApi } from './webhook-api.ts';

/** A metric the functions emit through Powertools (EMF): namespace TektonBridge, dimension service = the bridge's name. */
export function bridgeMetric(service: string, metricName: string, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: metricsNamespace, metricName, dimensionsMap: { service }, statistic, period });
}

export interface BridgeAlarmsProps {
  readonly name: string;
  readonly webhookFunction: BridgeFunction;
  readonly api: WebhookApi;
  /** Alarms made elsewhere (the retry queue's) that get the same actions. */
  readonly moreAlarms?: readonly cloudwatch.Alarm[];
  /** Notifications go to this address through an encrypted SNS topic. */
  readonly alarmEmail?: string;
}

/**
 * Every way a delivery can be lost or go wrong with nobody told: a failed creation, the function throwing, the webhook
 * secret unreadable (every delivery 503), signatures suddenly refused (a wrong secret in GitHub's settings, or a flood),
 * API Gateway's own 5xx, 429s from the stage throttle (GitHub does not retry them), bodies too large for Lambda.
 */
export class BridgeAlarms extends Construct {
  readonly alarms: cloudwatch.Alarm[];
  readonly alarmTopic?: sns.Topic;

  constructor(scope: Construct, id: string, props: BridgeAlarmsProps) {
    super(scope, id);
    const { name, webhookFunction: fn, api } = props;
    const five = Duration.minutes(5);
    const anyIn = (alarmId: string, alarmName: string, description: string, metric: cloudwatch.IMetric, threshold = 0) =>
      new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${name}-${alarmName}`,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: threshold === 0 ? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD : cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });

    this.alarms = [
      anyIn(
        'FailedDeliveries',
        'failed-deliveries',
        `A delivery could not create its PipelineRun (outcome failed). Look with the saved query ${name}/failures, or \`npx tekton-bridge why DELIVERY_ID\`.`,
        bridgeMetric(name, 'Failed', 'Sum', five),
      ),
      anyIn(
        'FunctionErrors',
        'function-errors',
        `The ${name}-webhook Lambda function threw or timed out (GitHub then sees a 5xx and does not retry).`,
        fn.metricErrors({ statistic: 'Sum', period: five }),
      ),
      anyIn(
        'SecretReadFailures',
        'secret-read-failures',
        'The webhook secret could not be read from Secrets Manager, so deliveries are answered 503 (log line "webhook secret unavailable"). ' +
          'Usual causes: the secret was deleted, or it is encrypted under a customer-managed KMS key the stack was not told of (context webhookSecretKmsKeyArn).',
        bridgeMetric(name, 'SecretReadFailures', 'Sum', five),
      ),
      anyIn(
        'RejectedSignatures',
        'rejected-signatures',
        'Several deliveries within an hour had no valid X-Hub-Signature-256: the secret in GitHub\'s webhook settings differs from the stack\'s ' +
          '(compare with the WebhookSecretCommand output), or someone is sending unsigned requests (see sourceIp in the API access log).',
        bridgeMetric(name, 'RejectedSignatures', 'Sum', Duration.hours(1)),
        3,
      ),
      anyIn('Api5xx', 'api-5xx', 'API Gateway answered 5xx: the function failed, timed out, or could not be invoked.', api.stage.metricServerError({ period: five, statistic: 'Sum' })),
      anyIn(
        'ApiThrottled',
        'api-throttled',
        'The stage throttle answered 429: GitHub does not retry such a delivery. Redeliver it from the hook\'s Recent Deliveries; if it is a flood, see the README on the optional front.',
        api.throttledRequests,
      ),
      anyIn(
        'BodyTooLarge',
        'body-too-large',
        'A request body was too large for Lambda (over 6 MB) and was answered by API Gateway before the function saw it; no log line of the function names it, the API access log does.',
        api.oversizedRequests,
      ),
      ...(props.moreAlarms ?? []),
    ];

    if (props.alarmEmail !== undefined) {
      this.alarmTopic = this.addAlarmTopic(name, props.alarmEmail);
      for (const alarm of this.alarms) {
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
        alarm.addOkAction(new cloudwatchActions.SnsAction(this.alarmTopic));
      }
    }
  }

  private addAlarmTopic(name: string, email: string): sns.Topic {
    // CloudWatch can't publish to a topic encrypted with the AWS-managed SNS key, so the topic gets
    // its own key that lets CloudWatch encrypt the messages it publishes.
    const key = new kms.Key(this, 'TopicKey', {
      description: `Encrypts the alarm topic of ${name}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = new sns.Topic(this, 'Topic', { displayName: `${name} alarms`, masterKey: key, enforceSSL: true });
    topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }
}
