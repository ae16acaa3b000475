import assert from 'node:assert/strict';
import { compileTriggersDirectory } from '../../functions/adapters/triggers-directory.ts';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { projectRoot } from '../../infra/function-bundling.ts';
import { BridgeSettingsError, contextKeys, readBridgeSettings } from '../../infra/bridge-settings.ts';
import { cdkJsonContext, invalidTriggersFixture } from './stack-fixture.ts';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command from the repository root with a bounded time; never inherits AWS credentials. */
function run(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const { AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, AWS_SESSION_TOKEN: _t, AWS_PROFILE: _p, ...base } = process.env;
    const child = spawn(command, args, {
      cwd: projectRoot,
      env: { ...base, CDK_DISABLE_CLI_TELEMETRY: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** `node infra/app.ts` as the CDK CLI runs it: context (cdk.json's plus ours) in CDK_CONTEXT_JSON. */
function runApp(context: Record<string, unknown>, outdir: string): Promise<Run> {
  return run(
    process.execPath,
    ['infra/app.ts'],
    { CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context }), CDK_OUTDIR: outdir },
    60_000,
  );
}

describe('readBridgeSettings', () => {
  const settingsOf = (context: Record<string, unknown>) => readBridgeSettings(new App({ context }).node);

  it('reads clusterName and fills the defaults', () => {
    assert.deepEqual(settingsOf({ clusterName: 'demo' }), {
      stackName: 'tekton-bridge',
      clusterName: 'demo',
      triggersDir: path.join(projectRoot, 'triggers'),
    });
  });

  it('reads the VPC mode, the KMS keys, the trigger secrets and the switches, as the construct’s props', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const settings = settingsOf({
      clusterName: 'demo',
      webhookSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-webhook-AbCdEf',
      webhookSecretKmsKeyArn: key,
      triggerSecretsArn: 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:trigger-secrets-AbCdEf',
      triggerSecretsKmsKeyArn: key,
      vpcId: 'vpc-0123456789abcdef0',
      subnetIds: 'subnet-0123456789abcdef0, subnet-0123456789abcdef1',
      securityGroupIds: 'sg-0123456789abcdef0',
      clusterSecurityGroupId: 'sg-0fedcba9876543210',
      createVpcEndpoints: 'true',
      createPodIdentityAssociation: false,
      ebsCsiDriver: 'true',
      webhookReservedConcurrency: '50',
      redriveRoleArns: 'arn:aws:iam::123456789012:role/ops,arn:aws:iam::123456789012:role/path/admin',
    });
    assert.deepEqual(settings.subnetIds, ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1']);
    assert.deepEqual(settings.securityGroupIds, ['sg-0123456789abcdef0']);
    assert.equal(settings.createVpcEndpoints, true);
    assert.equal(settings.createPodIdentityAssociation, false);
    assert.equal(settings.ebsCsiDriver, true);
    assert.equal(settings.webhookReservedConcurrency, 50);
    assert.equal(settings.webhookSecretKmsKeyArn, key);
    assert.deepEqual(settings.redriveRoleArns, ['arn:aws:iam::123456789012:role/ops', 'arn:aws:iam::123456789012:role/path/admin']);
    assert.equal(settingsOf({ clusterName: 'demo', webhookReservedConcurrency: 'none' }).webhookReservedConcurrency, 'none');
  });

  it('reads every optional key', () => {
    const settings = settingsOf({
      clusterName: 'demo',
      namespace: 'builds',
      webhookSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-webhook-AbCdEf',
      clusterEndpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
      clusterCa: 'LS0tLS1CRUdJTg==',
      alarmEmail: 'ops@example.com',
      stackName: 'bridge-two',
      triggersDir: 'test/fixtures/triggers/valid',
    });
    assert.equal(settings.namespace, 'builds');
    assert.equal(settings.alarmEmail, 'ops@example.com');
    assert.equal(settings.clusterEndpoint, 'https://ABC.gr7.eu-west-1.eks.amazonaws.com');
    assert.equal(settings.clusterCa, 'LS0tLS1CRUdJTg==');
    assert.equal(settings.triggersDir, path.join(projectRoot, 'test/fixtures/triggers/valid'));
  });

  it('reads the GitHub reporting keys: credentials and their key, the API, the link, the hooks to redeliver', () => {
    const settings = settingsOf({
      clusterName: 'demo',
      githubCredentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-credentials-AbCdEf',
      githubCredentialsKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      githubApiUrl: 'https://github.example.com/api/v3',
      detailsUrlTemplate: 'https://tekton.example.com/#/namespaces/{namespace}/{kind}s/{name}',
      redeliverHooks: 'octo-org/service/12345678, octo-org/web.site/87654321',
      redeliverWindowHours: '48',
      redeliverMaxAttempts: 2,
    });
    assert.equal(settings.githubCredentialsSecretArn, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-credentials-AbCdEf');
    assert.equal(settings.githubCredentialsKmsKeyArn, 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    assert.equal(settings.githubApiUrl, 'https://github.example.com/api/v3');
    assert.equal(settings.detailsUrlTemplate, 'https://tekton.example.com/#/namespaces/{namespace}/{kind}s/{name}');
    assert.deepEqual(settings.redeliverHooks, ['octo-org/service/12345678', 'octo-org/web.site/87654321']);
    assert.equal(settings.redeliverWindowHours, 48);
    assert.equal(settings.redeliverMaxAttempts, 2);
  });

  it('has every key it reads in the README’s context table', () => {
    const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((line) => line.startsWith('| `'));
    const documented = new Set(rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`(\w+)`/g)].map((m) => m[1])));
    assert.deepEqual(contextKeys.filter((key) => !documented.has(key)), []);
  });

  const refusals: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no clusterName', {}, /missing context value "clusterName".*-c clusterName=/],
    ['a clusterName EKS would refuse', { clusterName: 'no spaces' }, /"clusterName" is not an EKS cluster name/],
    ['a namespace Kubernetes would refuse', { clusterName: 'demo', namespace: 'CI' }, /"namespace" is not a Kubernetes namespace/],
    ['an endpoint without a CA', { clusterName: 'demo', clusterEndpoint: 'https://x.eks.amazonaws.com' }, /"clusterEndpoint" and "clusterCa" go together/],
    ['a partial secret ARN', { clusterName: 'demo', webhookSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-webhook' }, /complete secret ARN/],
    ['a malformed e-mail', { clusterName: 'demo', alarmEmail: 'ops' }, /"alarmEmail" is not an e-mail address/],
    ['a KMS key for a generated secret', { clusterName: 'demo', webhookSecretKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' }, /key of an imported secret: give "webhookSecretArn" too/],
    ['a key alias instead of a key ARN', { clusterName: 'demo', webhookSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-webhook-AbCdEf', webhookSecretKmsKeyArn: 'alias/mine' }, /"webhookSecretKmsKeyArn" must be a KMS key ARN/],
    ['subnets without a VPC', { clusterName: 'demo', subnetIds: 'subnet-0123456789abcdef0' }, /"vpcId" and "subnetIds" go together/],
    ['endpoints without VPC mode', { clusterName: 'demo', createVpcEndpoints: 'true' }, /are for VPC mode/],
    ['a subnet list with a stray value', { clusterName: 'demo', vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0123456789abcdef0,10.0.0.0/24' }, /"10\.0\.0\.0\/24" is not one/],
    ['a switch that is not true or false', { clusterName: 'demo', ebsCsiDriver: 'yes' }, /"ebsCsiDriver" must be true or false/],
    ['a reserved concurrency of 0 (which would refuse every delivery)', { clusterName: 'demo', webhookReservedConcurrency: '0' }, /from 1 to 1000, or none/],
    ['a partial GitHub credentials ARN', { clusterName: 'demo', githubCredentialsSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github' }, /"githubCredentialsSecretArn" must be the complete secret ARN/],
    ['a KMS key for the created GitHub credentials', { clusterName: 'demo', githubCredentialsKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' }, /give "githubCredentialsSecretArn" too/],
    ['a hook without its id', { clusterName: 'demo', redeliverHooks: 'octo-org/service' }, /"redeliverHooks" must be comma-separated hooks as owner\/repo\/hookId.*"octo-org\/service" is not one/],
    ['a window that is not a number', { clusterName: 'demo', redeliverWindowHours: '6h' }, /"redeliverWindowHours" must be a whole number, got "6h"/],
  ];
  for (const [name, context, message] of refusals) {
    it(`refuses ${name}`, () => {
      assert.throws(() => settingsOf(context), (error: unknown) => error instanceof BridgeSettingsError && message.test(error.message));
    });
  }
});

describe('infra/app.ts', () => {
  const outRoot = mkdtempSync(path.join(tmpdir(), 'tekton-bridge-app-'));
  after(() => rmSync(outRoot, { recursive: true, force: true }));

  it('fails with one clear line when clusterName is missing', async () => {
    const result = await runApp({}, path.join(outRoot, 'missing'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^tekton-bridge: missing context value "clusterName": name the EKS cluster, e\.g\. `npx cdk synth -c clusterName=my-cluster`\n$/);
  });

  it('fails synth on an invalid trigger configuration, naming file, object and field', async () => {
    const result = await runApp({ clusterName: 'demo', triggersDir: invalidTriggersFixture }, path.join(outRoot, 'invalid'));
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^tekton-bridge: invalid trigger configuration/);
    assert.match(result.stderr, /github-push\.yaml: EventListener\/github-push: spec\.triggers\[0\]/);
    assert.match(result.stderr, /no-such-template|no-such-binding/);
    assert.equal(existsSync(path.join(outRoot, 'invalid', 'TektonBridge.template.json')), false, 'no template written');
  });

  it('fails synth with one line when the EventListener is not in the namespace the stack prepares', async () => {
    const outdir = path.join(outRoot, 'namespace');
    const result = await runApp({ clusterName: 'demo', namespace: 'builds' }, outdir);
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /^tekton-bridge: triggers\/event-listener\.yaml: EventListener\/github-push: metadata\.namespace: the runs of trigger default-branch go to namespace "ci", but the bridge prepared "builds" .*-c namespace=ci\n$/);
    assert.equal(existsSync(path.join(outdir, 'TektonBridge.template.json')), false, 'no template written');
  });

  it('with clusterEndpoint and clusterCa, synthesizes no lookup and no eks: permission', async () => {
    const outdir = path.join(outRoot, 'override');
    const result = await runApp(
      { clusterName: 'demo', clusterEndpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', clusterCa: 'LS0tLS1CRUdJTg==' },
      outdir,
    );
    assert.equal(result.status, 0, result.stderr);
    const text = readFileSync(path.join(outdir, 'TektonBridge.template.json'), 'utf8');
    assert.doesNotMatch(text, /Custom::EksClusterLookup|DescribeCluster|"eks:/);
    const template = JSON.parse(text) as { Resources: Record<string, { Type: string; Properties: { Environment?: { Variables: Record<string, unknown> } } }> };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    assert.equal(functions.length, 3, 'webhook, retry and reporter');
    for (const fn of functions) {
      assert.equal(fn.Properties.Environment?.Variables.CLUSTER_ENDPOINT, 'https://ABC.gr7.eu-west-1.eks.amazonaws.com');
      assert.equal(fn.Properties.Environment?.Variables.CLUSTER_CA, 'LS0tLS1CRUdJTg==');
    }
  });

  it('with githubHookCidrs, also synthesizes the front’s web ACL as a stack of its own in us-east-1', async () => {
    const outdir = path.join(outRoot, 'front');
    const result = await runApp(
      { clusterName: 'demo', githubHookCidrs: '192.0.2.0/24,2001:db8::/32', clusterEndpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', clusterCa: 'LS0tLS1CRUdJTg==' },
      outdir,
    );
    assert.equal(result.status, 0, result.stderr);
    const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; environment?: string; properties?: { stackName?: string } }> };
    const acl = manifest.artifacts.TektonBridgeFrontAcl;
    assert.equal(acl?.type, 'aws:cloudformation:stack');
    assert.equal(acl?.environment, 'aws://unknown-account/us-east-1');
    assert.equal(acl?.properties?.stackName, 'tekton-bridge-front-acl');
    assert.ok(manifest.artifacts.TektonBridge, 'the bridge stack too');
  });

  it('synthesizes with the CDK CLI offline, bundling the real functions with their triggers', async () => {
    // Prepare
    const outdir = path.join(outRoot, 'cli');
    // Act
    const result = await run('npx', ['--no-install', 'cdk', 'synth', '-c', 'clusterName=demo', '-o', outdir, '--quiet', '--no-notices'], {}, 120_000);
    // Assess
    assert.equal(result.status, 0, result.stderr);
    const template = JSON.parse(readFileSync(path.join(outdir, 'TektonBridge.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
    assert.ok(Object.values(template.Resources).some((r) => r.Type === 'AWS::Lambda::Function'));
    // Without clusterEndpoint/clusterCa, the endpoint and CA are read at deploy time by a DescribeCluster custom resource.
    const lookups = Object.values(template.Resources).filter((r) => r.Type === 'Custom::EksClusterLookup');
    assert.equal(lookups.length, 1);
    assert.match(String(lookups[0]?.Properties.Create), /"service":"eks","action":"DescribeCluster","parameters":\{"name":"demo"\}/);
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    // The three bridge bundles, and CDK's prebuilt AwsCustomResource handler (index.js, no bundling) for the lookup.
    const bundles = assets.filter((name) => existsSync(path.join(outdir, name, 'index.mjs')));
    assert.equal(bundles.length, 3, `the webhook, retry and reporter functions: ${assets.join(', ')}`);
    assert.equal(assets.length, 4, `the three bundles and the custom resource handler: ${assets.join(', ')}`);
    assert.ok(assets.some((name) => !bundles.includes(name) && existsSync(path.join(outdir, name, 'index.js'))), 'the custom resource handler');
    for (const name of bundles) {
      const asset = path.join(outdir, name);
      assert.deepEqual(readdirSync(asset).sort(), ['github-client.cjs', 'index.mjs', 'index.mjs.map', 'triggers.json']);
      assert.equal(readFileSync(path.join(asset, 'triggers.json'), 'utf8'), compileTriggersDirectory(path.join(projectRoot, 'triggers')));
    }
    // The reporter runs functions/reporter.ts, the handler of POST /tekton/events and the schedule.
    const reporter = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === 'tekton-bridge-reporter') as
      | { Metadata?: Record<string, string> }
      | undefined;
    const reporterAsset = reporter?.Metadata?.['aws:asset:path'];
    assert.ok(reporterAsset && bundles.includes(reporterAsset), `the reporter's asset: ${String(reporterAsset)}`);
    assert.match(readFileSync(path.join(outdir, reporterAsset, 'index.mjs'), 'utf8'), /Tekton's events go to POST \/tekton\/events/);
    // The cdk-nag plugin and CDK's CloudFormation validation failed nothing (a failure also exits 1).
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: Array<{ summary: { status: string } }> };
    for (const plugin of report.pluginReports) assert.equal(plugin.summary.status, 'success');
  });
});
