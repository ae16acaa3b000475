/** Typed readers for the Lambda environment; a missing or malformed variable is named in the error. */
import { parseHookRefs, type HookRef } from '../core/redelivery/hook-refs.ts';
import { detailsUrlTemplateProblem } from '../core/reporting/github-report.ts';

export class EnvironmentError extends Error {
  override name = 'EnvironmentError';
}

type Env = Readonly<Record<string, string | undefined>>;

export function requiredEnv(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new EnvironmentError(`environment variable ${name} is not set`);
  return value;
}

export function optionalEnv(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

function urlEnv(env: Env, name: string, what: string, expected: string): { value: string; url: URL } | undefined {
  const value = optionalEnv(env, name);
  if (value === undefined) return undefined;
  try {
    return { value, url: new URL(value) };
  } catch {
    throw new EnvironmentError(`environment variable ${name} is not ${what}: expected ${expected}`);
  }
}

export function httpsUrlEnv(env: Env, name: string): string | undefined {
  const found = urlEnv(env, name, 'a URL', 'https://…');
  if (found && found.url.protocol !== 'https:') throw new EnvironmentError(`environment variable ${name} must be an https:// URL`);
  return found?.value;
}

/** An SQS queue URL: https:// in AWS; http:// too, for a local emulator reached through AWS_ENDPOINT_URL_SQS. */
export function queueUrlEnv(env: Env, name: string): string | undefined {
  const found = urlEnv(env, name, 'a queue URL', 'https://sqs.<region>.amazonaws.com/<account>/<queue>');
  if (found === undefined) return undefined;
  if (found.url.protocol !== 'https:' && found.url.protocol !== 'http:') {
    throw new EnvironmentError(`environment variable ${name} must be an https:// queue URL`);
  }
  if (found.url.pathname.split('/').filter(Boolean).length < 2) {
    throw new EnvironmentError(`environment variable ${name} is not a queue URL: expected …/<account>/<queue>`);
  }
  return found.value;
}

/** A whole number within bounds, or the default when unset. */
export function integerEnv(env: Env, name: string, fallback: number, bounds: { min: number; max: number }): number {
  const value = optionalEnv(env, name);
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < bounds.min || number > bounds.max) {
    throw new EnvironmentError(`environment variable ${name} must be a whole number from ${bounds.min} to ${bounds.max}, got "${value}"`);
  }
  return number;
}

export interface WebhookEnvironment {
  region: string;
  clusterName: string;
  /** Both or neither: with them, DescribeCluster is skipped. */
  cluster: { endpoint: string; ca: string } | undefined;
  /** The SDK's endpoint override for EKS, honoured by the bridge's own DescribeCluster call. */
  eksEndpoint: string | undefined;
  webhookSecretArn: string;
  /** Secrets Manager secret holding the trigger secrets CEL's compareSecret reads; absent: none configured. */
  triggerSecretsArn: string | undefined;
  /** The SDK's own endpoint override, honoured by the bridge's light Secrets Manager call too. */
  secretsManagerEndpoint: string | undefined;
  /** Absent: a failed creation is answered 503 as before, and nothing is queued. */
  retryQueueUrl: string | undefined;
  /** Read at the cold start (the SQS client is only made when a creation fails). */
  sqsEndpoint: string | undefined;
  /** The KMS key that MACs retry-queue messages; required with a retry queue. */
  retryMessageMacKeyArn: string | undefined;
  kmsEndpoint: string | undefined;
  /** A push whose repository.pushed_at is older than this is refused (0: never). */
  maxPushAgeHours: number;
  /** How long after the current secret version was created the previous one still verifies (0: never). */
  previousSecretGraceHours: number;
  /** Absent: nothing is reported to GitHub. */
  github: GithubEnvironment | undefined;
}

export function readWebhookEnvironment(env: Env): WebhookEnvironment {
  const retryQueueUrl = queueUrlEnv(env, 'RETRY_QUEUE_URL');
  const retryMessageMacKeyArn = optionalEnv(env, 'RETRY_MESSAGE_MAC_KEY_ARN');
  if (retryQueueUrl !== undefined && retryMessageMacKeyArn === undefined) {
    throw new EnvironmentError('environment variable RETRY_MESSAGE_MAC_KEY_ARN is not set: the retry queue needs the KMS key its messages are MACed with');
  }
  return {
    region: requiredEnv(env, 'AWS_REGION'),
    clusterName: requiredEnv(env, 'CLUSTER_NAME'),
    cluster: readClusterSettings(env),
    eksEndpoint: eksEndpointEnv(env),
    webhookSecretArn: requiredEnv(env, 'WEBHOOK_SECRET_ARN'),
    triggerSecretsArn: optionalEnv(env, 'TRIGGER_SECRETS_ARN'),
    secretsManagerEndpoint: optionalEnv(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER') ?? optionalEnv(env, 'AWS_ENDPOINT_URL'),
    retryQueueUrl,
    sqsEndpoint: sqsEndpointEnv(env),
    retryMessageMacKeyArn,
    kmsEndpoint: kmsEndpointEnv(env),
    maxPushAgeHours: integerEnv(env, 'MAX_PUSH_AGE_HOURS', DEFAULT_MAX_PUSH_AGE_HOURS, { min: 0, max: 8760 }),
    previousSecretGraceHours: integerEnv(env, 'PREVIOUS_SECRET_GRACE_HOURS', DEFAULT_PREVIOUS_SECRET_GRACE_HOURS, { min: 0, max: 720 }),
    github: readGithubEnvironment(env),
  };
}

export interface GithubEnvironment {
  credentialsSecretArn: string;
  /** Undefined: https://api.github.com. */
  apiUrl: string | undefined;
  detailsUrlTemplate: string | undefined;
  /** The webhook waits at most this long for GitHub after the delivery is handled. */
  reportBudgetMs: number;
}

/** The bridge's credentials go to this URL: https://, or http:// only on loopback, where tests and a local stand-in live. */
export function isGithubApiUrl(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname));
}

