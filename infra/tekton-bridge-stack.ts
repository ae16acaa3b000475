import { Aws, CfnMapping, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { TektonBridge, type TektonBridgeProps } from './tekton-bridge.ts';

export interface TektonBridgeStackProps extends StackProps, TektonBridgeProps {}

/** The AWS console's host per partition, for the dashboard link (a console is not at the partition's API DNS suffix). */
export const consoleHosts = {
  aws: 'console.aws.amazon.com',
  'aws-cn': 'console.amazonaws.cn',
  'aws-us-gov': 'console.amazonaws-us-gov.com',
} as const;

/** The repository's app: one TektonBridge, named after the stack, and the outputs the README's steps use. */
export class TektonBridgeStack extends Stack {
  readonly bridge: TektonBridge;

  constructor(scope: Construct, id: string, props: TektonBridgeStackProps) {
    super(scope, id, { description: 'tekton-bridge: GitHub webhooks to Tekton PipelineRuns on Amazon EKS', ...props });
    const bridge = new TektonBridge(this, 'Bridge', { name: this.stackName, ...props });
    this.bridge = bridge;
    const region = Aws.REGION;
    const webhookLogs = bridge.webhookFunction.functionLogGroup.logGroupName;
    const { queue, deadLetterQueue } = bridge.retryQueue;
    const repositoryUri = bridge.buildIdentity.imageRepository.repositoryUri;

    new CfnOutput(this, 'WebhookUrl', { description: 'Payload URL for the GitHub webhook (content type application/json)', value: bridge.webhookUrl });
    new CfnOutput(this, 'WebhookSecretCommand', {
      description: 'Prints the webhook secret to paste into GitHub',
      value: `aws secretsmanager get-secret-value --secret-id ${bridge.webhookSecret.secretArn} --region ${region} --query SecretString --output text`,
    });
    new CfnOutput(this, 'FunctionLogGroup', { description: 'Where each delivery logs one line; default of `tekton-bridge why`', value: webhookLogs });
    new CfnOutput(this, 'TailLogsCommand', { value: `aws logs tail ${webhookLogs} --region ${region} --follow --format short` });
    new CfnOutput(this, 'FunctionRoleArn', {
      description: 'The webhook function’s IAM role, mapped to the Kubernetes group tekton-bridge by an EKS access entry',
      value: bridge.webhookFunction.functionRole.roleArn,
    });
    new CfnOutput(this, 'RetryFunctionRoleArn', {
      description: 'The retry function’s IAM role, mapped to the same Kubernetes group by its own access entry',
      value: bridge.retryFunction.functionRole.roleArn,
    });
    new CfnOutput(this, 'RetryQueueArn', { description: 'The retry queue: the destination of a dead-letter redrive', value: queue.queueArn });
    new CfnOutput(this, 'DeadLetterQueueArn', { description: 'Creations parked with their reason', value: deadLetterQueue.queueArn });
    // Letters the function parked itself carry no redrive source, so the destination is named.
    new CfnOutput(this, 'RedriveCommand', {
      description: 'Moves the dead letters back to the retry queue, once the cause is fixed',
      value: `aws sqs start-message-move-task --source-arn ${deadLetterQueue.queueArn} --destination-arn ${queue.queueArn} --region ${region}`,
    });
    new CfnOutput(this, 'ImageRepositoryUri', { value: repositoryUri });
    new CfnOutput(this, 'BuildSettingsCommand', {
      description: 'Tells the build-image Task where to push (safe to run again)',
      value:
        `kubectl -n ${bridge.namespace} create configmap build-settings --from-literal=image-repository=${repositoryUri} ` +
        '--dry-run=client -o yaml | kubectl apply -f -',
    });
    new CfnOutput(this, 'TektonEventsUrl', {
      description: 'The sink for Tekton Pipelines’ CloudEvents (config-events): the API’s own URL, also behind the optional front',
      value: bridge.tektonEventsUrl,
    });
    new CfnOutput(this, 'TektonEventsSinkCommand', {
      description: 'Points Tekton Pipelines’ CloudEvents at the bridge (safe to run again)',
      value: `kubectl -n tekton-pipelines patch configmap config-events --type merge -p '{"data":{"formats":"tektonv1","sink":"${bridge.tektonEventsUrl}"}}'`,
    });
    new CfnOutput(this, 'GithubCredentialsSecretArn', {
      description: 'The secret the functions read the GitHub token or App from; {} reports nothing',
      value: bridge.githubCredentials.secretArn,
    });
    // From a file: the token never shows in an output, a process list or the shell's history. Safe to run again.
    new CfnOutput(this, 'GithubCredentialsCommand', {
      description: 'Puts the GitHub credentials, written to github-credentials.json first (README: "Report runs back to GitHub")',
      value: `aws secretsmanager put-secret-value --secret-id ${bridge.githubCredentials.secretArn} --region ${region} --secret-string file://github-credentials.json`,
    });
    new CfnOutput(this, 'ReporterFunctionRoleArn', {
      description: 'The reporter function’s IAM role, mapped to the same Kubernetes group by its own access entry',
      value: bridge.reporterFunction.functionRole.roleArn,
    });
    const consoleHost = new CfnMapping(this, 'ConsoleHost', {
      mapping: Object.fromEntries(Object.entries(consoleHosts).map(([partition, host]) => [partition, { host }])),
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: Fn.join('', [
        'https://',
        region,
        '.',
        consoleHost.findInMap(Aws.PARTITION, 'host'),
        '/cloudwatch/home?region=',
        region,
        '#dashboards/dashboard/',
        bridge.dashboard.dashboard.dashboardName,
      ]),
    });
    if (bridge.bridgeAlarms.alarmTopic !== undefined) new CfnOutput(this, 'AlarmTopicArn', { value: bridge.bridgeAlarms.alarmTopic.topicArn });
  }
}
