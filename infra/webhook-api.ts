import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { metricsNamespace } from './bridge-function.ts';

/** API Gateway's default stage throttling for the webhook: GitHub sends bursts on big pushes. */
export const webhookThrottle = { rateLimit: 25, burstLimit: 50 } as const;
/**
 * The events route's own throttle: a few events per run and task, and Tekton retries what is refused. Being the
 * route's, it is a bucket of its own, so a flood of events never takes the webhook's share of the stage throttle.
 */
export const tektonEventsThrottle = { rateLimit: 10, burstLimit: 20 } as const;
export const tektonEventsRouteKey = 'POST /tekton/events';

export interface WebhookApiProps {
  /** Names the API and its access log group (`/aws/apigateway/<name>/access`); the metrics' `service` dimension. */
  readonly name: string;
  readonly webhookFunction: lambda.IFunction;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The HTTP API GitHub posts to: POST /webhook and /webhook/{listener}, a throttled $default stage, JSON access logs,
 * and from those logs two counts API Gateway has no metric of its own for: 429s (the stage throttle turned a delivery
 * away, and GitHub does not retry it) and bodies too large for Lambda (answered before the function sees them).
 * `addTektonEventsRoute` adds the route Tekton Pipelines sends its CloudEvents to.
 */
export class WebhookApi extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly url: string;
  readonly accessLogGroup: logs.LogGroup;
  /** Requests the stage throttle answered 429. */
  readonly throttledRequests: cloudwatch.Metric;
  /** Requests whose body Lambda could not take (over 6 MB) or API Gateway refused (413). */
  readonly oversizedRequests: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: props.name,
      description: 'GitHub webhook endpoint of tekton-bridge',
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('WebhookIntegration', props.webhookFunction, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      // GitHub abandons a delivery after 10 s; the function's own timeout is 9 s.
      timeout: Duration.seconds(10),
    });
    const routes = [
      ...this.httpApi.addRoutes({ path: '/webhook', methods: [apigw.HttpMethod.POST], integration }),
      ...this.httpApi.addRoutes({ path: '/webhook/{listener}', methods: [apigw.HttpMethod.POST], integration }),
    ];
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'GitHub cannot sign requests with IAM, JWT or Cognito; every delivery is authenticated by the function, which checks X-Hub-Signature-256 (HMAC-SHA256 over the raw body with the webhook secret) before parsing anything, and answers 401 otherwise.',
      });
    }

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/aws/apigateway/${props.name}/access`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { ...webhookThrottle },
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogGroup),
        format: apigwv1.AccessLogFormat.custom(
          JSON.stringify({
            // A constant, so the metric filters below can give their metrics this bridge's `service` dimension.
            service: props.name,
            requestId: '$context.requestId',
            requestTime: '$context.requestTime',
            sourceIp: '$context.identity.sourceIp',
            userAgent: '$context.identity.userAgent',
            httpMethod: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            error: '$context.error.message',
          }),
        ),
      },
    });
    this.url = `${this.stage.url}webhook`;

    const countFromAccessLogs = (metricName: string, pattern: string): cloudwatch.Metric => {
      new logs.MetricFilter(this, `${metricName}Filter`, {
        logGroup: this.accessLogGroup,
        metricNamespace: metricsNamespace,
        metricName,
        filterPattern: logs.FilterPattern.literal(pattern),
        metricValue: '1',
        dimensions: { service: '$.service' },
        unit: cloudwatch.Unit.COUNT,
      });
      return new cloudwatch.Metric({
        namespace: metricsNamespace,
        metricName,
        dimensionsMap: { service: props.name },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    };
    // GitHub's deliveries only: Tekton retries a throttled event, and the schedule reports the run anyway.
    this.throttledRequests = countFromAccessLogs('ApiThrottled', `{ $.status = 429 && $.routeKey != "${tektonEventsRouteKey}" }`);
    // Lambda takes at most 6 MB per request: API Gateway answers larger bodies itself, with the error in the log.
    this.oversizedRequests = countFromAccessLogs(
      'ApiBodyTooLarge',
      '{ $.status = 413 || $.integrationError = "*must be smaller than*" || $.error = "*too large*" }',
    );
  }

  /**
   * `POST /tekton/events` → the reporter (payload format 2.0), throttled apart from the webhook routes. Tekton's
   * sender signs nothing; the reporter trusts nothing in an event but the run's name, and reads the run from the
   * Kubernetes API.
   */
  addTektonEventsRoute(reporterFunction: lambda.IFunction): string {
    const integration = new HttpLambdaIntegration('TektonEventsIntegration', reporterFunction, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      // HTTP APIs wait at most 30 s; Tekton sends from a routine of its own, off its reconcile loop.
      timeout: Duration.seconds(29),
    });
    const [route] = this.httpApi.addRoutes({ path: '/tekton/events', methods: [apigw.HttpMethod.POST], integration });
    Validations.of(route!).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Tekton Pipelines sends its CloudEvents unsigned and cannot use IAM, JWT or Cognito; the reporter treats an event as a hint only: it reads the named run from the Kubernetes API and reports what the API says, for runs carrying the bridge\'s labels, so a forged event changes nothing.',
    });
    const stage = this.stage.node.defaultChild as apigw.CfnStage;
    stage.routeSettings = {
      [tektonEventsRouteKey]: { ThrottlingRateLimit: tektonEventsThrottle.rateLimit, ThrottlingBurstLimit: tektonEventsThrottle.burstLimit },
    };
    // The route must exist before the stage names it in its route settings.
    stage.node.addDependency(route!);
    // The API's own URL, never the optional front's (README: "Report runs back to GitHub").
    return `${this.stage.url}tekton/events`;
  }
}
