import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { TektonBridgeStack } from '../../infra/tekton-bridge-stack.ts';
import { TektonBridgeConfigError } from '../../infra/tekton-bridge.ts';
import { bridgeFunctionResource, buildStack, flatten, givenGithubCredentials, onlyResource, templateVariants } from './stack-fixture.ts';

const givenKey = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const viaSecretsManager = { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }]] } } };

const ref = (stack: TektonBridgeStack, construct: IConstruct) => ({ Ref: stack.getLogicalId(construct.node.defaultChild as never) });
const arnOf = (stack: TektonBridgeStack, construct: IConstruct) => ({ 'Fn::GetAtt': [stack.getLogicalId(construct.node.defaultChild as never), 'Arn'] });

/** Every IAM statement attached to one role. */
function statementsOf(template: Template, roleRef: { Ref: string }): Array<Record<string, any>> {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => flatten(policy.Properties.Roles).includes(flatten(roleRef)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

describe('the reporter (defaults: no credentials given, so the stack creates an empty secret)', () => {
  // Prepare
  const { stack, template } = buildStack();
  const { bridge } = stack;
  const reporter = bridgeFunctionResource(template, 'reporter');
  const reporterRole = ref(stack, bridge.reporterFunction.functionRole);
  const credentials = ref(stack, bridge.githubCredentials);
  const webhookSecret = ref(stack, bridge.webhookSecret);
  const lookup = onlyResource(template, 'Custom::EksClusterLookup');

  it('is a bridge function named <stackName>-reporter, with a minute to reconcile and the trigger configuration bundled', () => {
    assert.equal(reporter.resource.Properties.FunctionName, 'tekton-bridge-reporter');
    assert.equal(reporter.resource.Properties.Runtime, 'nodejs22.x');
    assert.deepEqual(reporter.resource.Properties.Architectures, ['arm64']);
    assert.equal(reporter.resource.Properties.Timeout, 60);
    assert.equal(reporter.resource.Properties.ReservedConcurrentExecutions, undefined);
    assert.deepEqual(reporter.resource.Properties.Role, { 'Fn::GetAtt': [reporterRole.Ref, 'Arn'] });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/tekton-bridge-reporter', RetentionInDays: 30 });
    assert.equal(bridge.reporterFunction.node.path, 'TektonBridge/Bridge/Reporter/ReporterFunction');
  });

  it('gets the cluster as the other functions do, the webhook secret (run signatures) and the credentials secret; nothing else', () => {
    assert.deepEqual(reporter.resource.Properties.Environment.Variables, {
      CLUSTER_NAME: 'demo',
      CLUSTER_ENDPOINT: { 'Fn::GetAtt': [lookup.id, 'cluster.endpoint'] },
      CLUSTER_CA: { 'Fn::GetAtt': [lookup.id, 'cluster.certificateAuthority.data'] },
      WEBHOOK_SECRET_ARN: webhookSecret,
      GITHUB_CREDENTIALS_SECRET_ARN: credentials,
      POWERTOOLS_SERVICE_NAME: 'tekton-bridge',
      POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
    });
    // The webhook and retry functions report too: the same secret.
    for (const fn of ['webhook', 'retry'] as const) {
      const variables = bridgeFunctionResource(template, fn).resource.Properties.Environment.Variables;
      assert.deepEqual(variables.GITHUB_CREDENTIALS_SECRET_ARN, credentials, fn);
      for (const absent of ['GITHUB_API_URL', 'DETAILS_URL_TEMPLATE', 'REDELIVER_HOOKS']) assert.equal(variables[absent], undefined, `${fn}: ${absent}`);
    }
  });

  it('has a role of its own that may write its log and read the webhook secret and the credentials, and nothing else (no queue, no KMS, no eks:)', () => {
    assert.deepEqual(statementsOf(template, reporterRole), [
      { Sid: 'WriteOwnLogs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arnOf(stack, bridge.reporterFunction.functionLogGroup) },
      { Sid: 'ReadWebhookSecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: webhookSecret },
      { Sid: 'ReadGithubCredentials', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: credentials },
    ]);
    // The webhook and the reporter, and only they, may read the webhook secret: the retry function gets signatures in its messages.
    const webhookSecretReaders = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.PolicyDocument.Statement as Array<{ Sid?: string }>).some((s) => s.Sid === 'ReadWebhookSecret'))
      .map((policy) => flatten(policy.Properties.Roles));
    assert.deepEqual(webhookSecretReaders.sort(), [bridge.webhookFunction, bridge.reporterFunction].map((fn) => flatten([ref(stack, fn.functionRole)])).sort());
    const role = template.findResources('AWS::IAM::Role')[reporterRole.Ref];
    assert.equal(role?.Properties.ManagedPolicyArns, undefined);
    assert.deepEqual(role?.Properties.AssumeRolePolicyDocument.Statement, [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }]);
    // The three reporting functions, and only they, may read the credentials.
    const readers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.PolicyDocument.Statement as Array<{ Sid?: string }>).some((s) => s.Sid === 'ReadGithubCredentials'))
      .map((policy) => flatten(policy.Properties.Roles));
    assert.deepEqual(
      readers.sort(),
      [bridge.webhookFunction, bridge.retryFunction, bridge.reporterFunction].map((fn) => flatten([ref(stack, fn.functionRole)])).sort(),
    );
  });

  it('maps its role to the Kubernetes group tekton-bridge with an access entry that waits for the function', () => {
    const entry = Object.entries(template.findResources('AWS::EKS::AccessEntry')).find(([, e]) => flatten(e.Properties.PrincipalArn) === flatten({ 'Fn::GetAtt': [reporterRole.Ref, 'Arn'] }));
    assert.ok(entry, 'the reporter’s access entry');
    assert.deepEqual(entry[1].Properties, { ClusterName: 'demo', PrincipalArn: { 'Fn::GetAtt': [reporterRole.Ref, 'Arn'] }, Type: 'STANDARD', KubernetesGroups: ['tekton-bridge'] });
    assert.ok((entry[1].DependsOn as string[]).includes(reporter.id));
  });

  it('serves POST /tekton/events with payload format 2.0, through its own route throttle', () => {
    const route = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: 'POST /tekton/events' } }));
    assert.equal(route.length, 1);
    const integrations = Object.entries(template.findResources('AWS::ApiGatewayV2::Integration', { Properties: { IntegrationUri: { 'Fn::GetAtt': [reporter.id, 'Arn'] } } }));
    assert.equal(integrations.length, 1);
    const [integrationId, integration] = integrations[0]!;
    assert.deepEqual(integration.Properties, { ApiId: integration.Properties.ApiId, IntegrationType: 'AWS_PROXY', IntegrationUri: { 'Fn::GetAtt': [reporter.id, 'Arn'] }, PayloadFormatVersion: '2.0', TimeoutInMillis: 29000 });
    assert.deepEqual(route[0]?.Properties.Target, { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] });
    // A bucket of its own: a flood of events never takes the webhook routes' share of the stage throttle.
    const stage = onlyResource(template, 'AWS::ApiGatewayV2::Stage');
    assert.deepEqual(stage.resource.Properties.RouteSettings, { 'POST /tekton/events': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 } });
    assert.deepEqual(stage.resource.Properties.DefaultRouteSettings, { ThrottlingBurstLimit: 50, ThrottlingRateLimit: 25 });
    const routeId = Object.keys(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: 'POST /tekton/events' } }))[0]!;
    assert.ok((stage.resource.DependsOn as string[]).includes(routeId), 'the route exists before the stage names it');
    // API Gateway may invoke the reporter through that route only.
    const apiPermissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { FunctionName: { 'Fn::GetAtt': [reporter.id, 'Arn'] }, Principal: 'apigateway.amazonaws.com' } }));
    assert.equal(apiPermissions.length, 1);
    assert.match(flatten(apiPermissions[0]?.Properties.SourceArn), /\/\*\/\*\/tekton\/events"\]\]\}$/);
    template.hasOutput('TektonEventsUrl', { Value: { 'Fn::Join': ['', Match.arrayWith(['https://', '/tekton/events'])] } });
  });

  it('runs every minute from an EventBridge rule (the classic scheduled event), with no retry of a failed minute', () => {
    const rule = onlyResource(template, 'AWS::Events::Rule').resource.Properties;
    assert.equal(rule.ScheduleExpression, 'rate(1 minute)');
    assert.equal(rule.State, 'ENABLED');
    assert.equal(rule.EventPattern, undefined);
    assert.deepEqual(rule.Targets, [{ Arn: { 'Fn::GetAtt': [reporter.id, 'Arn'] }, Id: 'Target0', RetryPolicy: { MaximumEventAgeInSeconds: 60, MaximumRetryAttempts: 2 } }]);
    // No Input: the function receives EventBridge's own event, "source": "aws.events", "detail-type": "Scheduled Event".
    assert.equal(rule.Targets[0].Input, undefined);
    const ruleId = onlyResource(template, 'AWS::Events::Rule').id;
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [reporter.id, 'Arn'] },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    assert.deepEqual(onlyResource(template, 'AWS::Lambda::EventInvokeConfig').resource.Properties, {
      FunctionName: { Ref: reporter.id },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('creates the credentials secret holding {} and outputs its ARN and the command that fills it from a file, never a value', () => {
    const secret = template.findResources('AWS::SecretsManager::Secret')[credentials.Ref];
    assert.equal(secret?.Properties.SecretString, '{}');
    assert.equal(secret?.Properties.GenerateSecretString, undefined);
    template.hasOutput('GithubCredentialsSecretArn', { Value: credentials });
    const command = template.findOutputs('GithubCredentialsCommand').GithubCredentialsCommand?.Value as { 'Fn::Join': [string, unknown[]] };
    assert.deepEqual(command, {
      'Fn::Join': ['', ['aws secretsmanager put-secret-value --secret-id ', credentials, ' --region ', { Ref: 'AWS::Region' }, ' --secret-string file://github-credentials.json']],
    });
    // zsh-safe as printed: nothing its globbing or history expansion would touch.
    assert.doesNotMatch(command['Fn::Join'][1].filter((part: unknown) => typeof part === 'string').join(''), /[*?[\]!$`"'\\]/);
    assert.doesNotMatch(flatten(template.toJSON()), /resolve:secretsmanager/);
    template.hasOutput('ReporterFunctionRoleArn', { Value: { 'Fn::GetAtt': [reporterRole.Ref, 'Arn'] } });
  });

  it('outputs the kubectl patch that points Tekton’s config-events at the route, with formats tektonv1', () => {
    const value = template.findOutputs('TektonEventsSinkCommand').TektonEventsSinkCommand?.Value as { 'Fn::Join': [string, unknown[]] };
    const [first, ...rest] = value['Fn::Join'][1];
    assert.equal(first, 'kubectl -n tekton-pipelines patch configmap config-events --type merge -p \'{"data":{"formats":"tektonv1","sink":"https://');
    assert.equal(rest.at(-1), '/tekton/events"}}\'');
  });

  it('alarms on sustained report failures (this bridge’s ReportFailed) and on reporter errors', () => {
    const alarms = new Map(Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => [a.Properties.AlarmName as string, a.Properties]));
    const failures = alarms.get('tekton-bridge-report-failures');
    assert.deepEqual(
      { ...failures, AlarmDescription: undefined },
      {
        AlarmDescription: undefined,
        Namespace: 'TektonBridge',
        MetricName: 'ReportFailed',
        Dimensions: [{ Name: 'service', Value: 'tekton-bridge' }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        // Three five-minute periods in a row: one failure is the next schedule's to retry.
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        TreatMissingData: 'notBreaching',
        AlarmName: 'tekton-bridge-report-failures',
      },
    );
    assert.match(failures?.AlarmDescription, /Commit statuses or Checks: write/);
    const errors = alarms.get('tekton-bridge-reporter-errors');
    assert.equal(errors?.Namespace, 'AWS/Lambda');
    assert.equal(errors?.MetricName, 'Errors');
    assert.deepEqual(errors?.Dimensions, [{ Name: 'FunctionName', Value: { Ref: reporter.id } }]);
    assert.equal(errors?.Threshold, 0);
    assert.equal(errors?.EvaluationPeriods, 1);
    const inConstruct = stack.bridge.alarms.map((alarm) => stack.resolve((alarm.node.defaultChild as { alarmName?: string }).alarmName));
    assert.ok(inConstruct.includes('tekton-bridge-report-failures') && inConstruct.includes('tekton-bridge-reporter-errors'));
  });

  it('alarms when concurrency groups stay unsettled for 15 minutes: settlements failing, or runs whose signature does not verify', () => {
    const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) => a.Properties.AlarmName === 'tekton-bridge-concurrency-groups')?.Properties;
    assert.ok(alarm, 'the concurrency-groups alarm');
    assert.equal(alarm.EvaluationPeriods, 3);
    assert.equal(alarm.DatapointsToAlarm, 3);
    assert.equal(alarm.Threshold, 0);
    assert.equal(alarm.TreatMissingData, 'notBreaching');
    const queries = alarm.Metrics as Array<{ Id: string; Expression?: string; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown }; Period: number; Stat: string } }>;
    assert.equal(queries.find((q) => q.Expression)?.Expression, 'FILL(failed, 0) + FILL(unverified, 0)');
    const metrics = Object.fromEntries(queries.filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat]));
    for (const [id, metricName] of [['failed', 'GroupSettlementFailed'], ['unverified', 'UnverifiedRuns']] as const) {
      assert.deepEqual(metrics[id], { Metric: { Namespace: 'TektonBridge', MetricName: metricName, Dimensions: [{ Name: 'service', Value: 'tekton-bridge' }] }, Period: 300, Stat: 'Sum' }, id);
    }
    assert.match(alarm.AlarmDescription, /cannot read the webhook secret/);
  });

  it('draws Reported and ReportFailed, the reporter’s Lambda metrics and the reports GitHub did not take', () => {
    const body = flatten(onlyResource(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody);
    for (const metric of ['Reported', 'ReportFailed']) {
      assert.match(body, new RegExp(`\\\\"TektonBridge\\\\",\\\\"${metric}\\\\",\\\\"service\\\\",\\\\"tekton-bridge\\\\"`), metric);
    }
    assert.match(body, /Reporter function/);
    assert.ok(body.includes(flatten({ Ref: reporter.id })), 'the reporter function’s own metrics');
    assert.match(body, /filter ispresent\(source\) and outcome in \[/);
    // The report lines of a run, from every function that reports.
    const query = Object.values(template.findResources('AWS::Logs::QueryDefinition', { Properties: { Name: 'tekton-bridge/reports-of-a-run' } }));
    assert.equal(query.length, 1);
    assert.deepEqual(
      query[0]?.Properties.LogGroupNames,
      [bridge.reporterFunction, bridge.webhookFunction, bridge.retryFunction].map((fn) => ref(stack, fn.functionLogGroup)),
    );
    assert.match(query[0]?.Properties.QueryString, /filter ispresent\(source\) and run like "PASTE-RUN-NAME"/);
  });
});

describe('the reporter with every reporting setting', () => {
  const { stack, template } = buildStack(templateVariants['github-reporting']);
  const { bridge } = stack;

  it('uses the given credentials: no secret created, each function reads it and decrypts through Secrets Manager only', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    assert.equal(Object.values(template.findResources('AWS::SecretsManager::Secret'))[0]?.Properties.SecretString, undefined, 'only the webhook secret');
    for (const fn of [bridge.webhookFunction, bridge.retryFunction, bridge.reporterFunction]) {
      const statements = statementsOf(template, ref(stack, fn.functionRole));
      assert.deepEqual(statements.filter((s) => s.Sid === 'ReadGithubCredentials'), [{ Sid: 'ReadGithubCredentials', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: givenGithubCredentials }], fn.node.path);
      assert.deepEqual(statements.filter((s) => s.Sid === 'DecryptGithubCredentials'), [{ Sid: 'DecryptGithubCredentials', Effect: 'Allow', Action: 'kms:Decrypt', Resource: givenKey, Condition: viaSecretsManager }], fn.node.path);
    }
    template.hasOutput('GithubCredentialsSecretArn', { Value: givenGithubCredentials });
    assert.match(flatten(template.findOutputs('GithubCredentialsCommand')), new RegExp(`--secret-id ${givenGithubCredentials} `));
  });

  it('sets the API and the link on all three functions, and redelivery on the reporter only', () => {
    const shared = {
      GITHUB_CREDENTIALS_SECRET_ARN: givenGithubCredentials,
      GITHUB_API_URL: 'https://github.example.com/api/v3',
      DETAILS_URL_TEMPLATE: 'https://tekton.example.com/#/namespaces/{namespace}/{kind}s/{name}',
    };
    const redelivery = { REDELIVER_HOOKS: 'octo-org/service/12345678,octo-org/website/87654321', REDELIVER_WINDOW_HOURS: '48', REDELIVER_MAX_ATTEMPTS: '2' };
    template.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'tekton-bridge-reporter', Environment: { Variables: Match.objectLike({ ...shared, ...redelivery }) } });
    for (const fn of ['webhook', 'retry'] as const) {
      const variables = bridgeFunctionResource(template, fn).resource.Properties.Environment.Variables;
      assert.deepEqual(Object.fromEntries(Object.keys(shared).map((key) => [key, variables[key]])), shared, fn);
      for (const key of Object.keys(redelivery)) assert.equal(variables[key], undefined, `${fn}: ${key}`);
    }
  });
});

describe('redelivery turned off', () => {
  it('passes redeliverMaxAttempts 0 on as REDELIVER_MAX_ATTEMPTS=0, which the reporter reads as off', () => {
    const { template } = buildStack({ redeliverMaxAttempts: 0 });
    assert.equal(bridgeFunctionResource(template, 'reporter').resource.Properties.Environment.Variables.REDELIVER_MAX_ATTEMPTS, '0');
  });
});

describe('the reporter in VPC mode and behind the front', () => {
  it('runs in the same subnets and security groups as the other functions, and may manage its network interfaces', () => {
    const { stack, template } = buildStack(templateVariants['vpc-with-nat']);
    const configs = (['webhook', 'retry', 'reporter'] as const).map((fn) => bridgeFunctionResource(template, fn).resource.Properties.VpcConfig);
    assert.ok(configs[2], 'the reporter has a VpcConfig');
    assert.deepEqual(configs[2], configs[0]);
    assert.deepEqual(configs[2], configs[1]);
    assert.match(flatten(statementsOf(template, ref(stack, stack.bridge.reporterFunction.functionRole))), /ec2:CreateNetworkInterface/);
  });

  it('keeps TektonEventsUrl on the API’s own URL: the front’s web ACL admits GitHub’s hook ranges only', () => {
    const { stack, template } = buildStack(templateVariants['vpc-front-reporting']);
    const api = stack.getLogicalId(stack.bridge.api.httpApi.node.defaultChild as never);
    template.hasOutput('TektonEventsUrl', { Value: { 'Fn::Join': ['', ['https://', { Ref: api }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, '/tekton/events']] } });
    assert.match(flatten(template.findOutputs('WebhookUrl')), /DomainName/, 'the webhook URL is the distribution’s');
    assert.doesNotMatch(flatten(template.findOutputs('TektonEventsUrl')), /Distribution|cloudfront/i);
  });
});

describe('reporting settings the construct refuses', () => {
  const refusals: Array<[string, Parameters<typeof buildStack>[0], RegExp]> = [
    ['an http:// GitHub API', { githubApiUrl: 'http://github.example.com/api/v3' }, /githubApiUrl must be an https:\/\/ URL/],
    ['a details link with an unknown placeholder', { detailsUrlTemplate: 'https://tekton.example.com/{namespace}/{run}' }, /detailsUrlTemplate has the unknown placeholder \{run\}/],
    ['a details link that is no URL', { detailsUrlTemplate: 'tekton dashboard' }, /detailsUrlTemplate is not a URL/],
    ['a hook without its numeric id', { redeliverHooks: ['octo-org/service/main'] }, /redeliverHooks must be owner\/repo\/hookId/],
    ['a window beyond GitHub’s three days', { redeliverWindowHours: 96 }, /redeliverWindowHours must be a whole number from 1 to 72/],
    ['more attempts than the reporter takes', { redeliverMaxAttempts: 11 }, /redeliverMaxAttempts must be a whole number from 0 to 10/],
    ['a fraction of an attempt', { redeliverMaxAttempts: 1.5 }, /redeliverMaxAttempts must be a whole number from 0 to 10/],
    ['a KMS key for the created credentials', { githubCredentialsKmsKeyArn: givenKey }, /githubCredentialsKmsKeyArn is the key of an imported secret; give githubCredentialsSecretArn too/],
  ];
  for (const [name, props, message] of refusals) {
    it(`refuses ${name}`, () => {
      assert.throws(() => buildStack(props), (error: unknown) => error instanceof TektonBridgeConfigError && message.test(error.message));
    });
  }
});