/** GITHUB_CREDENTIALS_SECRET_ARN turns reporting on; GITHUB_API_URL and DETAILS_URL_TEMPLATE refine it. */
export function readGithubEnvironment(env: Env): GithubEnvironment | undefined {
  const credentialsSecretArn = optionalEnv(env, 'GITHUB_CREDENTIALS_SECRET_ARN');
  if (credentialsSecretArn === undefined) return undefined;
  const api = urlEnv(env, 'GITHUB_API_URL', 'a URL', 'https://api.github.com or https://HOST/api/v3');
  if (api && !isGithubApiUrl(api.url)) throw new EnvironmentError('environment variable GITHUB_API_URL must be an https:// URL');
  const detailsUrlTemplate = optionalEnv(env, 'DETAILS_URL_TEMPLATE');
  const problem = detailsUrlTemplate === undefined ? undefined : detailsUrlTemplateProblem(detailsUrlTemplate);
  if (problem) throw new EnvironmentError(`environment variable DETAILS_URL_TEMPLATE ${problem}`);
  return {
    credentialsSecretArn,
    apiUrl: api?.value,
    detailsUrlTemplate,
    reportBudgetMs: integerEnv(env, 'GITHUB_REPORT_BUDGET_MS', 3000, { min: 0, max: 8000 }),
  };
}

export interface ReporterEnvironment {
  region: string;
  clusterName: string;
  cluster: { endpoint: string; ca: string } | undefined;
  secretsManagerEndpoint: string | undefined;
  /** The webhook secret: run signatures are checked with keys derived from it (AWSCURRENT, and AWSPREVIOUS in its grace period). */
  webhookSecretArn: string;
  previousSecretGraceHours: number;
  /** Absent: nothing is reported to GitHub, and the reporter only settles concurrency groups. */
  github: GithubEnvironment | undefined;
  redelivery: RedeliveryEnvironment;
}

export interface RedeliveryEnvironment {
  /** REDELIVER_HOOKS: repository webhooks; empty: with a token nothing is redelivered, with an App its own webhook. */
  hooks: HookRef[];
  windowHours: number;
  /** Redeliveries per delivery; 0 turns redelivery off. */
  maxAttempts: number;
  /** GitHub API calls one scheduled pass may make. */
  maxCalls: number;
}

export function readRedeliveryEnvironment(env: Env): RedeliveryEnvironment {
  const parsed = parseHookRefs(optionalEnv(env, 'REDELIVER_HOOKS') ?? '');
  if (!parsed.ok) throw new EnvironmentError(`environment variable REDELIVER_HOOKS: ${parsed.reason}`);
  return {
    hooks: parsed.hooks,
    // GitHub redelivers nothing older than three days.
    windowHours: integerEnv(env, 'REDELIVER_WINDOW_HOURS', 24, { min: 1, max: 72 }),
    maxAttempts: integerEnv(env, 'REDELIVER_MAX_ATTEMPTS', 3, { min: 0, max: 10 }),
    maxCalls: integerEnv(env, 'REDELIVER_MAX_CALLS', 40, { min: 2, max: 1000 }),
  };
}

