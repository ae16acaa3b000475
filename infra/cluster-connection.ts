import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';

/** How the functions reach the cluster: its name and ARN, and its API endpoint and CA (literal or deploy-time tokens). */
export interface ClusterConnection {
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly endpoint: string;
  /** PEM, or base64 of it as EKS returns it; the functions accept both. */
  readonly ca: string;
  /** The deploy-time DescribeCluster call; absent when the endpoint and CA were given or known from the cluster. */
  readonly lookup?: cr.AwsCustomResource;
  /** The cluster security group, when the cluster construct knows it (VPC mode opens 443 on it). */
  readonly clusterSecurityGroupId?: string;
}

export interface ClusterConnectionProps {
  readonly cluster?: eks.ICluster;
  readonly clusterName?: string;
  readonly clusterEndpoint?: string;
  readonly clusterCa?: string;
  /** Prefixes the lookup function's name (`<name>-cluster-lookup`). */
  readonly name: string;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Neither function calls eks:DescribeCluster at run time (it would cost each cold container the EKS client and a round
 * trip), and neither role may: the endpoint and CA are given, known from an `eks.ICluster` that has them, or read once
 * at deploy time by a custom resource.
 */
export function connectCluster(scope: Construct, props: ClusterConnectionProps): ClusterConnection {
  const clusterName = props.cluster?.clusterName ?? props.clusterName;
  if (clusterName === undefined) throw new Error('TektonBridge needs the cluster: give `cluster` (an eks.ICluster) or `clusterName`');
  if ((props.clusterEndpoint === undefined) !== (props.clusterCa === undefined)) {
    throw new Error('TektonBridge: clusterEndpoint and clusterCa go together: give both or neither');
  }
  const stack = Stack.of(scope);
  const clusterArn = props.cluster !== undefined ? props.cluster.clusterArn : stack.formatArn({ service: 'eks', resource: 'cluster', resourceName: clusterName });
  const clusterSecurityGroupId = props.cluster !== undefined ? known(() => props.cluster!.clusterSecurityGroupId) : undefined;
  const endpoint = props.clusterEndpoint ?? (props.cluster !== undefined ? known(() => props.cluster!.clusterEndpoint) : undefined);
  const ca = props.clusterCa ?? (props.cluster !== undefined ? known(() => props.cluster!.clusterCertificateAuthorityData) : undefined);
  const base = { clusterName, clusterArn, ...(clusterSecurityGroupId !== undefined && { clusterSecurityGroupId }) };
  if (endpoint !== undefined && ca !== undefined) return { ...base, endpoint, ca };

  const lookup = addClusterLookup(scope, props.name, clusterName, clusterArn, props.logRetention);
  return {
    ...base,
    endpoint: lookup.getResponseField('cluster.endpoint'),
    ca: lookup.getResponseField('cluster.certificateAuthority.data'),
    lookup,
  };
}

/** An imported eks.ICluster throws on attributes it was not given; those are simply unknown here. */
function known(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/**
 * One eks:DescribeCluster call when the stack is created (again only if the call changes, i.e. another clusterName),
 * by CDK's AwsCustomResource. Its Lambda function gets a role of its own, as the bridge's functions do: it may write
 * to its own log group and describe this one cluster, instead of AWSLambdaBasicExecutionRole. It runs outside any
 * VPC: DescribeCluster is an AWS API call, not a call to the cluster's endpoint.
 */
function addClusterLookup(scope: Construct, name: string, clusterName: string, clusterArn: string, retention: logs.RetentionDays): cr.AwsCustomResource {
  const functionName = `${name}-cluster-lookup`;
  const logGroup = new logs.LogGroup(scope, 'ClusterLookupLogGroup', {
    logGroupName: `/aws/lambda/${functionName}`,
    retention,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const role = new iam.Role(scope, 'ClusterLookupRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Runs the ${functionName} function: reads the endpoint and CA of ${clusterName} at deploy time`,
  });
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: 'WriteOwnLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
  );
  return new cr.AwsCustomResource(scope, 'ClusterLookup', {
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
