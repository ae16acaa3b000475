import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bridgeMetric } from './bridge-alarms.ts';
import { BridgeFunction, type FunctionPlacement } from './bridge-function.ts';
import { projectRoot } from './function-bundling.ts';

export interface RunReporterProps {
  /** Names the function (`<name>-reporter`), its alarms and query; the metrics' `service`. */
  readonly name: string;
  readonly clusterName: string;
  /** Literal or deploy-time tokens, as the other functions get them: the reporter never calls DescribeCluster. */
  readonly clusterEndpoint: string;
  readonly clusterCa: string;
  /** Copied into the bundle: the reporter reconciles the namespaces this configuration renders into. */
  readonly triggersDir: string;
  /** GITHUB_CREDENTIALS_SECRET_ARN and the other reporting settings; the caller grants the secret. */
  readonly environment: Record<string, string>;
  /** The other functions that report (webhook, retry): their report lines join the reporter's in the views. */
  readonly reportingLogGroups: readonly logs.ILogGroup[];
  readonly network?: FunctionPlacement;
  readonly logRetention?: logs.RetentionDays;
  /** The handler's source; default `functions/reporter.ts`. Tests point it at a fixture. */
  readonly entry?: string;
}

/** Long enough for a reconciliation of many open runs; the handler stops starting reports 5 s before it. */
export const reporterFunctionTimeout = Duration.seconds(60);
/** How often the reporter looks at every open run: a lost Tekton event costs at most this. */
export const reconcileSchedule = events.Schedule.rate(Duration.minutes(1));

/**
 * What tells GitHub that a run moved on when nobody else does: the reporter function (Tekton's CloudEvents arrive
 * through the API's `POST /tekton/events` route, added by the caller), the every-minute EventBridge rule that makes
 * it reconcile, and the alarms, query and widgets of reporting. A schedule run that fails is not retried: the next
 * one, a minute later, does the same work.
 */
export class RunReporter extends Construct {
  readonly reporterFunction: BridgeFunction;
  readonly schedule: events.Rule;
  /** Sustained report failures and reporter-function errors. Give them the stack's alarm actions. */
  readonly alarms: cloudwatch.Alarm[];
  /** Rows of widgets for the stack's dashboard. */
  readonly widgetRows: cloudwatch.IWidget[][];

  constructor(scope: Construct, id: string, props: RunReporterProps) {
    super(scope, id);
    const { name } = props;
    this.reporterFunction = new BridgeFunction(this, 'ReporterFunction', {
      entry: props.entry ?? path.join(projectRoot, 'functions', 'reporter.ts'),
      functionName: `${name}-reporter`,
      serviceName: name,
      description: 'Reports Tekton runs to GitHub, on Tekton’s CloudEvents and every minute',
      triggersDir: props.triggersDir,
      timeout: reporterFunctionTimeout,
      ...(props.logRetention !== undefined && { logRetention: props.logRetention }),
      ...(props.network !== undefined && { network: props.network }),
      environment: {
        CLUSTER_NAME: props.clusterName,
        CLUSTER_ENDPOINT: props.clusterEndpoint,
        CLUSTER_CA: props.clusterCa,
        ...props.environment,
      },
    });
    const fn = this.reporterFunction;
    // Lambda would retry a failed scheduled run twice, on top of the next minute's: the retries only pile up.
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    // A rule, not EventBridge Scheduler: the handler knows the rule's event ("source": "aws.events", "Scheduled Event").
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Every minute, ${name}-reporter reports the runs whose last report to GitHub was not final`,
      schedule: reconcileSchedule,
      targets: [new targets.LambdaFunction(fn, { retryAttempts: 2, maxEventAge: Duration.minutes(1) })],
    });

    const five = Duration.minutes(5);
    this.alarms = [
      new cloudwatch.Alarm(this, 'ReportFailuresAlarm', {
        alarmName: `${name}-report-failures`,
        alarmDescription:
          'Reports to GitHub have failed for 15 minutes (metric ReportFailed, from the webhook and reporter functions): GitHub is down or rate limiting, ' +
          'the token or App lost its permission (Commit statuses or Checks: write) or was revoked, or githubApiUrl is wrong. The runs stay open and the ' +
          `schedule reports them once GitHub accepts again; the reason is in the log (saved query ${name}/reports-of-a-run, or the dashboard).`,
        metric: bridgeMetric(name, 'ReportFailed', 'Sum', five),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // Sustained: one failure is retried by the next schedule a minute later and needs nobody.
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      new cloudwatch.Alarm(this, 'ReporterErrorsAlarm', {
        alarmName: `${name}-reporter-errors`,
        alarmDescription:
          `The ${name}-reporter function threw or timed out: Tekton's events then get a 5xx (Tekton retries a few times) and the schedule's minute is lost. ` +
          'A cold-start error (a bad environment variable) repeats every minute; see the function\'s log.',
        metric: fn.metricErrors({ statistic: 'Sum', period: five }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];

    const logGroups = [fn.functionLogGroup, ...props.reportingLogGroups];
    // Report lines (and only they) carry `source`: webhook, event, schedule or retry.
    new logs.QueryDefinition(this, 'Query-reports-of-a-run', {
      queryDefinitionName: `${name}/reports-of-a-run`,
      queryString: new logs.QueryString({
        fields: ['@timestamp', 'source', 'outcome', 'state', 'context', 'description', 'reason', 'rateLimited'],
        filterStatements: ['ispresent(source) and run like "PASTE-RUN-NAME"'],
        sort: '@timestamp asc',
        limit: 100,
      }),
      logGroups,
    });
    this.widgetRows = [
      [
        new cloudwatch.GraphWidget({
          title: 'Reports to GitHub',
          left: [bridgeMetric(name, 'Reported', 'Sum', five).with({ label: 'Reported' }), bridgeMetric(name, 'ReportFailed', 'Sum', five).with({ label: 'Failed or refused' })],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Reporter function',
          left: [fn.metricInvocations({ period: five, statistic: 'Sum' }), fn.metricErrors({ period: five, statistic: 'Sum' }), fn.metricThrottles({ period: five, statistic: 'Sum' })],
          right: [fn.metricDuration({ period: five, statistic: 'p99' }).with({ label: 'Duration p99' })],
          width: 12,
        }),
      ],
      [
        new cloudwatch.LogQueryWidget({
          title: 'Latest reports GitHub did not take',
          logGroupNames: logGroups.map((group) => group.logGroupName),
          queryLines: [
            'fields @timestamp, source, run, state, context, reason',
            'filter ispresent(source) and outcome in ["failed", "refused"]',
            'sort @timestamp desc',
            'limit 20',
          ],
          width: 24,
        }),
      ],
    ];
  }
}
