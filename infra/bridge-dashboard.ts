import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { bridgeMetric } from './bridge-alarms.ts';
import type { BridgeFunction } from './bridge-function.ts';
import type { WebhookApi } from './webhook-api.ts';

export interface BridgeDashboardProps {
  readonly name: string;
  readonly webhookFunction: BridgeFunction;
  readonly api: WebhookApi;
  readonly alarms: readonly cloudwatch.IAlarm[];
  /** More rows (the retry queue's, later the reporter's). */
  readonly moreRows?: readonly cloudwatch.IWidget[][];
}

/** The saved Logs Insights queries `<name>/…` on the webhook's log group, and the dashboard `<name>`. */
export class BridgeDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BridgeDashboardProps) {
    super(scope, id);
    const { name, webhookFunction: fn, api } = props;
    this.addQueryDefinitions(name, fn.functionLogGroup);

    const period = Duration.minutes(5);
    const counts = ['Deliveries', 'Created', 'Skipped', 'Duplicate', 'Queued', 'Failed', 'RejectedSignatures', 'SecretReadFailures'].map((metricName) =>
      bridgeMetric(name, metricName, 'Sum', period),
    );
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: name, defaultInterval: Duration.hours(24) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Deliveries by outcome', left: counts, width: 12, stacked: false }),
      new cloudwatch.GraphWidget({
        title: 'Delivery duration (ms)',
        left: [
          bridgeMetric(name, 'DeliveryDuration', 'p50', period).with({ label: 'p50' }),
          bridgeMetric(name, 'DeliveryDuration', 'p99', period).with({ label: 'p99' }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda',
        left: [fn.metricInvocations({ period, statistic: 'Sum' }), fn.metricErrors({ period, statistic: 'Sum' }), fn.metricThrottles({ period, statistic: 'Sum' })],
        right: [fn.metricDuration({ period, statistic: 'p99' }).with({ label: 'Duration p99' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'API Gateway',
        left: [
          api.stage.metricClientError({ period }).with({ label: '4xx' }),
          api.stage.metricServerError({ period }).with({ label: '5xx' }),
          api.throttledRequests.with({ label: 'Throttled (429)' }),
          api.oversizedRequests.with({ label: 'Body too large' }),
          api.stage.metricCount({ period, statistic: 'Sum' }).with({ label: 'Requests' }),
        ],
        right: [api.stage.metricLatency({ period, statistic: 'p99' }).with({ label: 'Latency p99' })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 6 }),
      new cloudwatch.LogQueryWidget({
        title: 'Latest deliveries that did not create a run',
        logGroupNames: [fn.functionLogGroup.logGroupName],
        queryLines: [
          'fields @timestamp, deliveryId, event, repository, status, outcome, reason',
          'filter ispresent(outcome) and outcome != "created"',
          'sort @timestamp desc',
          'limit 20',
        ],
        width: 18,
      }),
    );
    for (const row of props.moreRows ?? []) this.dashboard.addWidgets(...row);
  }

  private addQueryDefinitions(name: string, logGroup: logs.ILogGroup): void {
    const delivery = 'message = "delivery handled"';
    const queries: Record<string, logs.QueryString> = {
      'one-delivery': new logs.QueryString({
        fields: ['@timestamp', 'message', 'status', 'outcome', 'reason', 'eventListener', 'repository', 'ref', 'commit', 'durationMs', 'error', '@message'],
        filterStatements: ['deliveryId = "PASTE-DELIVERY-ID"'],
        sort: '@timestamp asc',
        limit: 50,
      }),
      failures: new logs.QueryString({
        fields: ['@timestamp', 'deliveryId', 'event', 'repository', 'ref', 'status', 'outcome', 'reason', 'error'],
        filterStatements: ['outcome in ["failed", "rejected"] or status >= 500 or level = "ERROR"'],
        sort: '@timestamp desc',
        limit: 100,
      }),
      'skips-by-reason': new logs.QueryString({
        filterStatements: [delivery, 'outcome = "skipped"'],
        statsStatements: ['count(*) as deliveries, latest(deliveryId) as lastDelivery by reason'],
        sort: 'deliveries desc',
      }),
      latency: new logs.QueryString({
        filterStatements: [delivery],
        statsStatements: [
          'count(*) as deliveries, pct(durationMs, 50) as p50, pct(durationMs, 90) as p90, pct(durationMs, 99) as p99, max(durationMs) as slowest, pct(timings.secretMs, 99) as secretP99, pct(timings.lookupMs, 99) as lookupP99, pct(timings.tokenMs, 99) as tokenP99, pct(timings.apiMs, 99) as apiP99 by bin(1h)',
        ],
      }),
    };
    for (const [queryName, queryString] of Object.entries(queries)) {
      new logs.QueryDefinition(this, `Query-${queryName}`, { queryDefinitionName: `${name}/${queryName}`, queryString, logGroups: [logGroup] });
    }
  }
}
