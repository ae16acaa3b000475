// What the repository's app reads from CDK context (`-c key=value` or cdk.json), checked, as TektonBridge props.
import * as path from 'node:path';
import type { Node } from 'constructs';
import { defaultTriggersDir, projectRoot } from './function-bundling.ts';
import { githubHookPattern, type TektonBridgeProps } from './tekton-bridge.ts';

export const contextKeys = [
  'clusterName',
  'namespace',
  'webhookSecretArn',
  'webhookSecretKmsKeyArn',
  'triggerSecretsArn',
  'triggerSecretsKmsKeyArn',
  'clusterEndpoint',
  'clusterCa',
  'alarmEmail',
  'stackName',
  'triggersDir',
  'vpcId',
  'subnetIds',
  'securityGroupIds',
  'clusterSecurityGroupId',
  'createVpcEndpoints',
  'createPodIdentityAssociation',
  'ebsCsiDriver',
  'webhookReservedConcurrency',
  'redriveRoleArns',
  'webhookFrontWebAclArn',
  'githubHookCidrs',
  'githubCredentialsSecretArn',
  'githubCredentialsKmsKeyArn',
  'githubApiUrl',
  'detailsUrlTemplate',
  'redeliverHooks',
  'redeliverWindowHours',
  'redeliverMaxAttempts',
] as const;
export type ContextKey = (typeof contextKeys)[number];

export const defaultStackName = 'tekton-bridge';

export class BridgeSettingsError extends Error {
  override name = 'BridgeSettingsError';
}

/** The app's settings: the stack's name, and the construct's props exactly as the context spells them. */
export interface BridgeSettings extends TektonBridgeProps {
  readonly stackName: string;
  /** GitHub's `hooks` ranges: the app then also defines the front's web ACL stack (us-east-1). */
  readonly githubHookCidrs?: readonly string[];
  readonly clusterName: string;
  readonly triggersDir: string;
}

