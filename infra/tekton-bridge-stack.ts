import * as path from 'node:path';
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct, Node } from 'constructs';
import { BridgeFunction, powertoolsEnvironment } from './bridge-function.ts';
import { defaultTriggersDir, projectRoot } from './function-bundling.ts';
import { RetryQueue } from './retry-queue.ts';

/** What the app reads from CDK context (`-c key=value` or cdk.json). */
export interface BridgeSettings {
  /** CloudFormation stack name; also prefixes the function, log group, dashboard and alarms. */
  readonly stackName: string;
  /** The EKS cluster PipelineRuns are created on. */
  readonly clusterName: string;
  /** Namespace of the PipelineRuns and of the `build-bot` service account. */
  readonly namespace: string;
  /** An existing Secrets Manager secret (complete ARN) holding the GitHub webhook secret. */
  readonly webhookSecretArn?: string;
  /**
   * Given together, they replace the deploy-time DescribeCluster lookup (no custom resource); otherwise the stack
   * reads both from the cluster when it is deployed. Either way the functions get them as environment variables.
   */
  readonly clusterEndpoint?: string;
  readonly clusterCa?: string;
  /** Alarm notifications go to this address through an SNS topic. */
  readonly alarmEmail?: string;
  /** The trigger configuration bundled with the function. */
  readonly triggersDir: string;
}

export const contextKeys = [
  'clusterName',
  'namespace',
  'webhookSecretArn',
  'clusterEndpoint',
  'clusterCa',
  'alarmEmail',
  'stackName',
  'triggersDir',
] as const;

export const defaultStackName = 'tekton-bridge';
export const buildBotServiceAccount = 'build-bot';
/** The Kubernetes group the function's IAM role is mapped to; tekton/10-bridge-rbac.yaml binds it. */
export const bridgeKubernetesGroup = 'tekton-bridge';

export class BridgeSettingsError extends Error {
  override name = 'BridgeSettingsError';
}

/** Reads and checks the context; throws a BridgeSettingsError naming the key and how to set it. */
export function readBridgeSettings(node: Node): BridgeSettings {
  const read = (key: (typeof contextKeys)[number]): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') {
      throw new BridgeSettingsError(`context value "${key}" must be a string, got ${JSON.stringify(value)}`);
    }
    return value.trim();
  };

  const clusterName = read('clusterName');
  if (clusterName === undefined) {
    throw new BridgeSettingsError(
      'missing context value "clusterName": name the EKS cluster, e.g. `npx cdk synth -c clusterName=my-cluster`',
    );
  }
  if (!/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/.test(clusterName)) {
    throw new BridgeSettingsError(`context value "clusterName" is not an EKS cluster name: ${JSON.stringify(clusterName)}`);
  }
  const namespace = read('namespace') ?? 'ci';
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new BridgeSettingsError(`context value "namespace" is not a Kubernetes namespace name: ${JSON.stringify(namespace)}`);
  }
  const stackName = read('stackName') ?? defaultStackName;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,39}$/.test(stackName)) {
    throw new BridgeSettingsError(
      `context value "stackName" must be letters, digits and hyphens, at most 40 long: ${JSON.stringify(stackName)}`,
    );
  }
  const webhookSecretArn = read('webhookSecretArn');
  if (webhookSecretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(webhookSecretArn)) {
    throw new BridgeSettingsError(
      'context value "webhookSecretArn" must be the complete secret ARN (ending in -XXXXXX), as `aws secretsmanager describe-secret --query ARN` prints it',
    );
  }
  const clusterEndpoint = read('clusterEndpoint');
  const clusterCa = read('clusterCa');
  if ((clusterEndpoint === undefined) !== (clusterCa === undefined)) {
    throw new BridgeSettingsError('context values "clusterEndpoint" and "clusterCa" go together: give both or neither');
  }
  if (clusterEndpoint !== undefined && !clusterEndpoint.startsWith('https://')) {
    throw new BridgeSettingsError('context value "clusterEndpoint" must be the https:// URL of the API server');
  }
  const alarmEmail = read('alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new BridgeSettingsError(`context value "alarmEmail" is not an e-mail address: ${JSON.stringify(alarmEmail)}`);
  }
  const triggersDir = path.resolve(projectRoot, read('triggersDir') ?? defaultTriggersDir);

  return {
    stackName,
    clusterName,
    namespace,
    triggersDir,
    ...(webhookSecretArn !== undefined && { webhookSecretArn }),
    ...(clusterEndpoint !== undefined && { clusterEndpoint }),
    ...(clusterCa !== undefined && { clusterCa }),
    ...(alarmEmail !== undefined && { alarmEmail }),
  };
}

