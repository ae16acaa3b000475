import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { BridgeFunction } from '../../infra/bridge-function.ts';
import { projectRoot } from '../../infra/function-bundling.ts';
import { RetryQueue, type RetryQueueProps } from '../../infra/retry-queue.ts';
import { cdkJsonContext, fixtureHandler } from './stack-fixture.ts';

const triggersDir = path.join(projectRoot, 'triggers');
const givenEndpoint = 'https://ABC.gr7.eu-west-1.eks.amazonaws.com';
const givenCa = 'LS0tLS1CRUdJTg==';

/**
 * The smallest stack that uses the construct as the lead's stack will: a webhook function, the queue, a dashboard.
 * `cluster` may build the endpoint and CA in the stack (as the deploy-time lookup does); default: literal values.
 */
function buildRetryStack(overrides: Partial<RetryQueueProps> = {}, cluster?: (stack: Stack) => Pick<RetryQueueProps, 'clusterEndpoint' | 'clusterCa'>) {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'RetryQueueTest');
  const webhook = new BridgeFunction(stack, 'WebhookFunction', { entry: fixtureHandler, functionName: 'test-webhook', triggersDir });
  Validations.of(webhook).acknowledge({ id: 'AwsSolutions-L1', reason: 'The test stack’s stand-in for the webhook function, pinned to nodejs22.x like the real one.' });
  const retry = new RetryQueue(stack, 'Retry', {
    namePrefix: 'test',
    webhookFunction: webhook,
    clusterName: 'demo',
    clusterEndpoint: givenEndpoint,
    clusterCa: givenCa,
    kubernetesGroup: 'tekton-bridge',
    triggersDir,
    entry: fixtureHandler,
    ...cluster?.(stack),
    ...overrides,
  });
  webhook.addEnvironment('RETRY_QUEUE_URL', retry.queue.queueUrl);
  const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', { dashboardName: 'test' });
  for (const row of retry.widgetRows) dashboard.addWidgets(...row);
  const previous = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'false';
  try {
    return { stack, webhook, retry, template: Template.fromStack(stack) };
  } finally {
    if (previous === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = previous;
  }
}

const ref = (stack: Stack, construct: IConstruct) => ({ Ref: stack.getLogicalId(construct.node.defaultChild as never) });
const arn = (stack: Stack, construct: IConstruct) => ({ 'Fn::GetAtt': [stack.getLogicalId(construct.node.defaultChild as never), 'Arn'] });

/** Every SQS and EKS statement in the policies attached to a role, as [actions, resource]. */
function grantsOf(template: Template, roleRef: { Ref: string }): Array<{ actions: string[]; resource: unknown }> {
  const found: Array<{ actions: string[]; resource: unknown }> = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    if (!JSON.stringify(policy.Properties.Roles).includes(JSON.stringify(roleRef))) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>) {
      const actions = ([] as string[]).concat(statement.Action).filter((a) => a.startsWith('sqs:') || a.startsWith('eks:')).sort();
      if (actions.length > 0) found.push({ actions, resource: statement.Resource });
    }
  }
  return found;
}

