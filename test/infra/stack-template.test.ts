import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { DEFAULT_WHY_LOG_GROUP } from '../../functions/cli/why.ts';
import { projectRoot } from '../../infra/function-bundling.ts';
import { TektonBridgeConfigError } from '../../infra/tekton-bridge.ts';
import { buildStack, flatten, onlyResource, triggersIn, webhookFunctionResource } from './stack-fixture.ts';

const clusterArn = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':cluster/demo']],
};
const givenSecretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-webhook-AbCdEf';
const givenEndpoint = 'https://ABC.gr7.eu-west-1.eks.amazonaws.com';
const givenCa = 'LS0tLS1CRUdJTg==';
/** CDK's AwsCustomResource runs in one singleton function per stack, with this fixed logical-id prefix. */
const lookupProviderId = /^AWS679f53fac002430cb0da5b7982bd2287[0-9A-F]{8}$/;

/** Every IAM statement attached to a role, through any AWS::IAM::Policy. */
function statementsOf(template: Template, roleRef: { Ref: string }): Array<{ Sid?: string; Action: string | string[]; Resource: unknown }> {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => flatten(policy.Properties.Roles).includes(flatten(roleRef)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

describe('TektonBridgeStack (defaults: generated secret, cluster looked up at deploy time, no alarm e-mail)', () => {
  // Prepare
  const { stack, template } = buildStack();
  const fn = webhookFunctionResource(template);
  const fnLogGroup = Object.entries(template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: '/aws/lambda/tekton-bridge-webhook' } }));
  const fnRole = { Ref: stack.getLogicalId(stack.bridge.webhookFunction.functionRole.node.defaultChild as never) };
  const retryRole = { Ref: stack.getLogicalId(stack.bridge.retryQueue.retryFunction.functionRole.node.defaultChild as never) };
  const lookup = onlyResource(template, 'Custom::EksClusterLookup');

  it('runs the function with the house defaults', () => {
    assert.equal(fn.resource.Properties.FunctionName, 'tekton-bridge-webhook');
    assert.equal(fn.resource.Properties.Runtime, 'nodejs22.x');
    assert.deepEqual(fn.resource.Properties.Architectures, ['arm64']);
    assert.equal(fn.resource.Properties.Handler, 'index.handler');
    assert.equal(fn.resource.Properties.MemorySize, 512);
    assert.ok(fn.resource.Properties.Timeout < 10, 'under GitHub’s 10 s');
    assert.equal(fn.resource.Properties.Timeout, 9);
    assert.deepEqual(fn.resource.Properties.LoggingConfig, {
      ApplicationLogLevel: 'INFO',
      LogFormat: 'JSON',
      LogGroup: { Ref: fnLogGroup[0]?.[0] },
      SystemLogLevel: 'INFO',
    });
    assert.deepEqual(fn.resource.Properties.Role, { 'Fn::GetAtt': [fnRole.Ref, 'Arn'] });
  });

  it('gives the function exactly the contract’s environment', () => {
    assert.deepEqual(fn.resource.Properties.Environment.Variables, {
      CLUSTER_NAME: 'demo',
      CLUSTER_ENDPOINT: { 'Fn::GetAtt': [lookup.id, 'cluster.endpoint'] },
      CLUSTER_CA: { 'Fn::GetAtt': [lookup.id, 'cluster.certificateAuthority.data'] },
      WEBHOOK_SECRET_ARN: { Ref: stack.getLogicalId(stack.bridge.webhookSecret.node.defaultChild as never) },
      GITHUB_CREDENTIALS_SECRET_ARN: { Ref: stack.getLogicalId(stack.bridge.githubCredentials.node.defaultChild as never) },
      POWERTOOLS_SERVICE_NAME: 'tekton-bridge',
      POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
      RETRY_QUEUE_URL: { Ref: stack.getLogicalId(stack.bridge.retryQueue.queue.node.defaultChild as never) },
      RETRY_MESSAGE_MAC_KEY_ARN: { 'Fn::GetAtt': [stack.getLogicalId(stack.bridge.retryQueue.messageMacKey.node.defaultChild as never), 'Arn'] },
    });
  });

  it('names the function’s log group as `why` expects, with retention', () => {
    assert.equal(fnLogGroup.length, 1);
    assert.equal(DEFAULT_WHY_LOG_GROUP, '/aws/lambda/tekton-bridge-webhook');
    assert.equal(fnLogGroup[0]?.[1].Properties.RetentionInDays, 30);
    template.hasOutput('FunctionLogGroup', { Value: { Ref: fnLogGroup[0]?.[0] } });
  });

  it('lets the function write its own logs, read its secrets and send to the retry queue, and nothing else', () => {
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [fnRole] } });
    assert.equal(Object.keys(policies).length, 1);
    const [policy] = Object.values(policies);
    assert.deepEqual(policy?.Properties.PolicyDocument.Statement, [
      {
        Sid: 'WriteOwnLogs',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [fnLogGroup[0]?.[0], 'Arn'] },
      },
      {
        Sid: 'ReadWebhookSecret',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: { Ref: stack.getLogicalId(stack.bridge.webhookSecret.node.defaultChild as never) },
      },
      {
        // Send to the retry queue, nothing else with it; and only the KMS actions an SSE-KMS producer needs, through SQS.
        Sid: 'SendToRetryQueue',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(stack.bridge.retryQueue.queue.node.defaultChild as never), 'Arn'] },
      },
      {
        Sid: 'EncryptForRetryQueue',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: { 'Fn::GetAtt': [stack.getLogicalId(stack.bridge.retryQueue.queueKey.node.defaultChild as never), 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['sqs.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] } } },
      },
      {
        Sid: 'ReadGithubCredentials',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: { Ref: stack.getLogicalId(stack.bridge.githubCredentials.node.defaultChild as never) },
      },
    ]);
    const role = template.findResources('AWS::IAM::Role')[fnRole.Ref];
    assert.equal(role?.Properties.ManagedPolicyArns, undefined, 'no managed policies (AWSLambdaBasicExecutionRole writes to every log group)');
    assert.deepEqual(role?.Properties.AssumeRolePolicyDocument.Statement, [
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
  });

  it('reads the cluster’s endpoint and CA once, at deploy time, with one DescribeCluster custom resource', () => {
    const properties = lookup.resource.Properties;
    assert.equal(properties.InstallLatestAwsSdk, false, 'the runtime’s SDK, no download during the deployment');
    // Only onCreate/onUpdate: the call runs when the resource is created, or changed (another clusterName).
    assert.equal(properties.Delete, undefined);
    const call = {
      service: 'eks',
      action: 'DescribeCluster',
      parameters: { name: 'demo' },
      physicalResourceId: { id: 'demo' },
      outputPaths: ['cluster.endpoint', 'cluster.certificateAuthority.data'],
    };
    assert.deepEqual(JSON.parse(properties.Create as string), call);
    assert.deepEqual(JSON.parse(properties.Update as string), call);
    assert.equal(stack.bridge.cluster.lookup?.node.path, 'TektonBridge/Bridge/ClusterLookup');
  });

  it('lets the lookup describe this cluster only, and write its own logs (kept a month), with no managed policy', () => {
    const provider = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => lookupProviderId.test(id));
    assert.equal(provider.length, 1, 'one provider function');
    const [providerId, providerBody] = provider[0]!;
    assert.deepEqual(lookup.resource.Properties.ServiceToken, { 'Fn::GetAtt': [providerId, 'Arn'] });
    assert.equal(providerBody.Properties.FunctionName, 'tekton-bridge-cluster-lookup');
    const lookupLogs = Object.entries(template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: '/aws/lambda/tekton-bridge-cluster-lookup' } }));
    assert.equal(lookupLogs.length, 1);
    assert.equal(lookupLogs[0]?.[1].Properties.RetentionInDays, 30);
    assert.deepEqual(providerBody.Properties.LoggingConfig, { LogGroup: { Ref: lookupLogs[0]?.[0] } });

    const roleRef = { Ref: (providerBody.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0] };
    assert.notDeepEqual(roleRef, fnRole);
    assert.notDeepEqual(roleRef, retryRole);
    const role = template.findResources('AWS::IAM::Role')[roleRef.Ref];
    assert.equal(role?.Properties.ManagedPolicyArns, undefined, 'no AWSLambdaBasicExecutionRole');
    assert.deepEqual(role?.Properties.AssumeRolePolicyDocument.Statement, [
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    assert.deepEqual(
      statementsOf(template, roleRef).sort((a, b) => String(a.Sid).localeCompare(String(b.Sid))),
      [
        { Sid: 'DescribeCluster', Effect: 'Allow', Action: 'eks:DescribeCluster', Resource: clusterArn },
        { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [lookupLogs[0]?.[0], 'Arn'] } },
      ],
    );
    // The DescribeCluster grant is the AwsCustomResource's own policy, in place before the call runs.
    const [crPolicyId, crPolicy] = Object.entries(template.findResources('AWS::IAM::Policy')).find(([, p]) => flatten(p).includes('eks:DescribeCluster'))!;
    assert.deepEqual(crPolicy.Properties.Roles, [roleRef]);
    assert.deepEqual(lookup.resource.DependsOn, [crPolicyId]);
  });

  it('hands both functions the endpoint and CA from the lookup, and neither function role any eks: action', () => {
    for (const name of ['tekton-bridge-webhook', 'tekton-bridge-retry']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: name,
        Environment: {
          Variables: Match.objectLike({
            CLUSTER_NAME: 'demo',
            CLUSTER_ENDPOINT: { 'Fn::GetAtt': [lookup.id, 'cluster.endpoint'] },
            CLUSTER_CA: { 'Fn::GetAtt': [lookup.id, 'cluster.certificateAuthority.data'] },
          }),
        },
      });
    }
    for (const role of [fnRole, retryRole]) {
      const actions = statementsOf(template, role).flatMap((s) => [s.Action].flat());
      assert.ok(actions.length > 0, `${role.Ref} has its grants`);
      assert.deepEqual(actions.filter((a) => a.startsWith('eks:')), [], `${role.Ref} may not call EKS`);
    }
    // The one eks: action in the whole template is the lookup's.
    const eksStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>)
      .filter((s) => flatten(s.Action).includes('eks:'));
    assert.equal(eksStatements.length, 1);
  });

  it('maps the function’s role to the Kubernetes group tekton-bridge with an EKS access entry', () => {
    // The webhook's entry here; the retry and reporter functions have their own, to the same group
    // (test/infra/retry-queue.test.ts, test/infra/run-reporter.test.ts).
    template.resourceCountIs('AWS::EKS::AccessEntry', 3);
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'demo',
      PrincipalArn: { 'Fn::GetAtt': [fnRole.Ref, 'Arn'] },
      Type: 'STANDARD',
      KubernetesGroups: ['tekton-bridge'],
      AccessPolicies: Match.absent(),
    });
  });

  it('generates the webhook secret and outputs the command to read it, never the value', () => {
    // The other secret is the empty GitHub credentials (test/infra/run-reporter.test.ts).
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true },
    });
    const output = flatten(template.findOutputs('WebhookSecretCommand'));
    assert.match(output, /aws secretsmanager get-secret-value --secret-id /);
    assert.match(output, /--query SecretString --output text/);
    assert.doesNotMatch(flatten(template.toJSON()), /resolve:secretsmanager/, 'no dynamic reference to the value anywhere');
  });

  it('routes POST /webhook and POST /webhook/{listener} to the function with payload format 2.0', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey).sort();
    // POST /tekton/events goes to the reporter (test/infra/run-reporter.test.ts).
    assert.deepEqual(routes, ['POST /tekton/events', 'POST /webhook', 'POST /webhook/{listener}']);
    const integrations = Object.entries(template.findResources('AWS::ApiGatewayV2::Integration')).filter(([, i]) => flatten(i.Properties.IntegrationUri) === flatten({ 'Fn::GetAtt': [fn.id, 'Arn'] }));
    assert.equal(integrations.length, 1);
    const integration = { id: integrations[0]![0], resource: integrations[0]![1] };
    assert.deepEqual(integration.resource.Properties, {
      ApiId: integration.resource.Properties.ApiId,
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [fn.id, 'Arn'] },
      PayloadFormatVersion: '2.0',
      TimeoutInMillis: 10000,
    });
    for (const route of Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: Match.stringLikeRegexp('/webhook') } }))) {
      assert.deepEqual(route.Properties.Target, { 'Fn::Join': ['', ['integrations/', { Ref: integration.id }]] });
    }
    // API Gateway may invoke the function only through those two routes.
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { FunctionName: { 'Fn::GetAtt': [fn.id, 'Arn'] } } }));
    assert.equal(permissions.length, 2);
    for (const permission of permissions) {
      assert.equal(permission.Properties.Principal, 'apigateway.amazonaws.com');
      assert.match(flatten(permission.Properties.SourceArn), /\/\*\/\*\/webhook(\/\{listener\})?"/);
    }
    template.hasOutput('WebhookUrl', { Value: { 'Fn::Join': ['', Match.arrayWith(['/webhook'])] } });
  });

  it('throttles the $default stage and keeps JSON access logs with retention', () => {
    const stage = onlyResource(template, 'AWS::ApiGatewayV2::Stage').resource.Properties;
    assert.equal(stage.StageName, '$default');
    assert.equal(stage.AutoDeploy, true);
    assert.deepEqual(stage.DefaultRouteSettings, { ThrottlingBurstLimit: 50, ThrottlingRateLimit: 25 });
    const accessLogs = Object.entries(template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: '/aws/apigateway/tekton-bridge/access' } }));
    assert.equal(accessLogs.length, 1);
    assert.equal(accessLogs[0]?.[1].Properties.RetentionInDays, 30);
    assert.deepEqual(stage.AccessLogSettings.DestinationArn, { 'Fn::GetAtt': [accessLogs[0]?.[0], 'Arn'] });
    const format = JSON.parse(stage.AccessLogSettings.Format as string) as Record<string, string>;
    assert.equal(format.requestId, '$context.requestId');
    assert.equal(format.status, '$context.status');
    assert.equal(format.integrationError, '$context.integrationErrorMessage');
  });

  it('creates an ECR repository that scans on push and outlives the stack', () => {
    const repository = onlyResource(template, 'AWS::ECR::Repository').resource;
    assert.deepEqual(repository.Properties.ImageScanningConfiguration, { ScanOnPush: true });
    assert.equal(repository.DeletionPolicy, 'Retain');
    const rules = JSON.parse(repository.Properties.LifecyclePolicy.LifecyclePolicyText as string).rules as Array<{ selection: { tagStatus: string } }>;
    assert.deepEqual(rules.map((rule) => rule.selection.tagStatus), ['untagged', 'any']);
  });

  it('lets only build-bot in ci on this cluster assume the push role, through EKS Pod Identity', () => {
    const role = template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'pods.eks.amazonaws.com' } }] } } });
    assert.equal(Object.keys(role).length, 1);
    const [roleId, roleBody] = Object.entries(role)[0]!;
    assert.deepEqual(roleBody.Properties.AssumeRolePolicyDocument.Statement, [
      {
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:RequestTag/eks-cluster-arn': clusterArn,
            'aws:RequestTag/kubernetes-namespace': 'ci',
            'aws:RequestTag/kubernetes-service-account': 'build-bot',
          },
        },
      },
    ]);
    const repositoryId = onlyResource(template, 'AWS::ECR::Repository').id;
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } }));
    assert.equal(policies.length, 1);
    assert.deepEqual(policies[0]?.Properties.PolicyDocument.Statement, [
      { Sid: 'RegistryLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
      {
        Sid: 'PushToOwnRepository',
        Effect: 'Allow',
        Action: [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:CompleteLayerUpload',
          'ecr:GetDownloadUrlForLayer',
          'ecr:InitiateLayerUpload',
          'ecr:PutImage',
          'ecr:UploadLayerPart',
        ],
        Resource: { 'Fn::GetAtt': [repositoryId, 'Arn'] },
      },
    ]);
    template.resourceCountIs('AWS::EKS::PodIdentityAssociation', 1);
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      ClusterName: 'demo',
      Namespace: 'ci',
      ServiceAccount: 'build-bot',
      RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
    assert.match(flatten(template.findOutputs('BuildSettingsCommand')), /kubectl -n ci create configmap build-settings --from-literal=image-repository=/);
  });

  it('uses no managed policies and grants no wildcard action anywhere', () => {
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      assert.equal(role.Properties.ManagedPolicyArns, undefined);
    }
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const statement of policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>) {
        for (const action of [statement.Action].flat()) assert.doesNotMatch(action, /\*/, `wildcard action ${action}`);
      }
    }
  });

  it('saves the four delivery queries on the function’s log group', () => {
    // The fifth, `reports-of-a-run`, spans the reporting functions (test/infra/run-reporter.test.ts).
    const queries = Object.values(template.findResources('AWS::Logs::QueryDefinition')).filter((q) => !String(q.Properties.Name).endsWith('/reports-of-a-run'));
    const byName = new Map(queries.map((q) => [q.Properties.Name as string, q.Properties]));
    assert.deepEqual([...byName.keys()].sort(), [
      'tekton-bridge/failures',
      'tekton-bridge/latency',
      'tekton-bridge/one-delivery',
      'tekton-bridge/skips-by-reason',
    ]);
    for (const query of byName.values()) assert.deepEqual(query.LogGroupNames, [{ Ref: fnLogGroup[0]?.[0] }]);
    assert.match(byName.get('tekton-bridge/one-delivery')?.QueryString, /filter deliveryId = /);
    assert.match(byName.get('tekton-bridge/failures')?.QueryString, /outcome in \["failed", "rejected"\]/);
    assert.match(byName.get('tekton-bridge/skips-by-reason')?.QueryString, /outcome = "skipped"[\s\S]*stats count\(\*\) as deliveries.* by reason/);
    assert.match(byName.get('tekton-bridge/latency')?.QueryString, /pct\(durationMs, 50\)[\s\S]*pct\(durationMs, 99\)/);
  });

  it('alarms on everything that loses a delivery unnoticed, each metric scoped to this bridge, with no action when no e-mail is given', () => {
    const alarms = new Map(Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => [a.Properties.AlarmName as string, a.Properties]));
    assert.deepEqual([...alarms.keys()].sort(), [
      'tekton-bridge-api-5xx',
      'tekton-bridge-api-throttled',
      'tekton-bridge-body-too-large',
      'tekton-bridge-dead-letters',
      'tekton-bridge-failed-deliveries',
      'tekton-bridge-function-errors',
      'tekton-bridge-rejected-signatures',
      'tekton-bridge-report-failures',
      'tekton-bridge-reporter-errors',
      'tekton-bridge-retries-postponed',
      'tekton-bridge-retry-function-errors',
      'tekton-bridge-secret-read-failures',
    ]);
    const service = [{ Name: 'service', Value: 'tekton-bridge' }];
    const expectations: Record<string, Record<string, unknown>> = {
      'tekton-bridge-failed-deliveries': { Namespace: 'TektonBridge', MetricName: 'Failed', Dimensions: service, Period: 300, Threshold: 0 },
      'tekton-bridge-secret-read-failures': { Namespace: 'TektonBridge', MetricName: 'SecretReadFailures', Dimensions: service, Period: 300, Threshold: 0 },
      // A jump, not one stray request: three within the hour.
      'tekton-bridge-rejected-signatures': { Namespace: 'TektonBridge', MetricName: 'RejectedSignatures', Dimensions: service, Period: 3600, Threshold: 3, ComparisonOperator: 'GreaterThanOrEqualToThreshold' },
      'tekton-bridge-api-throttled': { Namespace: 'TektonBridge', MetricName: 'ApiThrottled', Dimensions: service, Threshold: 0 },
      'tekton-bridge-body-too-large': { Namespace: 'TektonBridge', MetricName: 'ApiBodyTooLarge', Dimensions: service, Threshold: 0 },
      'tekton-bridge-api-5xx': { Namespace: 'AWS/ApiGateway', MetricName: '5xx', Threshold: 0 },
      'tekton-bridge-function-errors': { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn.id } }], Threshold: 0 },
    };
    for (const [name, expected] of Object.entries(expectations)) {
      const alarm = alarms.get(name)!;
      for (const [key, value] of Object.entries(expected)) assert.deepEqual(alarm[key], value, `${name}: ${key}`);
      assert.equal(alarm.ComparisonOperator, expected.ComparisonOperator ?? 'GreaterThanThreshold', name);
    }
    for (const alarm of alarms.values()) {
      assert.equal(alarm.TreatMissingData, 'notBreaching', alarm.AlarmName);
      assert.equal(alarm.AlarmActions, undefined, alarm.AlarmName);
      assert.ok((alarm.AlarmDescription as string).length > 60, `${alarm.AlarmName} says what to do`);
    }
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('counts 429s and bodies too large for Lambda from the API access log, as this bridge’s metrics', () => {
    const filters = new Map(Object.values(template.findResources('AWS::Logs::MetricFilter')).map((f) => [f.Properties.MetricTransformations[0].MetricName as string, f.Properties]));
    assert.deepEqual([...filters.keys()].sort(), ['ApiBodyTooLarge', 'ApiThrottled']);
    const accessLogs = Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { LogGroupName: '/aws/apigateway/tekton-bridge/access' } }));
    for (const filter of filters.values()) {
      assert.deepEqual(filter.LogGroupName, { Ref: accessLogs[0] });
      assert.deepEqual(filter.MetricTransformations[0], {
        MetricName: filter.MetricTransformations[0].MetricName,
        MetricNamespace: 'TektonBridge',
        MetricValue: '1',
        Dimensions: [{ Key: 'service', Value: '$.service' }],
        Unit: 'Count',
      });
    }
    // GitHub's deliveries only: Tekton retries a throttled event, and the schedule reports the run anyway.
    assert.equal(filters.get('ApiThrottled')?.FilterPattern, '{ $.status = 429 && $.routeKey != "POST /tekton/events" }');
    assert.match(filters.get('ApiBodyTooLarge')?.FilterPattern, /\$\.status = 413/);
    // The access log line carries the constant the filters turn into the dimension.
    const stage = onlyResource(template, 'AWS::ApiGatewayV2::Stage').resource.Properties;
    assert.equal(JSON.parse(stage.AccessLogSettings.Format as string).service, 'tekton-bridge');
  });

  it('outputs what the README’s steps use: queue ARNs and a redrive naming its destination, both roles, an idempotent build-settings command', () => {
    assert.deepEqual(Object.keys(template.findOutputs('*')).sort(), [
      'BuildSettingsCommand',
      'DashboardUrl',
      'DeadLetterQueueArn',
      'FunctionLogGroup',
      'FunctionRoleArn',
      'GithubCredentialsCommand',
      'GithubCredentialsSecretArn',
      'ImageRepositoryUri',
      'RedriveCommand',
      'ReporterFunctionRoleArn',
      'RetryFunctionRoleArn',
      'RetryQueueArn',
      'TailLogsCommand',
      'TektonEventsSinkCommand',
      'TektonEventsUrl',
      'WebhookSecretCommand',
      'WebhookUrl',
    ]);
    // Each one in the README's outputs table.
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const outputsTable = readme.slice(readme.indexOf('| output | what it is |'), readme.indexOf('### Private and restricted cluster endpoints'));
    for (const output of Object.keys(template.findOutputs('*'))) assert.ok(outputsTable.includes(`\`${output}\``), `README outputs table: ${output}`);
    const queueArn = (queue: IConstruct) => ({ 'Fn::GetAtt': [stack.getLogicalId(queue.node.defaultChild as never), 'Arn'] });
    template.hasOutput('RetryQueueArn', { Value: queueArn(stack.bridge.retryQueue.queue) });
    template.hasOutput('DeadLetterQueueArn', { Value: queueArn(stack.bridge.retryQueue.deadLetterQueue) });
    template.hasOutput('RetryFunctionRoleArn', { Value: { 'Fn::GetAtt': [retryRole.Ref, 'Arn'] } });
    const redrive = flatten(template.findOutputs('RedriveCommand'));
    assert.match(redrive, /aws sqs start-message-move-task --source-arn ".*DeadLetterQueue.*" --destination-arn ".*RetryQueue/);
    // `create … --dry-run=client -o yaml | kubectl apply -f -` succeeds the second time too, where `create` alone fails.
    assert.match(flatten(template.findOutputs('BuildSettingsCommand')), /create configmap build-settings --from-literal=image-repository=.* --dry-run=client -o yaml \| kubectl apply -f -/);
  });

  it('links the dashboard on the console host of the stack’s partition', () => {
    const url = flatten(template.findOutputs('DashboardUrl'));
    assert.match(url, /"Fn::FindInMap":\["ConsoleHost",\{"Ref":"AWS::Partition"\},"host"\]/);
    assert.deepEqual(template.toJSON().Mappings.ConsoleHost, {
      aws: { host: 'console.aws.amazon.com' },
      'aws-cn': { host: 'console.amazonaws.cn' },
      'aws-us-gov': { host: 'console.amazonaws-us-gov.com' },
    });
    assert.doesNotMatch(url, /console\.aws\.amazon\.com/);
  });

  it('draws the dashboard: outcomes, duration p50/p99, Lambda errors and throttles, API 4xx/5xx', () => {
    const body = flatten(onlyResource(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody);
    for (const metric of ['Deliveries', 'Created', 'Skipped', 'Duplicate', 'Queued', 'Failed', 'RejectedSignatures']) {
      assert.match(body, new RegExp(`\\\\"TektonBridge\\\\",\\\\"${metric}\\\\",\\\\"service\\\\",\\\\"tekton-bridge\\\\"`), metric);
    }
    assert.match(body, /DeliveryDuration[^\]]*\\"stat\\":\\"p50\\"/);
    assert.match(body, /DeliveryDuration[^\]]*\\"stat\\":\\"p99\\"/);
    for (const metric of ['Errors', 'Throttles', 'Invocations']) assert.match(body, new RegExp(`AWS/Lambda\\\\",\\\\"${metric}`));
    for (const metric of ['4xx', '5xx']) assert.match(body, new RegExp(`AWS/ApiGateway\\\\",\\\\"${metric}`));
  });
});