export interface TektonBridgeStackProps extends StackProps, Omit<BridgeSettings, 'stackName'> {
  /** The webhook handler's source; default `functions/webhook.ts`. Tests point it at a fixture. */
  readonly webhookEntry?: string;
  /** The retry handler's source; default `functions/retry.ts`. */
  readonly retryEntry?: string;
}

/** API Gateway's default stage throttling for the webhook: GitHub sends bursts on big pushes. */
export const webhookThrottle = { rateLimit: 25, burstLimit: 50 } as const;
export const logRetention = logs.RetentionDays.ONE_MONTH;

/**
 * GitHub webhook → API Gateway HTTP API → Lambda → Tekton PipelineRuns on EKS, with the IAM,
 * cluster access, image registry, and the CloudWatch views and alarms to operate it.
 */
export class TektonBridgeStack extends Stack {
  readonly webhookFunction: BridgeFunction;
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly webhookSecret: secretsmanager.ISecret;
  readonly imageRepository: ecr.Repository;
  readonly buildBotRole: iam.Role;
  readonly alarmTopic?: sns.Topic;
  readonly retryQueue: RetryQueue;
  /** The deploy-time DescribeCluster call; absent when `clusterEndpoint` and `clusterCa` are given. */
  readonly clusterLookup?: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: TektonBridgeStackProps) {
    super(scope, id, {
      description: 'tekton-bridge: GitHub webhooks to Tekton PipelineRuns on Amazon EKS',
      ...props,
      stackName: props.stackName ?? defaultStackName,
    });
    const name = this.stackName;
    const clusterArn = this.formatArn({ service: 'eks', resource: 'cluster', resourceName: props.clusterName });

    // --- The cluster's endpoint and CA, resolved at deploy time -----------------------------------
    // Neither function calls eks:DescribeCluster at run time (it would cost each cold container the EKS client and a
    // round trip), and neither role may: the values are given, or read once here by a custom resource.
    let clusterEndpoint: string;
    let clusterCa: string;
    if (props.clusterEndpoint !== undefined && props.clusterCa !== undefined) {
      clusterEndpoint = props.clusterEndpoint;
      clusterCa = props.clusterCa;
    } else {
      this.clusterLookup = this.addClusterLookup(name, props.clusterName, clusterArn);
      clusterEndpoint = this.clusterLookup.getResponseField('cluster.endpoint');
      // Base64 of the PEM, as EKS returns it; the functions accept that as well as PEM.
      clusterCa = this.clusterLookup.getResponseField('cluster.certificateAuthority.data');
    }

    // --- Webhook secret -------------------------------------------------------------------------
    let generatedSecret: secretsmanager.Secret | undefined;
    if (props.webhookSecretArn !== undefined) {
      this.webhookSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'WebhookSecret', props.webhookSecretArn);
    } else {
      generatedSecret = new secretsmanager.Secret(this, 'WebhookSecret', {
        description: `GitHub webhook secret of ${name} (checked against X-Hub-Signature-256)`,
        // Letters and digits only: it is pasted into GitHub's form by hand.
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
      this.webhookSecret = generatedSecret;
    }

    // --- Function -------------------------------------------------------------------------------
    const functionName = `${name}-webhook`;
    this.webhookFunction = new BridgeFunction(this, 'WebhookFunction', {
      entry: props.webhookEntry ?? path.join(projectRoot, 'functions', 'webhook.ts'),
      functionName,
      description: 'Receives GitHub deliveries and creates Tekton PipelineRuns',
      triggersDir: props.triggersDir,
      logRetention,
      environment: {
        CLUSTER_NAME: props.clusterName,
        CLUSTER_ENDPOINT: clusterEndpoint,
        CLUSTER_CA: clusterCa,
        WEBHOOK_SECRET_ARN: this.webhookSecret.secretArn,
      },
    });
    const fn = this.webhookFunction;

    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadWebhookSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.webhookSecret.secretArn],
      }),
    );

    // The function's role becomes the Kubernetes group `tekton-bridge`; tekton/10-bridge-rbac.yaml
    // lets that group create PipelineRuns and TaskRuns in the namespace, and nothing else.
    new eks.CfnAccessEntry(this, 'BridgeAccessEntry', {
      clusterName: props.clusterName,
      principalArn: fn.functionRole.roleArn,
      type: 'STANDARD',
      kubernetesGroups: [bridgeKubernetesGroup],
    });

    // --- What could not be created at once: retried from a queue, or parked for a person -------------
    this.retryQueue = new RetryQueue(this, 'Retry', {
      namePrefix: name,
      webhookFunction: fn,
      clusterName: props.clusterName,
      clusterEndpoint,
      clusterCa,
      kubernetesGroup: bridgeKubernetesGroup,
      triggersDir: props.triggersDir,
      logRetention,
      ...(props.retryEntry !== undefined && { entry: props.retryEntry }),
    });
    fn.addEnvironment('RETRY_QUEUE_URL', this.retryQueue.queue.queueUrl);

    // --- Front door -----------------------------------------------------------------------------
    this.httpApi = new apigw.HttpApi(this, 'WebhookApi', {
      apiName: name,
      description: 'GitHub webhook endpoint of tekton-bridge',
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('WebhookIntegration', fn, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      // GitHub abandons a delivery after 10 s; the function's own timeout is 9 s.
      timeout: Duration.seconds(10),
    });
    const routes = [
      ...this.httpApi.addRoutes({ path: '/webhook', methods: [apigw.HttpMethod.POST], integration }),
      ...this.httpApi.addRoutes({ path: '/webhook/{listener}', methods: [apigw.HttpMethod.POST], integration }),
    ];
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'GitHub cannot sign requests with IAM, JWT or Cognito; every delivery is authenticated by the function, which checks X-Hub-Signature-256 (HMAC-SHA256 over the raw body with the webhook secret) before parsing anything, and answers 401 otherwise.',
      });
    }

    const accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogs', {
      logGroupName: `/aws/apigateway/${name}/access`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { ...webhookThrottle },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(accessLogGroup),
        format: apigwv1.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            httpMethod: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            error: '$context.error.message',
          }),
        ),
      },
    });
    const webhookUrl = `${this.stage.url}webhook`;

    // --- Image registry and the build-bot identity ---------------------------------------------
    this.imageRepository = new ecr.Repository(this, 'ImageRepository', {
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.AES_256,
      // Kept on `cdk destroy`: running workloads still pull from it.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { description: 'Drop untagged images after 14 days', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(14) },
        { description: 'Keep the 500 most recent images', tagStatus: ecr.TagStatus.ANY, maxImageCount: 500 },
      ],
    });

    this.buildBotRole = new iam.Role(this, 'BuildBotRole', {
      description: `EKS Pod Identity role of ${props.namespace}/${buildBotServiceAccount} on ${props.clusterName}: Kaniko pushes to ECR`,
      // Only this cluster's build-bot service account in this namespace may use it.
      assumedBy: new iam.SessionTagsPrincipal(
        new iam.ServicePrincipal('pods.eks.amazonaws.com').withConditions({
          StringEquals: {
            'aws:RequestTag/eks-cluster-arn': clusterArn,
            'aws:RequestTag/kubernetes-namespace': props.namespace,
            'aws:RequestTag/kubernetes-service-account': buildBotServiceAccount,
          },
        }),
      ),
    });
    const pushPolicy = new iam.Policy(this, 'BuildBotPushPolicy', {
      roles: [this.buildBotRole],
      statements: [
        new iam.PolicyStatement({
          sid: 'RegistryLogin',
          actions: ['ecr:GetAuthorizationToken'],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'PushToOwnRepository',
          actions: [
            'ecr:BatchCheckLayerAvailability',
            'ecr:BatchGetImage',
            'ecr:CompleteLayerUpload',
            'ecr:GetDownloadUrlForLayer',
            'ecr:InitiateLayerUpload',
            'ecr:PutImage',
            'ecr:UploadLayerPart',
          ],
          resources: [this.imageRepository.repositoryArn],
        }),
      ],
    });
    Validations.of(pushPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken supports no resource-level permissions (it returns a registry login token); every push and pull action is limited to the one repository.',
    });

    new eks.CfnPodIdentityAssociation(this, 'BuildBotPodIdentity', {
      clusterName: props.clusterName,
      namespace: props.namespace,
      serviceAccount: buildBotServiceAccount,
      roleArn: this.buildBotRole.roleArn,
    });

    // --- CloudWatch: queries, dashboard, alarms -------------------------------------------------
    this.addQueryDefinitions(name, fn.functionLogGroup);
    this.alarmTopic = props.alarmEmail !== undefined ? this.addAlarmTopic(name, props.alarmEmail) : undefined;
    const alarms = [...this.addAlarms(name, fn), ...this.retryQueue.alarms];
    if (this.alarmTopic !== undefined) {
      for (const alarm of alarms) {
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.alarmTopic));
        alarm.addOkAction(new cloudwatchActions.SnsAction(this.alarmTopic));
      }
    }
    const dashboard = this.addDashboard(name, fn, alarms);
    for (const row of this.retryQueue.widgetRows) dashboard.addWidgets(...row);

    // --- Suppressions with their reasons --------------------------------------------------------
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the project targets Node 22 (engines, esbuild target node22, local serve and CI); moving to a newer runtime is a tested change of its own.',
    });
    if (generatedSecret !== undefined) {
      Validations.of(generatedSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A GitHub webhook secret has to be changed in GitHub too, so it is rotated by hand (put a new value, update the webhook); the function accepts AWSCURRENT and AWSPREVIOUS during the switch.',
      });
    }

    // --- Outputs --------------------------------------------------------------------------------
    new CfnOutput(this, 'WebhookUrl', {
      description: 'Payload URL for the GitHub webhook (content type application/json)',
      value: webhookUrl,
    });
    new CfnOutput(this, 'WebhookSecretCommand', {
      description: 'Prints the webhook secret to paste into GitHub',
      value: `aws secretsmanager get-secret-value --secret-id ${this.webhookSecret.secretArn} --region ${Aws.REGION} --query SecretString --output text`,
    });
    new CfnOutput(this, 'FunctionLogGroup', {
      description: 'Where each delivery logs one line; default of `tekton-bridge why`',
      value: fn.functionLogGroup.logGroupName,
    });
    new CfnOutput(this, 'TailLogsCommand', {
      value: `aws logs tail ${fn.functionLogGroup.logGroupName} --region ${Aws.REGION} --follow --format short`,
    });
    new CfnOutput(this, 'FunctionRoleArn', {
      description: 'The IAM role mapped to the Kubernetes group tekton-bridge by the EKS access entry',
      value: fn.functionRole.roleArn,
    });
    new CfnOutput(this, 'ImageRepositoryUri', { value: this.imageRepository.repositoryUri });
    new CfnOutput(this, 'BuildSettingsCommand', {
      description: 'Tells the build-image Task where to push',
      value: `kubectl -n ${props.namespace} create configmap build-settings --from-literal=image-repository=${this.imageRepository.repositoryUri}`,
    });
    new CfnOutput(this, 'DashboardUrl', {
      value: Fn.join('', [
        'https://',
        Aws.REGION,
        '.console.aws.amazon.com/cloudwatch/home?region=',
        Aws.REGION,
        '#dashboards/dashboard/',
        dashboard.dashboardName,
      ]),
    });
    if (this.alarmTopic !== undefined) {
      new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
    }
  }

  /**
   * One eks:DescribeCluster call when the stack is created (again only if the call changes, i.e. another clusterName),
   * by CDK's AwsCustomResource. Its Lambda function gets a role of its own, as the bridge's functions do: it may write
   * to its own log group (kept a month) and describe this one cluster, instead of AWSLambdaBasicExecutionRole.
   */
  private addClusterLookup(name: string, clusterName: string, clusterArn: string): cr.AwsCustomResource {
    const functionName = `${name}-cluster-lookup`;
    const logGroup = new logs.LogGroup(this, 'ClusterLookupLogGroup', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(this, 'ClusterLookupRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${functionName} function: reads the endpoint and CA of ${clusterName} at deploy time`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    return new cr.AwsCustomResource(this, 'ClusterLookup', {
      resourceType: 'Custom::EksClusterLookup',
      functionName,
      role,
      logGroup,
      // The SDK v3 in the nodejs runtime has DescribeCluster; no download of the latest SDK during the deployment.
      installLatestAwsSdk: false,
      onUpdate: {
        service: 'eks',
        action: 'DescribeCluster',
        parameters: { name: clusterName },
        physicalResourceId: cr.PhysicalResourceId.of(clusterName),
        // Only these two come back: a custom resource's response is limited to 4 KB.
        outputPaths: ['cluster.endpoint', 'cluster.certificateAuthority.data'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({ sid: 'DescribeCluster', actions: ['eks:DescribeCluster'], resources: [clusterArn] }),
      ]),
    });
  }

  private addQueryDefinitions(name: string, logGroup: logs.ILogGroup): void {
    const delivery = 'message = "delivery handled"';
    const queries: Record<string, logs.QueryString> = {
      'one-delivery': new logs.QueryString({
        fields: ['@timestamp', 'message', 'status', 'outcome', 'reason', 'eventListener', 'repository', 'ref', 'commit', 'durationMs', 'error', '@message'],
        filterStatements: ['deliveryId = "PASTE-DELIVERY-ID"'],
        sort: '@timestamp asc',
        limit: 50,
      }),
      failures: new logs.QueryString({
        fields: ['@timestamp', 'deliveryId', 'event', 'repository', 'ref', 'status', 'outcome', 'reason', 'error'],
        filterStatements: ['outcome in ["failed", "rejected"] or status >= 500 or level = "ERROR"'],
        sort: '@timestamp desc',
        limit: 100,
      }),
      'skips-by-reason': new logs.QueryString({
        filterStatements: [delivery, 'outcome = "skipped"'],
        statsStatements: ['count(*) as deliveries, latest(deliveryId) as lastDelivery by reason'],
        sort: 'deliveries desc',
      }),
      latency: new logs.QueryString({
        filterStatements: [delivery],
        statsStatements: [
          'count(*) as deliveries, pct(durationMs, 50) as p50, pct(durationMs, 90) as p90, pct(durationMs, 99) as p99, max(durationMs) as slowest, pct(timings.secretMs, 99) as secretP99, pct(timings.lookupMs, 99) as lookupP99, pct(timings.tokenMs, 99) as tokenP99, pct(timings.apiMs, 99) as apiP99 by bin(1h)',
        ],
      }),
    };
    for (const [queryName, queryString] of Object.entries(queries)) {
      new logs.QueryDefinition(this, `Query-${queryName}`, {
        queryDefinitionName: `${name}/${queryName}`,
        queryString,
        logGroups: [logGroup],
      });
    }
  }

  private addAlarmTopic(name: string, email: string): sns.Topic {
    // CloudWatch can't publish to a topic encrypted with the AWS-managed SNS key, so the topic gets
    // its own key that lets CloudWatch encrypt the messages it publishes.
    const key = new kms.Key(this, 'AlarmTopicKey', {
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
    const topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `${name} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    topic.addSubscription(new subscriptions.EmailSubscription(email));
    return topic;
  }

  private addAlarms(name: string, fn: BridgeFunction): cloudwatch.Alarm[] {
    const failed = new cloudwatch.Alarm(this, 'FailedDeliveriesAlarm', {
      alarmName: `${name}-failed-deliveries`,
      alarmDescription:
        'A delivery could not create its PipelineRun (outcome failed). Look with the saved query ' +
        `${name}/failures, or \`npx tekton-bridge why DELIVERY_ID\`.`,
      metric: bridgeMetric('Failed', 'Sum', Duration.minutes(5)),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const errors = new cloudwatch.Alarm(this, 'FunctionErrorsAlarm', {
      alarmName: `${name}-function-errors`,
      alarmDescription: `The ${fn.node.id} Lambda function threw or timed out (GitHub then sees a 5xx and does not retry).`,
      metric: fn.metricErrors({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    return [failed, errors];
  }

  private addDashboard(name: string, fn: BridgeFunction, alarms: cloudwatch.Alarm[]): cloudwatch.Dashboard {
    const period = Duration.minutes(5);
    const counts = ['Deliveries', 'Created', 'Skipped', 'Duplicate', 'Queued', 'Failed', 'RejectedSignatures'].map(
      (metricName) => bridgeMetric(metricName, 'Sum', period),
    );
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: name,
      defaultInterval: Duration.hours(24),
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Deliveries by outcome', left: counts, width: 12, stacked: false }),
      new cloudwatch.GraphWidget({
        title: 'Delivery duration (ms)',
        left: [
          bridgeMetric('DeliveryDuration', 'p50', period).with({ label: 'p50' }),
          bridgeMetric('DeliveryDuration', 'p99', period).with({ label: 'p99' }),
        ],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda',
        left: [
          fn.metricInvocations({ period, statistic: 'Sum' }),
          fn.metricErrors({ period, statistic: 'Sum' }),
          fn.metricThrottles({ period, statistic: 'Sum' }),
        ],
        right: [fn.metricDuration({ period, statistic: 'p99' }).with({ label: 'Duration p99' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API Gateway',
        left: [
          this.stage.metricClientError({ period }).with({ label: '4xx' }),
          this.stage.metricServerError({ period }).with({ label: '5xx' }),
          this.stage.metricCount({ period, statistic: 'Sum' }).with({ label: 'Requests' }),
        ],
        right: [this.stage.metricLatency({ period, statistic: 'p99' }).with({ label: 'Latency p99' })],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 6 }),
      new cloudwatch.LogQueryWidget({
        title: 'Latest deliveries that did not create a run',
        logGroupNames: [fn.functionLogGroup.logGroupName],
        queryLines: [
          'fields @timestamp, deliveryId, event, repository, status, outcome, reason',
          'filter ispresent(outcome) and outcome != "created"',
          'sort @timestamp desc',
          'limit 20',
        ],
        width: 18,
      }),
    );
    return dashboard;
  }
}

/** A metric the function emits through Powertools (EMF), namespace TektonBridge, dimension service. */
export function bridgeMetric(metricName: string, statistic: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: powertoolsEnvironment.POWERTOOLS_METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: powertoolsEnvironment.POWERTOOLS_SERVICE_NAME },
    statistic,
    period,
  });
}