describe('RetryQueue construct', () => {
  const { stack, webhook, retry, template } = buildRetryStack();

  it('makes an encrypted, TLS-only retry queue with a redrive to an encrypted dead-letter queue', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      DelaySeconds: 15,
      MessageRetentionPeriod: 345600,
      RedrivePolicy: { deadLetterTargetArn: arn(stack, retry.deadLetterQueue), maxReceiveCount: 19 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    assert.equal(policies.length, 2);
    for (const policy of policies) assert.match(JSON.stringify(policy), /"aws:SecureTransport":"false"/);
  });

  it('runs the retry function with the house defaults, a longer timeout and the retry environment', () => {
    const fn = template.findResources('AWS::Lambda::Function', { Properties: { FunctionName: 'test-retry' } });
    const [props] = Object.values(fn).map((r) => r.Properties);
    assert.equal(props.Runtime, 'nodejs22.x');
    assert.deepEqual(props.Architectures, ['arm64']);
    assert.equal(props.Timeout, 60);
    assert.equal(props.LoggingConfig.LogFormat, 'JSON');
    assert.deepEqual(props.Environment.Variables, {
      CLUSTER_NAME: 'demo',
      CLUSTER_ENDPOINT: givenEndpoint,
      CLUSTER_CA: givenCa,
      RETRY_QUEUE_URL: ref(stack, retry.queue),
      DEAD_LETTER_QUEUE_URL: ref(stack, retry.deadLetterQueue),
      RETRY_MAX_ATTEMPTS: '16',
      RETRY_BACKOFF_BASE_SECONDS: '30',
      RETRY_BACKOFF_MAX_SECONDS: '900',
      POWERTOOLS_SERVICE_NAME: 'tekton-bridge',
      POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/test-retry', RetentionInDays: 30 });
  });

  it('consumes the queue in batches of 10 with partial batch failures and at most 2 concurrent invocations', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arn(stack, retry.queue),
      FunctionName: ref(stack, retry.retryFunction),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('grants least privilege: the webhook may only send to the retry queue; the retry function consumes it and sends to the DLQ', () => {
    const webhookGrants = grantsOf(template, ref(stack, webhook.functionRole));
    assert.deepEqual(webhookGrants, [{ actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], resource: arn(stack, retry.queue) }]);
    const retryGrants = grantsOf(template, ref(stack, retry.retryFunction.functionRole));
    assert.deepEqual(
      retryGrants.map((g) => g.actions.join(' ')).sort(),
      [
        'sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:GetQueueAttributes sqs:GetQueueUrl sqs:ReceiveMessage',
        'sqs:GetQueueAttributes sqs:GetQueueUrl sqs:SendMessage',
      ],
    );
    assert.deepEqual(retryGrants.find((g) => g.actions.includes('sqs:ReceiveMessage'))?.resource, arn(stack, retry.queue));
    assert.deepEqual(retryGrants.find((g) => g.actions.includes('sqs:SendMessage'))?.resource, arn(stack, retry.deadLetterQueue));
    // No EKS action at all: the endpoint and CA come in the environment, the cluster access through the access entry.
    assert.equal([...webhookGrants, ...retryGrants].some((g) => g.actions.some((a) => a.startsWith('eks:'))), false);
  });

  it('maps the retry function’s own role to the Kubernetes group, as the webhook’s', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'demo',
      PrincipalArn: arn(stack, retry.retryFunction.functionRole),
      Type: 'STANDARD',
      KubernetesGroups: ['tekton-bridge'],
    });
  });

  it('alarms on any dead letter and on the age of the oldest queued creation', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'test-dead-letters',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [stack.getLogicalId(retry.deadLetterQueue.node.defaultChild as never), 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'test-retry-backlog-age',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [stack.getLogicalId(retry.queue.node.defaultChild as never), 'QueueName'] } }],
      Threshold: 900,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    assert.equal(retry.alarms.length, 2);
  });

  it('hands the dashboard its widgets', () => {
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties.DashboardBody);
    for (const title of ['Retry queue', 'Retries by outcome', 'Dead-lettered and postponed creations', 'RetryCreated', 'DeadLettered']) {
      assert.ok(body.includes(title), title);
    }
  });

  it('takes the endpoint and CA as deploy-time tokens too (the stack’s DescribeCluster custom resource), granting no EKS action', () => {
    let lookupId = '';
    const given = buildRetryStack({}, (stack) => {
      const lookup = new CfnResource(stack, 'Lookup', { type: 'Custom::Lookup', properties: { ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:lookup' } });
      lookupId = stack.getLogicalId(lookup);
      return { clusterEndpoint: lookup.getAtt('cluster.endpoint').toString(), clusterCa: lookup.getAtt('cluster.certificateAuthority.data').toString() };
    });
    given.template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'test-retry',
      Environment: {
        Variables: {
          CLUSTER_ENDPOINT: { 'Fn::GetAtt': [lookupId, 'cluster.endpoint'] },
          CLUSTER_CA: { 'Fn::GetAtt': [lookupId, 'cluster.certificateAuthority.data'] },
        },
      },
    });
    assert.doesNotMatch(JSON.stringify(given.template.findResources('AWS::IAM::Policy')), /"eks:/);
  });
});

describe('RetryQueue: cdk-nag and cfn-lint', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tekton-bridge-retry-cfn-lint-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('cdk-nag AwsSolutions: nothing unacknowledged; only the runtime pin, with a reason, on each function', () => {
    const { stack } = buildRetryStack();
    const report = new AwsSolutionsChecks().validateScope(stack);
    assert.deepEqual(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.locations?.join(',')).join('; ')}`), []);
    const acknowledged: Array<{ id: string; path: string; reason: string }> = [];
    for (const construct of stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) acknowledged.push({ id: id.replace(/^annotation::/i, ''), path: construct.node.path, reason });
      }
    }
    const inConstruct = acknowledged.filter((a) => a.path.startsWith('RetryQueueTest/Retry/'));
    assert.deepEqual(inConstruct.map((a) => `${a.id} ${a.path}`), ['AwsSolutions-L1 RetryQueueTest/Retry/RetryFunction']);
    for (const { reason } of inConstruct) assert.ok(reason.length >= 60);
  });

  it('cfn-lint: no errors, and no warnings but the one CDK generates', () => {
    const file = path.join(dir, 'retry-queue.template.json');
    writeFileSync(file, JSON.stringify(buildRetryStack().template.toJSON(), null, 1));
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', file], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(run.error, undefined, `cfn-lint did not run (${String(run.error)})`);
    const matches = JSON.parse(run.stdout || '[]') as Array<{ Level: string; Message: string; Rule: { Id: string }; Location: { Path?: Array<string | number> } }>;
    const described = matches.map((m) => `${m.Level} ${m.Rule.Id} ${(m.Location.Path ?? []).join('.')}: ${m.Message}`);
    // CDK's Lambda L2 lists the role next to its default policy in DependsOn; the GetAtt already orders them.
    const unexpected = matches.filter((m) => !(m.Level === 'Warning' && m.Rule.Id === 'W3005' && /^Resources\.\w+Function[0-9A-F]{8}\.DependsOn\.\d+$/.test((m.Location.Path ?? []).join('.'))));
    assert.deepEqual(unexpected.map((m) => m.Rule.Id), [], described.join('\n'));
  });
});
