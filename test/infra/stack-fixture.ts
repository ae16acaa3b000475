/**
 * Builds the stack in-process for assertions, with cdk.json's feature flags, the tiny fixture
 * handler and the checked-in triggers/, and bundling skipped unless asked for (bundling is slow and
 * one test does it for real).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { projectRoot } from '../../infra/function-bundling.ts';
import { TektonBridgeStack, type TektonBridgeStackProps } from '../../infra/tekton-bridge-stack.ts';

export const fixtureHandler = path.join(projectRoot, 'test', 'fixtures', 'lambda', 'hello.ts');
export const validTriggersFixture = path.join(projectRoot, 'test', 'fixtures', 'triggers', 'valid');
export const invalidTriggersFixture = path.join(projectRoot, 'test', 'fixtures', 'triggers', 'invalid');

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface FixtureStack {
  app: App;
  stack: TektonBridgeStack;
  template: Template;
}

export function buildStack(overrides: Partial<TektonBridgeStackProps> = {}, options: { bundle?: boolean; outdir?: string; validate?: boolean } = {}): FixtureStack {
  const app = new App({
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    ...(options.outdir !== undefined && { outdir: options.outdir }),
  });
  const stack = new TektonBridgeStack(app, 'TektonBridge', {
    stackName: 'tekton-bridge',
    clusterName: 'demo',
    namespace: 'ci',
    triggersDir: path.join(projectRoot, 'triggers'),
    webhookEntry: fixtureHandler,
    retryEntry: fixtureHandler,
    reporterEntry: fixtureHandler,
    ...overrides,
  });
  return { app, stack, template: synthTemplate(stack, options.validate ?? false) };
}

/**
 * CDK's built-in CloudFormation validation (a WebAssembly rule engine) costs ~4 s per process; the
 * assertion tests skip it, the app and cfn-lint tests run it.
 */
export function synthTemplate(stack: Stack, validate: boolean): Template {
  const previous = process.env.CDK_VALIDATION;
  if (!validate) process.env.CDK_VALIDATION = 'false';
  try {
    return Template.fromStack(stack);
  } finally {
    if (previous === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = previous;
  }
}

/** The one resource of a type, by logical id and body; fails when there are none or several. */
export function onlyResource(template: Template, type: string): { id: string; resource: Record<string, any> } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource };
}

/** One of the bridge's functions (webhook, retry, reporter), by its name `<stack>-<function>`. */
export function bridgeFunctionResource(template: Template, fn: 'webhook' | 'retry' | 'reporter'): { id: string; resource: Record<string, any> } {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, r]) => String(r.Properties.FunctionName).endsWith(`-${fn}`));
  if (found.length !== 1) throw new Error(`expected one ${fn} function, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource };
}

/** The webhook function (the stack also has the retry and reporter functions), by its name `<stack>-webhook`. */
export function webhookFunctionResource(template: Template): { id: string; resource: Record<string, any> } {
  return bridgeFunctionResource(template, 'webhook');
}

/** `Fn::Join` and friends flattened to text, for "does the output mention X" checks. */
export function flatten(value: unknown): string {
  return JSON.stringify(value);
}

/** The repository's triggers/ copied to a temporary folder with every `namespace: ci` changed (undefined: removed). */
export function triggersIn(namespace: string | undefined): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tekton-bridge-triggers-'));
  const source = path.join(projectRoot, 'triggers');
  for (const name of readdirSync(source)) {
    const text = readFileSync(path.join(source, name), 'utf8');
    writeFileSync(path.join(dir, name), text.replace(/^(\s*)namespace: ci\n/gm, namespace === undefined ? '' : `$1namespace: ${namespace}\n`));
  }
  return dir;
}

const givenSecret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-webhook-AbCdEf';
export const webhookFrontWebAclArn = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/tekton-bridge-front/a1b2c3d4-5678-90ab-cdef-0123456789ab';
const givenKey = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
export const givenGithubCredentials = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-credentials-AbCdEf';

/**
 * The shapes of the template a user can get, for cdk-nag and cfn-lint: `defaults` has the deploy-time DescribeCluster
 * custom resource, `existing-secret-endpoint-ca` none; the VPC modes run the functions in subnets; `github-reporting`
 * reports with given credentials under a customer-managed key, and every reporting setting.
 */
export const templateVariants = {
  defaults: {},
  'alarm-email': { alarmEmail: 'ops@example.com' },
  'existing-secret-endpoint-ca': {
    webhookSecretArn: givenSecret,
    clusterEndpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
    clusterCa: 'LS0tLS1CRUdJTg==',
  },
  'every-option': {
    webhookSecretArn: givenSecret,
    webhookSecretKmsKeyArn: givenKey,
    triggerSecretsArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:trigger-secrets-AbCdEf',
    triggerSecretsKmsKeyArn: givenKey,
    ebsCsiDriver: true,
    createPodIdentityAssociation: false,
    webhookReservedConcurrency: 'none',
    redriveRoleArns: ['arn:aws:iam::123456789012:role/operators'],
  },
  'vpc-with-nat': {
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    clusterSecurityGroupId: 'sg-0123456789abcdef0',
  },
  'vpc-without-nat': {
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    securityGroupIds: ['sg-0fedcba9876543210'],
    clusterSecurityGroupId: 'sg-0123456789abcdef0',
    createVpcEndpoints: true,
  },
  'webhook-front': { webhookFrontWebAclArn },
  'github-reporting': {
    githubCredentialsSecretArn: givenGithubCredentials,
    githubCredentialsKmsKeyArn: givenKey,
    githubApiUrl: 'https://github.example.com/api/v3',
    detailsUrlTemplate: 'https://tekton.example.com/#/namespaces/{namespace}/{kind}s/{name}',
    redeliverHooks: ['octo-org/service/12345678', 'octo-org/website/87654321'],
    redeliverWindowHours: 48,
    redeliverMaxAttempts: 2,
  },
  'vpc-front-reporting': {
    vpcId: 'vpc-0123456789abcdef0',
    subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    clusterSecurityGroupId: 'sg-0123456789abcdef0',
    webhookFrontWebAclArn,
    githubCredentialsSecretArn: givenGithubCredentials,
  },
} as const satisfies Record<string, Partial<TektonBridgeStackProps>>;
