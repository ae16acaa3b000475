import * as path from 'node:path';
import { Stack, Token, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { detailsUrlTemplateProblem } from '../functions/core/reporting/github-report.ts';
import { listenerTriggers } from '../functions/core/triggers-config.ts';
import { loadTriggersDirectory } from '../functions/adapters/triggers-directory.ts';
import { BridgeAlarms } from './bridge-alarms.ts';
import { BridgeDashboard } from './bridge-dashboard.ts';
import { BridgeFunction } from './bridge-function.ts';
import { BuildIdentity } from './build-identity.ts';
import { connectCluster, type ClusterConnection } from './cluster-connection.ts';
import { EbsCsiDriver } from './ebs-csi-driver.ts';
import { defaultTriggersDir, projectRoot } from './function-bundling.ts';
import { FunctionNetwork } from './function-network.ts';
import { githubCredentialsSecret } from './github-credentials.ts';
import { RetryQueue } from './retry-queue.ts';
import { RunReporter } from './run-reporter.ts';
import { grantSecretRead } from './secret-read.ts';
import { WebhookApi } from './webhook-api.ts';
import { WebhookFront } from './webhook-front.ts';

/**
 * The settings of a bridge, spelled as the repository app's context keys (README: "Deploy on AWS"). Give the cluster
 * as `cluster` (an `eks.ICluster`, e.g. `eks.Cluster.fromClusterAttributes`) or as `clusterName` (+ `clusterEndpoint`
 * and `clusterCa`, or they are read at deploy time).
 */
export interface TektonBridgeProps {
  /** The EKS cluster the PipelineRuns go to; its endpoint, CA and security group are used where it knows them. */
  readonly cluster?: eks.ICluster;
  /** The cluster's name, when `cluster` is not given. */
  readonly clusterName?: string;
  /** The API server URL and CA (base64 or PEM), given together; otherwise read once at deploy time. */
  readonly clusterEndpoint?: string;
  readonly clusterCa?: string;
  /**
   * The CI namespace: where the PipelineRuns are created and `build-bot` runs (default `ci`). Every EventListener in
   * the trigger configuration must be in it, or the construct refuses to synthesize.
   */
  readonly namespace?: string;
  /** The trigger configuration bundled with the functions (default the repository's `triggers/`). */
  readonly triggersDir?: string;
  /**
   * Names the functions (`<name>-webhook`, `<name>-retry`, `<name>-reporter`), log groups, dashboard, alarms and
   * queries, and is the `service` dimension of the metrics. Default: the stack's name. Letters, digits and hyphens,
   * at most 40.
   */
  readonly name?: string;
  /** An existing Secrets Manager secret (complete ARN) holding the GitHub webhook secret; default: one is generated. */
  readonly webhookSecretArn?: string;
  /** The customer-managed KMS key `webhookSecretArn` is encrypted under (the webhook and reporter functions get kms:Decrypt on it). */
  readonly webhookSecretKmsKeyArn?: string;
  /**
   * An existing secret (complete ARN) with the secrets Tekton's `compareSecret` and interceptor `secretRef` name, as
   * JSON `{"<secretName>": {"<secretKey>": "value"}}`; the webhook function reads it (TRIGGER_SECRETS_ARN).
   */
  readonly triggerSecretsArn?: string;
  /** The customer-managed KMS key of `triggerSecretsArn`. */
  readonly triggerSecretsKmsKeyArn?: string;
  /** Alarm notifications go to this address through an encrypted SNS topic. */
  readonly alarmEmail?: string;
  /** VPC mode (private or CIDR-restricted cluster endpoints): the cluster's VPC and the subnets the functions run in. */
  readonly vpcId?: string;
  readonly subnetIds?: readonly string[];
  /** VPC mode: the functions' security groups; default one made by the construct (HTTPS out only). */
  readonly securityGroupIds?: readonly string[];
  /** VPC mode: gets a 443 ingress rule from the functions' groups; default the `cluster`'s, when it has one. */
  readonly clusterSecurityGroupId?: string;
  /** VPC mode: interface endpoints for Secrets Manager, SQS and KMS in `subnetIds` (subnets without NAT). */
  readonly createVpcEndpoints?: boolean;
  /** Associate `build-bot` with the push role through EKS Pod Identity (default true; false when another bridge did). */
  readonly createPodIdentityAssociation?: boolean;
  /** Install the aws-ebs-csi-driver add-on with its IAM role through Pod Identity (default false). */
  readonly ebsCsiDriver?: boolean;
  /**
   * Concurrent executions reserved for (and capping) the webhook function, default 20. Lambda keeps 100 unreserved,
   * so this needs an account concurrency quota of at least 120; `'none'` reserves nothing (new accounts start lower).
   */
  readonly webhookReservedConcurrency?: number | 'none';
  /**
   * A CLOUDFRONT-scope AWS WAF web ACL (us-east-1; the app's front-ACL stack makes one): puts a CloudFront
   * distribution with it in front of the API, and `webhookUrl` becomes the distribution's.
   */
  readonly webhookFrontWebAclArn?: string;
  /** Roles, besides the bridge's functions, that may send to the retry queue: those that redrive the dead-letter queue. */
  readonly redriveRoleArns?: readonly string[];
  /**
   * An existing secret (complete ARN) with the bridge's GitHub credentials, JSON `{"token": "…"}` or
   * `{"appId": "…", "privateKey": "…"}`; default: one is created holding `{}`, and nothing is reported until it is filled.
   */
  readonly githubCredentialsSecretArn?: string;
  /** The customer-managed KMS key of `githubCredentialsSecretArn` (the three functions get kms:Decrypt on it). */
  readonly githubCredentialsKmsKeyArn?: string;
  /** GitHub Enterprise Server's API, `https://HOST/api/v3`; default `https://api.github.com`. */
  readonly githubApiUrl?: string;
  /** The link of each status or check run, with `{namespace}`, `{name}` and `{kind}`, e.g. a Tekton Dashboard URL. */
  readonly detailsUrlTemplate?: string;
  /** Token mode: the hooks (`owner/repo/hookId`) whose failed deliveries the reporter redelivers. */
  readonly redeliverHooks?: readonly string[];
  /** Redeliver failed deliveries of the last this many hours (GitHub redelivers up to 3 days back); default 24. */
  readonly redeliverWindowHours?: number;
  /** Redelivery requests per delivery at most; default 3. */
  readonly redeliverMaxAttempts?: number;
  /** The webhook handler's source (default `functions/webhook.ts`); tests point it at a fixture. */
  readonly webhookEntry?: string;
  /** The retry handler's source (default `functions/retry.ts`). */
  readonly retryEntry?: string;
  /** The reporter handler's source (default `functions/reporter.ts`). */
  readonly reporterEntry?: string;
}

export class TektonBridgeConfigError extends Error {
  override name = 'TektonBridgeConfigError';
}

export const defaultNamespace = 'ci';
export const defaultWebhookReservedConcurrency = 20;
/** The Kubernetes group the functions' IAM roles are mapped to; tekton/10-bridge-rbac.yaml binds it. */
export const bridgeKubernetesGroup = 'tekton-bridge';
export const logRetention = logs.RetentionDays.ONE_MONTH;

/**
 * GitHub webhook → API Gateway HTTP API → Lambda → Tekton PipelineRuns on EKS, and each run's result back to GitHub:
 * the webhook, retry and reporter functions, their access to the cluster, the retry queue, the GitHub credentials,
 * the image registry and build identity, and the CloudWatch views and alarms to operate it. Drop it into your own CDK
 * app next to your cluster.
 */
export class TektonBridge extends Construct {
  /** The payload URL for GitHub (`…/webhook`; `…/webhook/<listener>` picks an EventListener). */
  readonly webhookUrl: string;
  readonly webhookSecret: secretsmanager.ISecret;
  readonly webhookFunction: BridgeFunction;
  readonly retryFunction: BridgeFunction;
  /** Serves `POST /tekton/events` and runs every minute: tells GitHub what became of each run. */
  readonly reporterFunction: BridgeFunction;
  /** The sink for Tekton Pipelines' CloudEvents (`config-events`): the API's own URL, also with the front. */
  readonly tektonEventsUrl: string;
  /** The GitHub token or App the three functions report with (created holding `{}` unless one was given). */
  readonly githubCredentials: secretsmanager.ISecret;
  /** Every alarm of the bridge; with `alarmEmail` they notify `alarmTopic`. */
  readonly alarms: cloudwatch.Alarm[];
  readonly name: string;
  readonly namespace: string;
  readonly cluster: ClusterConnection;
  readonly api: WebhookApi;
  readonly retryQueue: RetryQueue;
  readonly reporter: RunReporter;
  readonly buildIdentity: BuildIdentity;
  readonly bridgeAlarms: BridgeAlarms;
  readonly dashboard: BridgeDashboard;
  readonly network?: FunctionNetwork;
  /** With `webhookFrontWebAclArn`: the CloudFront distribution GitHub posts to. */
  readonly front?: WebhookFront;

  constructor(scope: Construct, id: string, props: TektonBridgeProps) {
    super(scope, id);
    this.name = props.name ?? Stack.of(this).stackName;
    if (!Token.isUnresolved(this.name) && !/^[A-Za-z][A-Za-z0-9-]{0,39}$/.test(this.name)) {
      throw new TektonBridgeConfigError(`TektonBridge name must be letters, digits and hyphens, at most 40 long (it names the functions): ${JSON.stringify(this.name)}; set \`name\``);
    }
    this.namespace = props.namespace ?? defaultNamespace;
    const triggersDir = props.triggersDir ?? defaultTriggersDir;
    assertNamespacesPrepared(triggersDir, this.namespace);
    const name = this.name;

    this.cluster = connectCluster(this, { ...props, name, logRetention });
    const clusterSecurityGroupId = props.clusterSecurityGroupId ?? this.cluster.clusterSecurityGroupId;
    if (props.subnetIds !== undefined) {
      const vpcId = props.vpcId ?? (props.cluster !== undefined ? vpcIdOf(props.cluster) : undefined);
      if (vpcId === undefined) throw new TektonBridgeConfigError('TektonBridge: subnetIds (VPC mode) need vpcId, or a cluster that knows its VPC');
      this.network = new FunctionNetwork(this, 'Network', {
        vpcId,
        subnetIds: props.subnetIds,
        ...(props.securityGroupIds !== undefined && { securityGroupIds: props.securityGroupIds }),
        ...(clusterSecurityGroupId !== undefined && { clusterSecurityGroupId }),
        ...(props.createVpcEndpoints !== undefined && { createVpcEndpoints: props.createVpcEndpoints }),
      });
    } else if (props.vpcId !== undefined || props.securityGroupIds !== undefined || props.createVpcEndpoints === true) {
      throw new TektonBridgeConfigError('TektonBridge: VPC mode needs subnetIds, the subnets the functions run in');
    }
    const network = this.network?.placement;

    // --- Webhook secret -------------------------------------------------------------------------
    if (props.webhookSecretArn !== undefined) {
      this.webhookSecret = secretsmanager.Secret.fromSecretCompleteArn(this, 'WebhookSecret', props.webhookSecretArn);
    } else {
      if (props.webhookSecretKmsKeyArn !== undefined) throw new TektonBridgeConfigError('TektonBridge: webhookSecretKmsKeyArn is the key of an imported secret; give webhookSecretArn too');
      const generated = new secretsmanager.Secret(this, 'WebhookSecret', {
        description: `GitHub webhook secret of ${name} (checked against X-Hub-Signature-256)`,
        // Letters and digits only: it is pasted into GitHub's form by hand.
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
      Validations.of(generated).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A GitHub webhook secret has to be changed in GitHub too, so it is rotated by hand (put a new value, update the webhook); the function accepts AWSCURRENT and AWSPREVIOUS during the switch.',
      });
      this.webhookSecret = generated;
    }

    // --- GitHub credentials and reporting settings (webhook, retry and reporter alike) ------------------
    if (props.githubCredentialsKmsKeyArn !== undefined && props.githubCredentialsSecretArn === undefined) {
      throw new TektonBridgeConfigError('TektonBridge: githubCredentialsKmsKeyArn is the key of an imported secret; give githubCredentialsSecretArn too');
    }
    this.githubCredentials = githubCredentialsSecret(this, 'GithubCredentials', {
      name,
      ...(props.githubCredentialsSecretArn !== undefined && { secretArn: props.githubCredentialsSecretArn }),
    });
    const reporting = githubReportingEnvironment(props, this.githubCredentials.secretArn);

    // --- Functions --------------------------------------------------------------------------------
    const reserved = props.webhookReservedConcurrency ?? defaultWebhookReservedConcurrency;
    this.webhookFunction = new BridgeFunction(this, 'WebhookFunction', {
      entry: props.webhookEntry ?? path.join(projectRoot, 'functions', 'webhook.ts'),
      functionName: `${name}-webhook`,
      serviceName: name,
      description: 'Receives GitHub deliveries and creates Tekton PipelineRuns',
      triggersDir,
      logRetention,
      ...(network !== undefined && { network }),
      // Floods of unsigned requests can't take the whole account's concurrency, nor other functions this one's.
      ...(reserved !== 'none' && { reservedConcurrentExecutions: reserved }),
      environment: {
        CLUSTER_NAME: this.cluster.clusterName,
        CLUSTER_ENDPOINT: this.cluster.endpoint,
        CLUSTER_CA: this.cluster.ca,
        WEBHOOK_SECRET_ARN: this.webhookSecret.secretArn,
        ...reporting.everyFunction,
      },
    });
    grantSecretRead(this.webhookFunction, 'WebhookSecret', this.webhookSecret.secretArn, props.webhookSecretKmsKeyArn);
    if (props.triggerSecretsArn !== undefined) {
      this.webhookFunction.addEnvironment('TRIGGER_SECRETS_ARN', props.triggerSecretsArn);
      grantSecretRead(this.webhookFunction, 'TriggerSecrets', props.triggerSecretsArn, props.triggerSecretsKmsKeyArn);
    } else if (props.triggerSecretsKmsKeyArn !== undefined) {
      throw new TektonBridgeConfigError('TektonBridge: triggerSecretsKmsKeyArn is the key of the trigger secrets; give triggerSecretsArn too');
    }

    this.retryQueue = new RetryQueue(this, 'Retry', {
      namePrefix: name,
      webhookFunction: this.webhookFunction,
      clusterName: this.cluster.clusterName,
      clusterEndpoint: this.cluster.endpoint,
      clusterCa: this.cluster.ca,
      triggersDir,
      logRetention,
      ...(network !== undefined && { network }),
      ...(props.redriveRoleArns !== undefined && { redriveRoleArns: props.redriveRoleArns }),
      ...(props.retryEntry !== undefined && { entry: props.retryEntry }),
    });
    this.retryFunction = this.retryQueue.retryFunction;
    this.webhookFunction.addEnvironment('RETRY_QUEUE_URL', this.retryQueue.queue.queueUrl);
    for (const [key, value] of Object.entries(reporting.everyFunction)) this.retryFunction.addEnvironment(key, value);

    this.reporter = new RunReporter(this, 'Reporter', {
      name,
      clusterName: this.cluster.clusterName,
      clusterEndpoint: this.cluster.endpoint,
      clusterCa: this.cluster.ca,
      triggersDir,
      // The webhook secret too: the reporter acts only on runs whose signature (a key derived from it) verifies.
      environment: { WEBHOOK_SECRET_ARN: this.webhookSecret.secretArn, ...reporting.everyFunction, ...reporting.reporterOnly },
      reportingLogGroups: [this.webhookFunction.functionLogGroup, this.retryFunction.functionLogGroup],
      logRetention,
      ...(network !== undefined && { network }),
      ...(props.reporterEntry !== undefined && { entry: props.reporterEntry }),
    });
    this.reporterFunction = this.reporter.reporterFunction;
    grantSecretRead(this.reporterFunction, 'WebhookSecret', this.webhookSecret.secretArn, props.webhookSecretKmsKeyArn);
    for (const fn of [this.webhookFunction, this.retryFunction, this.reporterFunction]) {
      grantSecretRead(fn, 'GithubCredentials', this.githubCredentials.secretArn, props.githubCredentialsKmsKeyArn);
    }

    // Each function that talks to the cluster gets an access entry of its own.
    this.addClusterAccess('WebhookAccessEntry', this.webhookFunction);
    this.addClusterAccess('RetryAccessEntry', this.retryFunction);
    this.addClusterAccess('ReporterAccessEntry', this.reporterFunction);

    // --- Front door, registry, storage ---------------------------------------------------------------
    this.api = new WebhookApi(this, 'Api', { name, webhookFunction: this.webhookFunction, logRetention });
    if (props.webhookFrontWebAclArn !== undefined) {
      this.front = new WebhookFront(this, 'Front', { api: this.api, webAclArn: props.webhookFrontWebAclArn });
    }
    this.webhookUrl = this.front?.url ?? this.api.url;
    // Not through the front: its web ACL lets in GitHub's hook ranges only, and the cluster's egress is not among them.
    this.tektonEventsUrl = this.api.addTektonEventsRoute(this.reporterFunction);
    this.buildIdentity = new BuildIdentity(this, 'Build', {
      clusterName: this.cluster.clusterName,
      clusterArn: this.cluster.clusterArn,
      namespace: this.namespace,
      ...(props.createPodIdentityAssociation !== undefined && { createPodIdentityAssociation: props.createPodIdentityAssociation }),
    });
    if (props.ebsCsiDriver === true) new EbsCsiDriver(this, 'EbsCsiDriver', { clusterName: this.cluster.clusterName, clusterArn: this.cluster.clusterArn });

    // --- CloudWatch -----------------------------------------------------------------------------------
    this.bridgeAlarms = new BridgeAlarms(this, 'Alarms', {
      name,
      webhookFunction: this.webhookFunction,
      api: this.api,
      moreAlarms: [...this.retryQueue.alarms, ...this.reporter.alarms],
      ...(props.alarmEmail !== undefined && { alarmEmail: props.alarmEmail }),
    });
    this.alarms = this.bridgeAlarms.alarms;
    this.dashboard = new BridgeDashboard(this, 'Dashboard', {
      name,
      webhookFunction: this.webhookFunction,
      api: this.api,
      alarms: this.alarms,
      moreRows: [...this.retryQueue.widgetRows, ...this.reporter.widgetRows],
    });
  }

  /**
   * Maps a function's role to the Kubernetes group tekton/10-bridge-rbac.yaml binds. The entry waits for the function:
   * on a first deploy the role is then old enough for IAM to have propagated it before EKS sees it.
   */
  private addClusterAccess(id: string, fn: BridgeFunction): eks.CfnAccessEntry {
    const entry = new eks.CfnAccessEntry(this, id, {
      clusterName: this.cluster.clusterName,
      principalArn: fn.functionRole.roleArn,
      type: 'STANDARD',
      kubernetesGroups: [bridgeKubernetesGroup],
    });
    entry.node.addDependency(fn);
    return entry;
  }
}

/**
 * The functions create each run in its trigger's namespace (the EventListener's when the trigger names none, `default`
 * when neither does), while Pod Identity, its trust policy, the outputs and tekton/ follow `namespace`: a trigger
 * elsewhere would get runs with no build-bot, no push role and no RBAC, failing in the cluster long after the deploy.
 * Refuse it here.
 */
function assertNamespacesPrepared(triggersDir: string, namespace: string): void {
  const config = loadTriggersDirectory(triggersDir);
  for (const listener of config.eventListeners) {
    for (const trigger of listenerTriggers(listener)) {
      const used = trigger.namespace;
      if (used === namespace) continue;
      const file = path.relative(projectRoot, listener.file) || listener.file;
      throw new TektonBridgeConfigError(
        `${file}: EventListener/${listener.name}: metadata.namespace: the runs of trigger ${trigger.name} go to namespace "${used}", ` +
          `but the bridge prepared "${namespace}" (build-bot's Pod Identity, the outputs, tekton/); set metadata.namespace: ${namespace} ` +
          `(an object without one is in "default"), or deploy with -c namespace=${used}`,
      );
    }
  }
}

/** A hook whose deliveries the reporter redelivers: `owner/repo/hookId`. */
export const githubHookPattern = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/[A-Za-z0-9._-]{1,100}\/[1-9][0-9]*$/;
/** GitHub redelivers deliveries of the past three days only. */
const MAX_REDELIVER_WINDOW_HOURS = 72;
const MAX_REDELIVER_ATTEMPTS = 10;

/**
 * The functions' reporting environment, checked: what all three get (the credentials secret, the API, the link) and
 * what only the reporter's schedule uses (redelivery).
 */
function githubReportingEnvironment(props: TektonBridgeProps, credentialsSecretArn: string): { everyFunction: Record<string, string>; reporterOnly: Record<string, string> } {
  const everyFunction: Record<string, string> = { GITHUB_CREDENTIALS_SECRET_ARN: credentialsSecretArn };
  if (props.githubApiUrl !== undefined) {
    if (!Token.isUnresolved(props.githubApiUrl) && !/^https:\/\/[^/\s]+(\/\S*)?$/.test(props.githubApiUrl)) {
      throw new TektonBridgeConfigError(`TektonBridge: githubApiUrl must be an https:// URL, e.g. https://github.example.com/api/v3 for GitHub Enterprise Server: ${JSON.stringify(props.githubApiUrl)}`);
    }
    everyFunction.GITHUB_API_URL = props.githubApiUrl;
  }
  if (props.detailsUrlTemplate !== undefined) {
    const problem = Token.isUnresolved(props.detailsUrlTemplate) ? undefined : detailsUrlTemplateProblem(props.detailsUrlTemplate);
    if (problem) throw new TektonBridgeConfigError(`TektonBridge: detailsUrlTemplate ${problem}: ${JSON.stringify(props.detailsUrlTemplate)}`);
    everyFunction.DETAILS_URL_TEMPLATE = props.detailsUrlTemplate;
  }

  const reporterOnly: Record<string, string> = {};
  if (props.redeliverHooks !== undefined && props.redeliverHooks.length > 0) {
    const wrong = props.redeliverHooks.find((hook) => !githubHookPattern.test(hook));
    if (wrong !== undefined) throw new TektonBridgeConfigError(`TektonBridge: redeliverHooks must be owner/repo/hookId (the hook's numeric id), got ${JSON.stringify(wrong)}`);
    reporterOnly.REDELIVER_HOOKS = props.redeliverHooks.join(',');
  }
  const wholeNumber = (key: 'redeliverWindowHours' | 'redeliverMaxAttempts', min: number, max: number, variable: string) => {
    const value = props[key];
    if (value === undefined) return;
    if (!Number.isInteger(value) || value < min || value > max) throw new TektonBridgeConfigError(`TektonBridge: ${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    reporterOnly[variable] = String(value);
  };
  wholeNumber('redeliverWindowHours', 1, MAX_REDELIVER_WINDOW_HOURS, 'REDELIVER_WINDOW_HOURS');
  // 0 turns redelivery off, as REDELIVER_MAX_ATTEMPTS=0 does.
  wholeNumber('redeliverMaxAttempts', 0, MAX_REDELIVER_ATTEMPTS, 'REDELIVER_MAX_ATTEMPTS');
  return { everyFunction, reporterOnly };
}

function vpcIdOf(cluster: eks.ICluster): string | undefined {
  try {
    return cluster.vpc.vpcId;
  } catch {
    return undefined;
  }
}