const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** Reads and checks the context; throws a BridgeSettingsError naming the key and how to set it. */
export function readBridgeSettings(node: Node): BridgeSettings {
  const read = (key: ContextKey): string | undefined => {
    const value: unknown = node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'boolean' || typeof value === 'number') return String(value);
    if (typeof value !== 'string') {
      throw new BridgeSettingsError(`context value "${key}" must be a string, got ${JSON.stringify(value)}`);
    }
    return value.trim();
  };
  const matching = (key: ContextKey, pattern: RegExp, what: string): string | undefined => {
    const value = read(key);
    if (value !== undefined && !pattern.test(value)) throw new BridgeSettingsError(`context value "${key}" ${what}: ${JSON.stringify(value)}`);
    return value;
  };
  const list = (key: ContextKey, pattern: RegExp, what: string): string[] | undefined => {
    const value = read(key);
    if (value === undefined) return undefined;
    const items = value.split(',').map((item) => item.trim()).filter(Boolean);
    for (const item of items) {
      if (!pattern.test(item)) throw new BridgeSettingsError(`context value "${key}" must be comma-separated ${what}; ${JSON.stringify(item)} is not one`);
    }
    return items.length > 0 ? items : undefined;
  };
  const flag = (key: ContextKey): boolean | undefined => {
    const value = read(key);
    if (value === undefined) return undefined;
    if (value === 'true' || value === 'false') return value === 'true';
    throw new BridgeSettingsError(`context value "${key}" must be true or false, got ${JSON.stringify(value)}`);
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
  const namespace = matching('namespace', /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'is not a Kubernetes namespace name');
  const stackName = read('stackName') ?? defaultStackName;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,39}$/.test(stackName)) {
    throw new BridgeSettingsError(
      `context value "stackName" must be letters, digits and hyphens, at most 40 long: ${JSON.stringify(stackName)}`,
    );
  }
  const completeSecretArn = 'must be the complete secret ARN (ending in -XXXXXX), as `aws secretsmanager describe-secret --query ARN` prints it';
  const webhookSecretArn = matching('webhookSecretArn', SECRET_ARN, completeSecretArn);
  const triggerSecretsArn = matching('triggerSecretsArn', SECRET_ARN, completeSecretArn);
  const keyArn = 'must be a KMS key ARN (arn:…:kms:REGION:ACCOUNT:key/KEY-ID), as `aws kms describe-key --query KeyMetadata.Arn` prints it';
  const webhookSecretKmsKeyArn = matching('webhookSecretKmsKeyArn', KMS_KEY_ARN, keyArn);
  const triggerSecretsKmsKeyArn = matching('triggerSecretsKmsKeyArn', KMS_KEY_ARN, keyArn);
  if (webhookSecretKmsKeyArn !== undefined && webhookSecretArn === undefined) {
    throw new BridgeSettingsError('context value "webhookSecretKmsKeyArn" is the key of an imported secret: give "webhookSecretArn" too');
  }
  if (triggerSecretsKmsKeyArn !== undefined && triggerSecretsArn === undefined) {
    throw new BridgeSettingsError('context value "triggerSecretsKmsKeyArn" is the key of the trigger secrets: give "triggerSecretsArn" too');
  }
  const githubCredentialsSecretArn = matching('githubCredentialsSecretArn', SECRET_ARN, completeSecretArn);
  const githubCredentialsKmsKeyArn = matching('githubCredentialsKmsKeyArn', KMS_KEY_ARN, keyArn);
  if (githubCredentialsKmsKeyArn !== undefined && githubCredentialsSecretArn === undefined) {
    throw new BridgeSettingsError('context value "githubCredentialsKmsKeyArn" is the key of an imported secret: give "githubCredentialsSecretArn" too');
  }
  const wholeNumber = (key: ContextKey): number | undefined => {
    const value = read(key);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new BridgeSettingsError(`context value "${key}" must be a whole number, got ${JSON.stringify(value)}`);
    return Number(value);
  };

  const clusterEndpoint = read('clusterEndpoint');
  const clusterCa = read('clusterCa');
  if ((clusterEndpoint === undefined) !== (clusterCa === undefined)) {
    throw new BridgeSettingsError('context values "clusterEndpoint" and "clusterCa" go together: give both or neither');
  }
  if (clusterEndpoint !== undefined && !clusterEndpoint.startsWith('https://')) {
    throw new BridgeSettingsError('context value "clusterEndpoint" must be the https:// URL of the API server');
  }
  const alarmEmail = matching('alarmEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'is not an e-mail address');
  const triggersDir = path.resolve(projectRoot, read('triggersDir') ?? defaultTriggersDir);

  const vpcId = matching('vpcId', /^vpc-[0-9a-f]{8,17}$/, 'is not a VPC id (vpc-…)');
  const subnetIds = list('subnetIds', /^subnet-[0-9a-f]{8,17}$/, 'subnet ids (subnet-…)');
  const securityGroupIds = list('securityGroupIds', /^sg-[0-9a-f]{8,17}$/, 'security group ids (sg-…)');
  const clusterSecurityGroupId = matching('clusterSecurityGroupId', /^sg-[0-9a-f]{8,17}$/, 'is not a security group id (sg-…)');
  const createVpcEndpoints = flag('createVpcEndpoints');
  if ((vpcId === undefined) !== (subnetIds === undefined)) {
    throw new BridgeSettingsError('context values "vpcId" and "subnetIds" go together: VPC mode needs the VPC and the subnets the functions run in');
  }
  if (vpcId === undefined && (securityGroupIds !== undefined || clusterSecurityGroupId !== undefined || createVpcEndpoints === true)) {
    throw new BridgeSettingsError('context values "securityGroupIds", "clusterSecurityGroupId" and "createVpcEndpoints" are for VPC mode: give "vpcId" and "subnetIds" too');
  }

  const concurrency = read('webhookReservedConcurrency');
  let webhookReservedConcurrency: number | 'none' | undefined;
  if (concurrency === 'none') webhookReservedConcurrency = 'none';
  else if (concurrency !== undefined) {
    if (!/^\d+$/.test(concurrency) || Number(concurrency) < 1 || Number(concurrency) > 1000) {
      throw new BridgeSettingsError(`context value "webhookReservedConcurrency" must be a whole number from 1 to 1000, or none: ${JSON.stringify(concurrency)}`);
    }
    webhookReservedConcurrency = Number(concurrency);
  }

  const settings = {
    stackName,
    clusterName,
    triggersDir,
    namespace,
    webhookSecretArn,
    webhookSecretKmsKeyArn,
    triggerSecretsArn,
    triggerSecretsKmsKeyArn,
    clusterEndpoint,
    clusterCa,
    alarmEmail,
    vpcId,
    subnetIds,
    securityGroupIds,
    clusterSecurityGroupId,
    createVpcEndpoints,
    createPodIdentityAssociation: flag('createPodIdentityAssociation'),
    ebsCsiDriver: flag('ebsCsiDriver'),
    webhookReservedConcurrency,
    redriveRoleArns: list('redriveRoleArns', ROLE_ARN, 'IAM role ARNs (arn:…:iam::ACCOUNT:role/NAME)'),
    webhookFrontWebAclArn: matching(
      'webhookFrontWebAclArn',
      /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]+\/[0-9a-f-]{36}$/,
      'must be the ARN of a CLOUDFRONT-scope web ACL (arn:aws:wafv2:us-east-1:ACCOUNT:global/webacl/NAME/ID), e.g. the WebAclArn output of the front-ACL stack',
    ),
    githubCredentialsSecretArn,
    githubCredentialsKmsKeyArn,
    // The construct checks these two as it would in any app: an https:// API, a template with known placeholders.
    githubApiUrl: read('githubApiUrl'),
    detailsUrlTemplate: read('detailsUrlTemplate'),
    redeliverHooks: list('redeliverHooks', githubHookPattern, 'hooks as owner/repo/hookId (the hook\'s numeric id)'),
    redeliverWindowHours: wholeNumber('redeliverWindowHours'),
    redeliverMaxAttempts: wholeNumber('redeliverMaxAttempts'),
    githubHookCidrs: list('githubHookCidrs', /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-f:]+\/\d{1,3}$/i, 'CIDRs (the hooks list of https://api.github.com/meta)'),
  };
  // Only what was given: the construct's defaults fill the rest.
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as unknown as BridgeSettings;
}
