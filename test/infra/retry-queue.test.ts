import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { BridgeFunction } from '../../infra/bridge-function.ts';
import { projectRoot } from '../../infra/function-bundling.ts';
import { RetryQueue, type RetryQueueProps } from '../../infra/retry-queue.ts';
import { skipWithout } from '../support/command-on-path.ts';
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
  const webhook = new BridgeFunction(stack, 'WebhookFunction', { entry: fixtureHandler, functionName: 'test-webhook', serviceName: 'test', triggersDir });
  const retry = new RetryQueue(stack, 'Retry', {
    namePrefix: 'test',
    webhookFunction: webhook,
    clusterName: 'demo',
    clusterEndpoint: givenEndpoint,
    clusterCa: givenCa,
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

/** Every SQS, KMS and EKS statement in the policies attached to a role, as [sid, actions, resource, condition]. */
function grantsOf(template: Template, roleRef: { Ref: string }): Array<{ sid?: string; actions: string[]; resource: unknown; condition?: unknown }> {
  const found: Array<{ sid?: string; actions: string[]; resource: unknown; condition?: unknown }> = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    if (!JSON.stringify(policy.Properties.Roles).includes(JSON.stringify(roleRef))) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as Array<{ Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown }>) {
      const actions = ([] as string[]).concat(statement.Action).filter((a) => /^(sqs|kms|eks):/.test(a)).sort();
      if (actions.length > 0) found.push({ sid: statement.Sid, actions, resource: statement.Resource, ...(statement.Condition !== undefined && { condition: statement.Condition }) });
    }
  }
  return found;
}

/** Resources as a sorted list, so a statement's order of them does not matter. */
const resources = (...items: unknown[]) => JSON.stringify(items.map((r) => JSON.stringify(r)).sort());

const viaSqs = { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] } } };

