import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks';
import { AwsSolutionsChecks } from 'cdk-nag';
import { projectRoot } from '../../infra/function-bundling.ts';
import { TektonBridge, type TektonBridgeProps } from '../../infra/tekton-bridge.ts';
import { buildStack, cdkJsonContext, fixtureHandler, flatten, synthTemplate, templateVariants } from './stack-fixture.ts';

const givenSecret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-webhook-AbCdEf';
const givenKey = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const triggerSecrets = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:trigger-secrets-AbCdEf';

/** A team's own stack, as the README's example has it: its cluster imported, the bridge dropped in next to it. */
function userStack(props: Partial<TektonBridgeProps> = {}) {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'PlatformStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['eu-west-1a', 'eu-west-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
  });
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Cluster', {
    clusterName: 'platform',
    clusterEndpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
    clusterCertificateAuthorityData: 'LS0tLS1CRUdJTg==',
    clusterSecurityGroupId: 'sg-0123456789abcdef0',
    vpc,
  });
  const bridge = new TektonBridge(stack, 'Ci', {
    cluster,
    name: 'platform-ci',
    triggersDir: path.join(projectRoot, 'triggers'),
    webhookEntry: fixtureHandler,
    retryEntry: fixtureHandler,
    reporterEntry: fixtureHandler,
    ...props,
  });
  return { stack, bridge, template: synthTemplate(stack, false) };
}

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

function functionsIn(template: Template): Array<Record<string, any>> {
  return Object.values(template.findResources('AWS::Lambda::Function')).filter((f) => /-(webhook|retry|reporter)$/.test(String(f.Properties.FunctionName)));
}

describe('TektonBridge in a user’s own stack, with an imported eks.ICluster', () => {
  const { stack, bridge, template } = userStack();

  it('takes the endpoint and CA from the cluster: no deploy-time lookup', () => {
    template.resourceCountIs('Custom::EksClusterLookup', 0);
    for (const fn of functionsIn(template)) {
      assert.equal(fn.Properties.Environment.Variables.CLUSTER_NAME, 'platform');
      assert.equal(fn.Properties.Environment.Variables.CLUSTER_ENDPOINT, 'https://ABC.gr7.eu-west-1.eks.amazonaws.com');
      assert.equal(fn.Properties.Environment.Variables.CLUSTER_CA, 'LS0tLS1CRUdJTg==');
    }
  });

  it('exposes the URLs, the secrets, the three functions and every alarm as properties', () => {
    assert.match(stack.resolve(bridge.webhookUrl)['Fn::Join'][1].slice(-1)[0], /\/webhook$/);
    assert.match(stack.resolve(bridge.tektonEventsUrl)['Fn::Join'][1].slice(-1)[0], /\/tekton\/events$/);
    assert.equal(bridge.webhookFunction.node.path, 'PlatformStack/Ci/WebhookFunction');
    assert.equal(bridge.retryFunction.node.path, 'PlatformStack/Ci/Retry/RetryFunction');
    assert.equal(bridge.reporterFunction.node.path, 'PlatformStack/Ci/Reporter/ReporterFunction');
    assert.ok(bridge.webhookSecret.secretArn);
    assert.ok(bridge.githubCredentials.secretArn);
    assert.equal(bridge.alarms.length, 12);
    assert.deepEqual(
      bridge.alarms.map((alarm) => String((alarm.node.defaultChild as CfnAlarm).alarmName)).filter((name) => /report/.test(name)).sort(),
      ['platform-ci-report-failures', 'platform-ci-reporter-errors'],
    );
    assert.deepEqual(functionsIn(template).map((f) => f.Properties.FunctionName).sort(), ['platform-ci-reporter', 'platform-ci-retry', 'platform-ci-webhook']);
  });

  it('maps each function’s role to the Kubernetes group with an access entry that waits for the function (IAM propagation)', () => {
    const entries = Object.values(template.findResources('AWS::EKS::AccessEntry'));
    assert.equal(entries.length, 3);
    for (const fn of [bridge.webhookFunction, bridge.retryFunction, bridge.reporterFunction]) {
      const entry = entries.find((e) => flatten(e.Properties.PrincipalArn) === flatten({ 'Fn::GetAtt': [logicalId(stack, fn.functionRole), 'Arn'] }));
      assert.ok(entry, fn.node.path);
      assert.deepEqual(entry.Properties.KubernetesGroups, ['tekton-bridge']);
      assert.ok((entry.DependsOn as string[]).includes(logicalId(stack, fn)), `${fn.node.path}: the access entry depends on the function`);
    }
  });

  it('reserves 20 concurrent executions for the webhook function by default, none for the retry function', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'platform-ci-webhook', ReservedConcurrentExecutions: 20 });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'platform-ci-retry', ReservedConcurrentExecutions: Match.absent() });
    const none = userStack({ webhookReservedConcurrency: 'none' }).template;
    none.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'platform-ci-webhook', ReservedConcurrentExecutions: Match.absent() });
    userStack({ webhookReservedConcurrency: 5 }).template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'platform-ci-webhook', ReservedConcurrentExecutions: 5 });
  });

  it('passes cdk-nag with nothing unacknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    assert.deepEqual(report.violations.map((v) => v.ruleName), []);
  });
});

