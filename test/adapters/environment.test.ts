import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readGithubEnvironment, readReporterEnvironment, readRetryEnvironment, readWebhookEnvironment } from '../../functions/adapters/environment.ts';

const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tekton-bridge-retry';
const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tekton-bridge-dead-letters';
const webhook = { AWS_REGION: 'eu-west-1', CLUSTER_NAME: 'ci', WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf' };
const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const retry = { AWS_REGION: 'eu-west-1', CLUSTER_NAME: 'ci', RETRY_QUEUE_URL: QUEUE, DEAD_LETTER_QUEUE_URL: DLQ, RETRY_MESSAGE_MAC_KEY_ARN: KEY };

describe('readWebhookEnvironment: the retry queue', () => {
  it('is optional: without RETRY_QUEUE_URL, failures are answered as before', () => {
    assert.equal(readWebhookEnvironment(webhook).retryQueueUrl, undefined);
    assert.equal(readWebhookEnvironment({ ...webhook, RETRY_QUEUE_URL: QUEUE, RETRY_MESSAGE_MAC_KEY_ARN: KEY }).retryQueueUrl, QUEUE);
  });
  it('needs the KMS key that MACs the messages with a queue, and reads its endpoint override', () => {
    assert.throws(() => readWebhookEnvironment({ ...webhook, RETRY_QUEUE_URL: QUEUE }), /RETRY_MESSAGE_MAC_KEY_ARN is not set/);
    const env = readWebhookEnvironment({ ...webhook, RETRY_QUEUE_URL: QUEUE, RETRY_MESSAGE_MAC_KEY_ARN: KEY, AWS_ENDPOINT_URL_KMS: 'http://127.0.0.1:5000' });
    assert.deepEqual([env.retryMessageMacKeyArn, env.kmsEndpoint], [KEY, 'http://127.0.0.1:5000']);
  });
  it('reads the replay window and the rotation grace period, 72 h and 24 h by default, 0 turning each off', () => {
    assert.deepEqual([readWebhookEnvironment(webhook).maxPushAgeHours, readWebhookEnvironment(webhook).previousSecretGraceHours], [72, 24]);
    const set = readWebhookEnvironment({ ...webhook, MAX_PUSH_AGE_HOURS: '0', PREVIOUS_SECRET_GRACE_HOURS: '2' });
    assert.deepEqual([set.maxPushAgeHours, set.previousSecretGraceHours], [0, 2]);
    assert.throws(() => readWebhookEnvironment({ ...webhook, MAX_PUSH_AGE_HOURS: '3d' }), /MAX_PUSH_AGE_HOURS must be a whole number from 0 to 8760, got "3d"/);
    assert.throws(() => readWebhookEnvironment({ ...webhook, PREVIOUS_SECRET_GRACE_HOURS: '1000' }), /PREVIOUS_SECRET_GRACE_HOURS must be a whole number from 0 to 720/);
  });
  it('reads the SQS endpoint override at the cold start', () => {
    assert.equal(readWebhookEnvironment({ ...webhook, AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:5000' }).sqsEndpoint, 'http://127.0.0.1:5000');
  });
  it('names a malformed RETRY_QUEUE_URL', () => {
    assert.throws(() => readWebhookEnvironment({ ...webhook, RETRY_QUEUE_URL: 'tekton-bridge-retry' }), /RETRY_QUEUE_URL is not a queue URL/);
    assert.throws(() => readWebhookEnvironment({ ...webhook, RETRY_QUEUE_URL: 'ftp://x/1/q' }), /RETRY_QUEUE_URL must be an https:\/\/ queue URL/);
  });
});

describe('the EKS endpoint override, for DescribeCluster', () => {
  it('is AWS_ENDPOINT_URL_EKS, else AWS_ENDPOINT_URL, as the SDK reads them', () => {
    assert.equal(readWebhookEnvironment(webhook).eksEndpoint, undefined);
    assert.equal(readWebhookEnvironment({ ...webhook, AWS_ENDPOINT_URL: 'http://127.0.0.1:5000' }).eksEndpoint, 'http://127.0.0.1:5000');
    assert.equal(readRetryEnvironment({ ...retry, AWS_ENDPOINT_URL: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_EKS: 'http://127.0.0.1:5001' }).eksEndpoint, 'http://127.0.0.1:5001');
  });
});

describe('readRetryEnvironment', () => {
  it('reads the queues and the retry policy, with defaults', () => {
    const env = readRetryEnvironment(retry);
    assert.deepEqual(
      { ...env, cluster: env.cluster ?? null },
      { region: 'eu-west-1', clusterName: 'ci', cluster: null, eksEndpoint: undefined, retryQueueUrl: QUEUE, deadLetterQueueUrl: DLQ, sqsEndpoint: undefined, retryMessageMacKeyArn: KEY, kmsEndpoint: undefined, maxAttempts: 16, backoffBaseSeconds: 30, backoffMaxSeconds: 900, secretsManagerEndpoint: undefined, github: undefined },
    );
  });
  it('names each missing or malformed variable', () => {
    assert.throws(() => readRetryEnvironment({ ...retry, RETRY_QUEUE_URL: undefined }), /RETRY_QUEUE_URL is not set/);
    assert.throws(() => readRetryEnvironment({ ...retry, DEAD_LETTER_QUEUE_URL: '' }), /DEAD_LETTER_QUEUE_URL is not set/);
    assert.throws(() => readRetryEnvironment({ ...retry, RETRY_MESSAGE_MAC_KEY_ARN: undefined }), /RETRY_MESSAGE_MAC_KEY_ARN is not set/);
    assert.throws(() => readRetryEnvironment({ ...retry, RETRY_MAX_ATTEMPTS: 'ten' }), /RETRY_MAX_ATTEMPTS must be a whole number from 2 to 100, got "ten"/);
    assert.throws(() => readRetryEnvironment({ ...retry, RETRY_BACKOFF_BASE_SECONDS: '60', RETRY_BACKOFF_MAX_SECONDS: '30' }), /must not be less than/);
    assert.throws(() => readRetryEnvironment({ ...retry, CLUSTER_ENDPOINT: 'https://x' }), /CLUSTER_ENDPOINT and CLUSTER_CA go together/);
  });
});

describe('readGithubEnvironment: reporting to GitHub', () => {
  const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-AbCdEf';
  it('is off without GITHUB_CREDENTIALS_SECRET_ARN, and on with it, with defaults', () => {
    assert.equal(readGithubEnvironment({}), undefined);
    assert.equal(readWebhookEnvironment(webhook).github, undefined);
    assert.deepEqual(readGithubEnvironment({ GITHUB_CREDENTIALS_SECRET_ARN: ARN }), { credentialsSecretArn: ARN, apiUrl: undefined, detailsUrlTemplate: undefined, reportBudgetMs: 3000 });
  });
  it('takes GitHub Enterprise Server, and http:// only on loopback', () => {
    assert.equal(readGithubEnvironment({ GITHUB_CREDENTIALS_SECRET_ARN: ARN, GITHUB_API_URL: 'https://ghe.example.com/api/v3' })?.apiUrl, 'https://ghe.example.com/api/v3');
    assert.equal(readGithubEnvironment({ GITHUB_CREDENTIALS_SECRET_ARN: ARN, GITHUB_API_URL: 'http://127.0.0.1:8443' })?.apiUrl, 'http://127.0.0.1:8443');
    assert.throws(() => readGithubEnvironment({ GITHUB_CREDENTIALS_SECRET_ARN: ARN, GITHUB_API_URL: 'http://ghe.example.com/api/v3' }), /GITHUB_API_URL must be an https:\/\/ URL/);
  });
  it('names a details template it cannot fill and a budget out of bounds', () => {
    assert.throws(() => readGithubEnvironment({ GITHUB_CREDENTIALS_SECRET_ARN: ARN, DETAILS_URL_TEMPLATE: 'https://x/{pipeline}' }), /DETAILS_URL_TEMPLATE has the unknown placeholder/);
    assert.throws(() => readGithubEnvironment({ GITHUB_CREDENTIALS_SECRET_ARN: ARN, GITHUB_REPORT_BUDGET_MS: '9000' }), /GITHUB_REPORT_BUDGET_MS must be a whole number from 0 to 8000/);
  });
  it('the reporter needs the credentials secret', () => {
    assert.throws(() => readReporterEnvironment({ AWS_REGION: 'eu-west-1', CLUSTER_NAME: 'ci' }), /GITHUB_CREDENTIALS_SECRET_ARN is not set/);
    assert.equal(readReporterEnvironment({ AWS_REGION: 'eu-west-1', CLUSTER_NAME: 'ci', GITHUB_CREDENTIALS_SECRET_ARN: ARN }).github.credentialsSecretArn, ARN);
  });
});
