import { Duration, RemovalPolicy } from 'aws-cdk-lib';
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
  /** Added to the house environment (Powertools). */
  readonly environment?: Record<string, string>;
  /** GitHub gives up on a delivery after 10 s, so the default stays under it. */
  readonly timeout?: Duration;
  readonly memorySize?: number;
  readonly logRetention?: logs.RetentionDays;
}

/** Powertools reads these; the metric namespace and service name are part of the dashboards' contract. */
export const powertoolsEnvironment = {
  POWERTOOLS_SERVICE_NAME: 'tekton-bridge',
  POWERTOOLS_METRICS_NAMESPACE: 'TektonBridge',
} as const;

/**
 * A NodejsFunction with the house defaults: Node.js 22 on arm64, one ESM bundle built with the
 * shared esbuild settings, source maps beside it (not enabled at run time: `--enable-source-maps` costs every cold
 * start, BENCHMARKS.md), the trigger configuration copied next to the bundle,
 * JSON logs into an explicit log group with retention, and a role that may write to that log group
 * and nothing else until the stack grants more.
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
      environment: {
        ...powertoolsEnvironment,
        ...props.environment,
      },
    });
    this.functionLogGroup = logGroup;
    this.functionRole = role;
  }
}