describe('VPC mode', () => {
  it('with the cluster’s VPC and security group: functions in the subnets, a group of their own, 443 on the cluster group', () => {
    const { stack, bridge, template } = userStack({ subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'] });
    const group = bridge.network!.placement.securityGroups[0]!;
    const groupId = { 'Fn::GetAtt': [logicalId(stack, group as ec2.SecurityGroup), 'GroupId'] };
    for (const fn of functionsIn(template)) {
      assert.deepEqual(fn.Properties.VpcConfig, { SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], SecurityGroupIds: [groupId] });
    }
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: 'vpc-0123456789abcdef0',
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
      SecurityGroupIngress: Match.absent(),
    });
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: 'sg-0123456789abcdef0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: groupId });
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    // Lambda manages the functions' network interfaces with their own roles.
    for (const role of [bridge.webhookFunction.functionRole, bridge.retryFunction.functionRole]) {
      assert.match(flatten(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalId(stack, role) }] } })), /ec2:CreateNetworkInterface/);
    }
    // The deploy-time lookup is an AWS API call: outside the VPC, like any function that talks only to AWS.
    const lookupOnly = buildStack({ ...templateVariants['vpc-with-nat'] }).template;
    const provider = Object.entries(lookupOnly.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('AWS679f53fac002430cb0da5b7982bd2287'));
    assert.equal(provider?.[1].Properties.VpcConfig, undefined);
  });

  it('without NAT: interface endpoints for Secrets Manager, SQS and KMS, with private DNS, open to the functions’ groups only', () => {
    const { template } = buildStack({ ...templateVariants['vpc-without-nat'] });
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint'));
    assert.deepEqual(endpoints.map((e) => flatten(e.Properties.ServiceName).match(/\.(\w+)"\]\]\}$/)?.[1]).sort(), ['kms', 'secretsmanager', 'sqs']);
    for (const endpoint of endpoints) {
      assert.equal(endpoint.Properties.VpcEndpointType, 'Interface');
      assert.equal(endpoint.Properties.PrivateDnsEnabled, true);
      assert.deepEqual(endpoint.Properties.SubnetIds, ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
    }
    // The given group is used as is (no group made for the functions), and is the only one let into the endpoints.
    for (const fn of functionsIn(template)) assert.deepEqual(fn.Properties.VpcConfig.SecurityGroupIds, ['sg-0fedcba9876543210']);
    const groups = Object.values(template.findResources('AWS::EC2::SecurityGroup'));
    assert.equal(groups.length, 1);
    assert.deepEqual(groups[0]?.Properties.SecurityGroupIngress, [
      { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: 'sg-0fedcba9876543210', Description: 'tekton-bridge functions' },
    ]);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: 'sg-0123456789abcdef0', SourceSecurityGroupId: 'sg-0fedcba9876543210', FromPort: 443 });
  });

  it('refuses half a VPC mode', () => {
    assert.throws(() => buildStack({ vpcId: 'vpc-0123456789abcdef0' }), /VPC mode needs subnetIds/);
    assert.throws(() => buildStack({ subnetIds: ['subnet-0123456789abcdef0'] }), /subnetIds \(VPC mode\) need vpcId/);
  });
});