describe('TektonBridgeStack with options', () => {
  it('skips the lookup entirely when endpoint and CA are given: no custom resource, no eks: permission anywhere', () => {
    const { stack, template } = buildStack({ clusterEndpoint: givenEndpoint, clusterCa: givenCa });
    assert.equal(stack.bridge.cluster.lookup, undefined);
    template.resourceCountIs('Custom::EksClusterLookup', 0);
    assert.equal(Object.keys(template.findResources('AWS::Lambda::Function')).some((id) => lookupProviderId.test(id)), false);
    template.resourceCountIs('AWS::Lambda::Function', 3);
    assert.doesNotMatch(flatten(template.toJSON()), /DescribeCluster|cluster-lookup/);
    assert.doesNotMatch(flatten(template.findResources('AWS::IAM::Policy')), /eks:/);
    for (const name of ['tekton-bridge-webhook', 'tekton-bridge-retry', 'tekton-bridge-reporter']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: name,
        Environment: { Variables: Match.objectLike({ CLUSTER_ENDPOINT: givenEndpoint, CLUSTER_CA: givenCa }) },
      });
    }
  });

  it('uses an existing secret by ARN: no new secret, GetSecretValue on that ARN only', () => {
    const { template } = buildStack({ webhookSecretArn: givenSecretArn });
    // The one secret left is the GitHub credentials the stack creates.
    assert.deepEqual(Object.values(template.findResources('AWS::SecretsManager::Secret')).map((secret) => secret.Properties.SecretString), ['{}']);
    const fn = webhookFunctionResource(template).resource;
    assert.equal(fn.Properties.Environment.Variables.WEBHOOK_SECRET_ARN, givenSecretArn);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const read = statements.filter((s: { Action: string; Sid: string }) => flatten(s.Action).includes('secretsmanager') && s.Sid !== 'ReadGithubCredentials');
    assert.deepEqual(read, [{ Sid: 'ReadWebhookSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: givenSecretArn }]);
    assert.match(flatten(template.findOutputs('WebhookSecretCommand')), new RegExp(`--secret-id ${givenSecretArn}`));
  });

  it('sends alarms to an encrypted, SSL-only SNS topic with an e-mail subscription when alarmEmail is given', () => {
    const { stack, template } = buildStack({ alarmEmail: 'ops@example.com' });
    const topic = onlyResource(template, 'AWS::SNS::Topic');
    const key = { id: stack.getLogicalId(stack.bridge.bridgeAlarms.alarmTopic!.masterKey!.node.defaultChild as never), resource: template.findResources('AWS::KMS::Key')[stack.getLogicalId(stack.bridge.bridgeAlarms.alarmTopic!.masterKey!.node.defaultChild as never)]! };
    assert.deepEqual(topic.resource.Properties.KmsMasterKeyId, { 'Fn::GetAtt': [key.id, 'Arn'] });
    assert.equal(key.resource.Properties.EnableKeyRotation, true);
    assert.ok(
      (key.resource.Properties.KeyPolicy.Statement as Array<{ Principal?: { Service?: string }; Action: string[] }>).some(
        (s) => s.Principal?.Service === 'cloudwatch.amazonaws.com' && s.Action.includes('kms:GenerateDataKey*'),
      ),
      'CloudWatch may use the key to publish',
    );
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topic.id } });
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      assert.deepEqual(alarm.Properties.AlarmActions, [{ Ref: topic.id }]);
      assert.deepEqual(alarm.Properties.OKActions, [{ Ref: topic.id }]);
    }
  });

  it('follows the namespace and stack name it is given, when the trigger configuration renders into that namespace', () => {
    const { template } = buildStack({ namespace: 'builds', stackName: 'bridge-two', triggersDir: triggersIn('builds') });
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'builds' });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'bridge-two-webhook', Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'bridge-two' }) } });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'bridge-two-retry', Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'bridge-two' }) } });
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'bridge-two-cluster-lookup' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/bridge-two-webhook' });
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'bridge-two' });
    // A second bridge in the account keeps its metrics apart: every alarm on a bridge metric has its own service.
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'TektonBridge' } }))) {
      assert.deepEqual(alarm.Properties.Dimensions, [{ Name: 'service', Value: 'bridge-two' }]);
    }
    assert.match(flatten(template.findOutputs('BuildSettingsCommand')), /kubectl -n builds create configmap/);
  });

  it('refuses to synthesize when an EventListener renders into a namespace the stack did not prepare', () => {
    assert.throws(
      () => buildStack({ namespace: 'builds' }),
      (error: unknown) =>
        error instanceof TektonBridgeConfigError &&
        error.message === 'triggers/event-listener.yaml: EventListener/github-push: metadata.namespace: the runs of trigger default-branch go to namespace "ci", but the bridge prepared "builds" (build-bot\'s Pod Identity, the outputs, tekton/); set metadata.namespace: builds (an object without one is in "default"), or deploy with -c namespace=ci',
    );
    // A listener without a namespace runs in `default`, as Tekton Triggers' own would.
    assert.throws(() => buildStack({ triggersDir: triggersIn(undefined) }), /the runs of trigger default-branch go to namespace "default", but the bridge prepared "ci"/);
  });

  it('can leave the Pod Identity association to another stack on the same cluster and namespace', () => {
    const { stack, template } = buildStack({ createPodIdentityAssociation: false });
    template.resourceCountIs('AWS::EKS::PodIdentityAssociation', 0);
    assert.equal(stack.bridge.buildIdentity.podIdentityAssociation, undefined);
    // The push role stays: the other stack's association may point at either.
    assert.equal(Object.keys(template.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'pods.eks.amazonaws.com' } }] } } })).length, 1);
  });
});
