import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { KubernetesObject } from '../core/delivery-types.ts';
import type { DeliveryReport } from '../core/handle-delivery.ts';
import { uncreatedRunReports } from '../core/reporting/delivery-reports.ts';
import { createGithubPublisher } from './github-publisher.ts';
import type { TriggersConfig } from '../core/triggers-config.ts';
import type { GithubEnvironment } from './environment.ts';
import { credentialsFromSecretsManager, type CredentialsSource } from './github-credentials-source.ts';
import { createGithubReporting, type ReportingAccess } from './github-reporting.ts';
import type { KubernetesClient } from './kubernetes-api.ts';
import { createRunReporting, type ReportEntry } from './run-reporting.ts';
import type { RunVerifier } from './run-verifier.ts';
import { createSecretValueReader } from './secrets-manager-call.ts';
import { messageOf } from './error-message.ts';

/** GitHub aborts a delivery after 10 s; the answer leaves by 8 s, whatever GitHub's API is doing. */
const ANSWER_BY_MS = 8000;

export interface DeliveryReporting {
  /** Starts reading the GitHub credentials secret, so a report after the creation does not wait a round trip for it. */
  readAhead: () => void;
  report: (report: DeliveryReport, kube: Pick<KubernetesClient, 'get' | 'patch' | 'list'>, elapsedMs: number) => Promise<ReportEntry[]>;
}

/**
 * The webhook's reporting: after a delivery is handled, the commit hears what it created, queued, failed or
 * (when the EventListener opts in) skipped, within `reportBudgetMs` and before GitHub's 10 s are up. A GitHub failure
 * is only logged: the run keeps its open label, and the schedule reports it.
 */
export function createDeliveryReporting(options: {
  github: GithubEnvironment;
  config: TriggersConfig;
  verifyRun: RunVerifier;
  warn: (message: string) => void;
  /** The GitHub credentials secret's source and the client made from it, which the webhook shares with its lookups. */
  readCredentials: CredentialsSource;
  access: () => Promise<ReportingAccess>;
}): DeliveryReporting {
  const { github, readCredentials, access } = options;
  // The source caches its answer and never rejects: reading ahead costs a warm delivery nothing.
  const readAhead = () => void readCredentials();
  const report: DeliveryReporting['report'] = async (report, kube, elapsedMs) => {
    const listener = options.config.eventListeners.find((l) => l.name === report.eventListener);
    const reporting = createRunReporting({ kube, access, detailsUrlTemplate: github.detailsUrlTemplate, verifyRun: options.verifyRun });
    const budgetMs = Math.min(github.reportBudgetMs, ANSWER_BY_MS - elapsedMs);
    try {
      return await reporting.reportDelivery(report, { reportSkipped: listener?.reportSkipped === true, budgetMs });
    } catch (error) {
      // Reporting never changes the delivery's answer, not even when it breaks.
      return [{ source: 'webhook', outcome: 'failed', reason: `reporting crashed: ${messageOf(error)}` }];
    }
  };
  return { readAhead, report };
}

/**
 * The retry function's reporting: what it parks in the dead-letter queue is reported as `error` with the reason,
 * on the check run or status a queued creation left pending.
 */
export function createUncreatedReporting(options: {
  github: GithubEnvironment;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  secretsManagerEndpoint: string | undefined;
  warn: (message: string) => void;
}): (objects: readonly KubernetesObject[], reason: string) => Promise<ReportEntry[]> {
  const { github } = options;
  const access = createGithubReporting({
    readCredentials: credentialsFromSecretsManager({
      client: createSecretValueReader({ region: options.region, credentials: options.credentials, endpoint: options.secretsManagerEndpoint }),
      secretId: github.credentialsSecretArn,
    }),
    apiUrl: github.apiUrl,
    warn: options.warn,
  });
  return async (objects, reason) => {
    const reports = uncreatedRunReports(objects, reason, github.detailsUrlTemplate);
    if (reports.length === 0) return [];
    try {
      const reporting = await access();
      if (!reporting.on) return [{ source: 'retry', outcome: 'ignored', reason: reporting.reason }];
      const publish = createGithubPublisher(reporting.api, { findExisting: true });
      return await Promise.all(
        reports.map(async (report): Promise<ReportEntry> => {
          const result = await publish(report);
          const base = { source: 'retry' as const, run: report.run, state: report.state, context: report.target.context };
          if (result.outcome === 'published') return { ...base, outcome: 'reported', reason: 'the creation was given up: reported with the dead letter', description: report.description };
          return { ...base, outcome: result.outcome === 'refused' ? 'refused' : 'failed', reason: result.reason };
        }),
      );
    } catch (error) {
      return [{ source: 'retry', outcome: 'failed', reason: `reporting crashed: ${messageOf(error)}` }];
    }
  };
}