describe('secrets under customer-managed keys, and the trigger secrets', () => {
  const statementsOf = (template: Template) =>
    Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, any>>);
  const viaSecretsManager = { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] } } };

  it('an imported webhook secret under a KMS key: kms:Decrypt on that key, through Secrets Manager only', () => {
    const { template } = buildStack({ webhookSecretArn: givenSecret, webhookSecretKmsKeyArn: givenKey });
    assert.deepEqual(
      statementsOf(template).filter((s) => s.Sid === 'DecryptWebhookSecret'),
      [{ Sid: 'DecryptWebhookSecret', Effect: 'Allow', Action: 'kms:Decrypt', Resource: givenKey, Condition: viaSecretsManager }],
    );
    // Without the key, no kms:Decrypt on any secret at all.
    assert.equal(statementsOf(buildStack({ webhookSecretArn: givenSecret }).template).some((s) => String(s.Sid).startsWith('Decrypt')), false);
  });

  it('the trigger secrets store: TRIGGER_SECRETS_ARN for the webhook function, GetSecretValue on it, and its key the same way', () => {
    const { template } = buildStack({ triggerSecretsArn: triggerSecrets, triggerSecretsKmsKeyArn: givenKey });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'tekton-bridge-webhook', Environment: { Variables: Match.objectLike({ TRIGGER_SECRETS_ARN: triggerSecrets }) } });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'tekton-bridge-retry', Environment: { Variables: Match.objectLike({ TRIGGER_SECRETS_ARN: Match.absent() }) } });
    const statements = statementsOf(template);
    assert.deepEqual(statements.filter((s) => s.Sid === 'ReadTriggerSecrets'), [{ Sid: 'ReadTriggerSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: triggerSecrets }]);
    assert.deepEqual(statements.filter((s) => s.Sid === 'DecryptTriggerSecrets').map((s) => [s.Resource, s.Condition]), [[givenKey, viaSecretsManager]]);
    buildStack().template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'tekton-bridge-webhook', Environment: { Variables: Match.objectLike({ TRIGGER_SECRETS_ARN: Match.absent() }) } });
  });
});

describe('the EBS CSI driver add-on (optional)', () => {
  it('installs aws-ebs-csi-driver with its role through Pod Identity, trusted by this cluster’s controller service account only', () => {
    const { template } = buildStack({ ebsCsiDriver: true });
    const addon = Object.values(template.findResources('AWS::EKS::Addon'));
    assert.equal(addon.length, 1);
    assert.equal(addon[0]?.Properties.AddonName, 'aws-ebs-csi-driver');
    assert.equal(addon[0]?.Properties.ClusterName, 'demo');
    const [association] = addon[0]?.Properties.PodIdentityAssociations as Array<{ ServiceAccount: string; RoleArn: { 'Fn::GetAtt': [string, string] } }>;
    assert.equal(association?.ServiceAccount, 'ebs-csi-controller-sa');
    const role = template.findResources('AWS::IAM::Role')[association!.RoleArn['Fn::GetAtt'][0]];
    assert.match(flatten(role?.Properties.ManagedPolicyArns), /service-role\/AmazonEBSCSIDriverPolicy/);
    assert.deepEqual(role?.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals['aws:RequestTag/kubernetes-service-account'], 'ebs-csi-controller-sa');
    buildStack().template.resourceCountIs('AWS::EKS::Addon', 0);
  });
});