describe('RetryQueue construct', () => {
  const { stack, webhook, retry, template } = buildRetryStack();
  const queueKey = arn(stack, retry.queueKey);
  const webhookRoleArn = arn(stack, webhook.functionRole);
  const retryRoleArn = arn(stack, retry.retryFunction.functionRole);

  it('makes a TLS-only retry queue with a redrive to a TLS-only dead-letter queue, both under one customer-managed, rotated key', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2);
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: queueKey,
      VisibilityTimeout: 360,
      DelaySeconds: 15,
      MessageRetentionPeriod: 345600,
      RedrivePolicy: { deadLetterTargetArn: arn(stack, retry.deadLetterQueue), maxReceiveCount: 19 },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: queueKey, MessageRetentionPeriod: 1209600 });
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) assert.equal(queue.Properties.SqsManagedSseEnabled, undefined);
    const key = template.findResources('AWS::KMS::Key')[stack.getLogicalId(retry.queueKey.node.defaultChild as never)];
    assert.equal(key?.Properties.EnableKeyRotation, true);
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    assert.equal(policies.length, 2);
    for (const policy of policies) assert.match(JSON.stringify(policy), /"aws:SecureTransport":"false"/);
  });

  it('denies SendMessage on the retry queue to every principal but the two functions (and the redrive roles), on the DLQ to all but the retry function', () => {
    const denyOf = (queue: IConstruct) => {
      const policy = Object.values(template.findResources('AWS::SQS::QueuePolicy')).find((p) => JSON.stringify(p.Properties.Queues) === JSON.stringify([ref(stack, queue)]));
      return (policy?.Properties.PolicyDocument.Statement as Array<Record<string, any>>).filter((s) => s.Sid === 'OnlyTheBridgeSends');
    };
    assert.deepEqual(denyOf(retry.queue), [
      {
        Sid: 'OnlyTheBridgeSends',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sqs:SendMessage',
        Resource: arn(stack, retry.queue),
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [webhookRoleArn, retryRoleArn] }, Bool: { 'aws:PrincipalIsAWSService': 'false' } },
      },
    ]);
    assert.deepEqual(denyOf(retry.deadLetterQueue)[0]?.Condition, { ArnNotEquals: { 'aws:PrincipalArn': [retryRoleArn] }, Bool: { 'aws:PrincipalIsAWSService': 'false' } });
    const withRedrive = buildRetryStack({ redriveRoleArns: ['arn:aws:iam::123456789012:role/ops'] });
    const redriveDeny = (Object.values(withRedrive.template.findResources('AWS::SQS::QueuePolicy')) as Array<Record<string, any>>)
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: Record<string, any>) => s.Sid === 'OnlyTheBridgeSends')
      .map((s: Record<string, any>) => s.Condition.ArnNotEquals['aws:PrincipalArn'] as unknown[]);
    assert.deepEqual(redriveDeny.map((arns) => arns.includes('arn:aws:iam::123456789012:role/ops')).sort(), [false, true], 'the redrive role may send to the retry queue only');
  });

  it('signs messages with an HMAC key whose key policy alone lets the webhook generate and the retry function generate and verify MACs', () => {
    const id = stack.getLogicalId(retry.messageMacKey.node.defaultChild as never);
    const key = template.findResources('AWS::KMS::Key')[id]!;
    assert.equal(key.Properties.KeySpec, 'HMAC_256');
    assert.equal(key.Properties.KeyUsage, 'GENERATE_VERIFY_MAC');
    const statements = key.Properties.KeyPolicy.Statement as Array<{ Sid: string; Principal: { AWS: unknown }; Action: string | string[]; Condition?: unknown }>;
    assert.deepEqual(statements.map((s) => s.Sid), ['AccountAdministersButDoesNotUse', 'WebhookSigns', 'RetrySignsAndVerifies']);
    const admin = statements[0]!;
    assert.equal([admin.Action].flat().some((a) => a === 'kms:*' || /Mac$/.test(a)), false, 'the account administers the key but may not sign with it, nor delegate that through IAM');
    assert.deepEqual([statements[1]!.Principal.AWS, statements[1]!.Action], [webhookRoleArn, 'kms:GenerateMac']);
    assert.deepEqual([statements[2]!.Principal.AWS, statements[2]!.Action], [retryRoleArn, ['kms:GenerateMac', 'kms:VerifyMac']]);
    for (const s of statements.slice(1)) assert.deepEqual(s.Condition, { StringEquals: { 'kms:MacAlgorithm': 'HMAC_SHA_256' } });
    for (const name of ['test-webhook', 'test-retry']) {
      template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: name, Environment: { Variables: Match.objectLike({ RETRY_MESSAGE_MAC_KEY_ARN: { 'Fn::GetAtt': [id, 'Arn'] } }) } });
    }
    // No identity policy needs to name it: nothing in IAM grants MAC actions.
    assert.doesNotMatch(JSON.stringify(template.findResources('AWS::IAM::Policy')), /Mac"/);
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
      RETRY_MESSAGE_MAC_KEY_ARN: arn(stack, retry.messageMacKey),
      POWERTOOLS_SERVICE_NAME: 'test',
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

  it('grants least privilege: exactly the SQS actions each function uses, and the KMS actions SQS needs for them, through SQS', () => {
    assert.deepEqual(grantsOf(template, ref(stack, webhook.functionRole)), [
      { sid: 'SendToRetryQueue', actions: ['sqs:SendMessage'], resource: arn(stack, retry.queue) },
      { sid: 'EncryptForRetryQueue', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: queueKey, condition: viaSqs },
    ]);
    const retryGrants = grantsOf(template, ref(stack, retry.retryFunction.functionRole));
    assert.deepEqual(
      retryGrants.map((g) => `${g.actions.join(' ')} ${JSON.stringify([g.resource].flat().map((r) => JSON.stringify(r)).sort())}`).sort(),
      [
        // The event source mapping's grant, as Lambda needs it to poll an SSE-KMS queue.
        `kms:Decrypt ${resources(queueKey)}`,
        `kms:Decrypt kms:GenerateDataKey ${resources(queueKey)}`,
        `sqs:ChangeMessageVisibility sqs:DeleteMessage sqs:GetQueueAttributes sqs:GetQueueUrl sqs:ReceiveMessage ${resources(arn(stack, retry.queue))}`,
        `sqs:SendMessage ${resources(arn(stack, retry.queue), arn(stack, retry.deadLetterQueue))}`,
      ].sort(),
    );
    assert.deepEqual(retryGrants.find((g) => g.sid === 'EncryptForQueues')?.condition, viaSqs);
    // No EKS action at all: the endpoint and CA come in the environment, the cluster access through the access entry.
    assert.equal(retryGrants.some((g) => g.actions.some((a) => a.startsWith('eks:'))), false);
  });

  it('alarms on each dead letter arriving (parked by the function or by SQS), on postponements for 30 minutes, and on retry-function errors', () => {
    const alarms = new Map(Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => [a.Properties.AlarmName as string, a.Properties]));
    assert.deepEqual([...alarms.keys()].sort(), ['test-dead-letters', 'test-retries-postponed', 'test-retry-function-errors']);
    const deadLetters = alarms.get('test-dead-letters')!;
    const [expression, parked, depth] = deadLetters.Metrics as Array<Record<string, any>>;
    assert.equal(expression?.Expression, 'MAX([parked, IF(DIFF(depth) > 0, DIFF(depth), 0)])');
    assert.deepEqual(parked?.MetricStat.Metric, { Namespace: 'TektonBridge', MetricName: 'DeadLettered', Dimensions: [{ Name: 'service', Value: 'test' }] });
    assert.deepEqual(depth?.MetricStat.Metric, {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [stack.getLogicalId(retry.deadLetterQueue.node.defaultChild as never), 'QueueName'] } }],
    });
    assert.equal(deadLetters.Threshold, 0);
    const postponed = alarms.get('test-retries-postponed')!;
    assert.deepEqual(
      [postponed.Namespace, postponed.MetricName, postponed.Dimensions, postponed.Period, postponed.EvaluationPeriods, postponed.DatapointsToAlarm],
      ['TektonBridge', 'RetryPostponed', [{ Name: 'service', Value: 'test' }], 900, 2, 2],
    );
    assert.equal(alarms.get('test-retry-function-errors')?.MetricName, 'Errors');
    for (const alarm of alarms.values()) assert.equal(alarm.TreatMissingData, 'notBreaching');
    assert.doesNotMatch(JSON.stringify([...alarms.values()]), /ApproximateAgeOfOldestMessage/);
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

  it('cfn-lint: no errors, and no warnings but the one CDK generates', { skip: skipWithout('cfn-lint') }, () => {
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
