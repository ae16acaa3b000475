import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { projectRoot, toNodejsBundling } from './function-bundling.ts';

export interface BridgeFunctionProps {
  /** The handler's source file (exports `handler`). */
  readonly entry: string;
  /** The function's name; its log group is `/aws/lambda/<functionName>`. */
  readonly functionName: string;
  /** Folder copied into the bundle as `triggers/`. */
  readonly triggersDir: string;
  readonly description?: string;
  /** The `service` dimension of the function's metrics and the service of its logs: the bridge's name, per stack. */
  readonly serviceName: string;
  /** Added to the house environment (Powertools). */
  readonly environment?: Record<string, string>;
  /** VPC mode: the subnets and security groups the function runs in. */
  readonly network?: FunctionPlacement;
  readonly reservedConcurrentExecutions?: number;
  /** GitHub gives up on a delivery after 10 s, so the default stays under it. */
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly logRetention?: logs.RetentionDays;
}

export interface FunctionPlacement {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroups: ec2.ISecurityGroup[];
}

/**
 * The CloudWatch namespace of every metric the functions emit; the `service` dimension (POWERTOOLS_SERVICE_NAME) is
 * the bridge's name, so two bridges in one account keep their metrics apart.
 */
export const metricsNamespace = 'TektonBridge';

/**
 * A NodejsFunction with the house defaults: Node.js 22 on arm64, one ESM bundle built with the
 * shared esbuild settings, source maps beside it (not enabled at run time: `--enable-source-maps` costs every cold
 * start, BENCHMARKS.md), the trigger configuration copied next to the bundle,
 * JSON logs into an explicit log group with retention, a role that may write to that log group
 * and nothing else until the stack grants more, and (VPC mode) the subnets and security groups given.
 *
 * The role and the log group are created beside the function (in the same scope) because a
 * subclass can't create children before calling `super`.
 */
export class BridgeFunction extends NodejsFunction {
  readonly functionLogGroup: logs.LogGroup;
  readonly functionRole: iam.Role;

  constructor(scope: Construct, id: string, props: BridgeFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the ${props.functionName} function`,
    });
    // Instead of AWSLambdaBasicExecutionRole, which may write to every log group in the account.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    if (props.network !== undefined) {
      // What AWSLambdaVPCAccessExecutionRole grants, inline: Lambda manages the function's network interfaces as it.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ManageVpcNetworkInterfaces',
          actions: [
            'ec2:AssignPrivateIpAddresses',
            'ec2:CreateNetworkInterface',
            'ec2:DeleteNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:UnassignPrivateIpAddresses',
          ],
          resources: ['*'],
        }),
      );
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'A function in a VPC needs the EC2 network-interface actions of AWSLambdaVPCAccessExecutionRole; the Describe actions support no resource-level permissions and the interfaces do not exist before Lambda creates them.',
      });
    }

    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      functionName: props.functionName,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(9),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      projectRoot,
      depsLockFilePath: `${projectRoot}/package-lock.json`,
      bundling: toNodejsBundling(props.triggersDir),
      ...(props.network !== undefined && { ...props.network, allowPublicSubnet: false }),
      ...(props.reservedConcurrentExecutions !== undefined && { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespace,
        ...props.environment,
      },
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: the project targets Node 22 (engines, esbuild target node22, local serve and CI); moving to a newer runtime is a tested change of its own.',
    });
    this.functionLogGroup = logGroup;
    this.functionRole = role;
  }
}