export function readReporterEnvironment(env: Env): ReporterEnvironment {
  const webhookSecretArn = optionalEnv(env, 'WEBHOOK_SECRET_ARN');
  if (webhookSecretArn === undefined) {
    throw new EnvironmentError('environment variable WEBHOOK_SECRET_ARN is not set: the reporter checks each run\'s signature with a key derived from the webhook secret, and acts on no run without it');
  }
  return {
    region: requiredEnv(env, 'AWS_REGION'),
    clusterName: requiredEnv(env, 'CLUSTER_NAME'),
    cluster: readClusterSettings(env),
    secretsManagerEndpoint: optionalEnv(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER') ?? optionalEnv(env, 'AWS_ENDPOINT_URL'),
    webhookSecretArn,
    previousSecretGraceHours: integerEnv(env, 'PREVIOUS_SECRET_GRACE_HOURS', DEFAULT_PREVIOUS_SECRET_GRACE_HOURS, { min: 0, max: 720 }),
    github: readGithubEnvironment(env),
    redelivery: readRedeliveryEnvironment(env),
  };
}

/** GitHub's own redelivery horizon. */
export const DEFAULT_MAX_PUSH_AGE_HOURS = 72;
/** Long enough to update the webhook in GitHub after a rotation; the old secret then stops working by itself. */
export const DEFAULT_PREVIOUS_SECRET_GRACE_HOURS = 24;

export interface RetryEnvironment {
  region: string;
  clusterName: string;
  cluster: { endpoint: string; ca: string } | undefined;
  eksEndpoint: string | undefined;
  /** The queue the function consumes; a failed attempt's next try is scheduled on it (ChangeMessageVisibility). */
  retryQueueUrl: string;
  /** Where permanent failures and exhausted retries are parked, with their reason. */
  deadLetterQueueUrl: string;
  sqsEndpoint: string | undefined;
  /** The KMS key that MACs retry-queue messages: only messages it verifies are acted on. */
  retryMessageMacKeyArn: string;
  kmsEndpoint: string | undefined;
  /** Attempts in all, the webhook's own first try included; then the creation is parked in the dead-letter queue. */
  maxAttempts: number;
  /** The wait after a failed retry doubles from this, up to `backoffMaxSeconds`. */
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  secretsManagerEndpoint: string | undefined;
  /** Absent: a creation given up is not reported to GitHub. */
  github: GithubEnvironment | undefined;
}

/** SQS allows a visibility timeout of at most 12 hours. */
const MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

export function readRetryEnvironment(env: Env): RetryEnvironment {
  const retryQueueUrl = queueUrlEnv(env, 'RETRY_QUEUE_URL');
  if (retryQueueUrl === undefined) throw new EnvironmentError('environment variable RETRY_QUEUE_URL is not set');
  const deadLetterQueueUrl = queueUrlEnv(env, 'DEAD_LETTER_QUEUE_URL');
  if (deadLetterQueueUrl === undefined) throw new EnvironmentError('environment variable DEAD_LETTER_QUEUE_URL is not set');
  const backoffBaseSeconds = integerEnv(env, 'RETRY_BACKOFF_BASE_SECONDS', 30, { min: 0, max: MAX_VISIBILITY_SECONDS });
  const backoffMaxSeconds = integerEnv(env, 'RETRY_BACKOFF_MAX_SECONDS', 900, { min: 0, max: MAX_VISIBILITY_SECONDS });
  if (backoffMaxSeconds < backoffBaseSeconds) {
    throw new EnvironmentError('RETRY_BACKOFF_MAX_SECONDS must not be less than RETRY_BACKOFF_BASE_SECONDS');
  }
  return {
    region: requiredEnv(env, 'AWS_REGION'),
    clusterName: requiredEnv(env, 'CLUSTER_NAME'),
    cluster: readClusterSettings(env),
    eksEndpoint: eksEndpointEnv(env),
    retryQueueUrl,
    deadLetterQueueUrl,
    sqsEndpoint: sqsEndpointEnv(env),
    retryMessageMacKeyArn: requiredEnv(env, 'RETRY_MESSAGE_MAC_KEY_ARN'),
    kmsEndpoint: kmsEndpointEnv(env),
    maxAttempts: integerEnv(env, 'RETRY_MAX_ATTEMPTS', 16, { min: 2, max: 100 }),
    backoffBaseSeconds,
    backoffMaxSeconds,
    secretsManagerEndpoint: optionalEnv(env, 'AWS_ENDPOINT_URL_SECRETS_MANAGER') ?? optionalEnv(env, 'AWS_ENDPOINT_URL'),
    github: readGithubEnvironment(env),
  };
}

function readClusterSettings(env: Env): { endpoint: string; ca: string } | undefined {
  const endpoint = httpsUrlEnv(env, 'CLUSTER_ENDPOINT');
  const ca = optionalEnv(env, 'CLUSTER_CA');
  if ((endpoint === undefined) !== (ca === undefined)) {
    throw new EnvironmentError('CLUSTER_ENDPOINT and CLUSTER_CA go together: set both, or neither to use eks:DescribeCluster');
  }
  return endpoint && ca ? { endpoint, ca } : undefined;
}

function eksEndpointEnv(env: Env): string | undefined {
  return optionalEnv(env, 'AWS_ENDPOINT_URL_EKS') ?? optionalEnv(env, 'AWS_ENDPOINT_URL');
}

function sqsEndpointEnv(env: Env): string | undefined {
  return optionalEnv(env, 'AWS_ENDPOINT_URL_SQS') ?? optionalEnv(env, 'AWS_ENDPOINT_URL');
}

function kmsEndpointEnv(env: Env): string | undefined {
  return optionalEnv(env, 'AWS_ENDPOINT_URL_KMS') ?? optionalEnv(env, 'AWS_ENDPOINT_URL');
}
