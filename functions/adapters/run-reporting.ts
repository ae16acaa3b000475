import type { KubernetesObject, ResourceRef } from '../core/delivery-types.ts';
import type { DeliveryReport } from '../core/handle-delivery.ts';
import { planDeliveryReports } from '../core/reporting/delivery-reports.ts';
import type { GithubReport } from '../core/reporting/github-report.ts';
import { reportRun, type PublishResult, type RunReportOutcome, type RunReporterPorts } from '../core/reporting/report-run.ts';
import { OPEN_RUNS_SELECTOR } from '../core/reporting/run-annotations.ts';
import { createGithubPublisher } from './github-publisher.ts';
import type { ReportingAccess } from './github-reporting.ts';
import type { KubernetesClient } from './kubernetes-api.ts';
import type { RunVerifier } from './run-verifier.ts';

/** A claim older than this is taken to have died with its reporter; far longer than any one report takes. */
export const DEFAULT_LEASE_MS = 60_000;
/** Runs reported at once by the schedule: GitHub asks integrators not to fan out. */
const RECONCILE_CONCURRENCY = 4;
const RUN_KINDS = ['PipelineRun', 'TaskRun'] as const;

export type ReportSource = 'webhook' | 'event' | 'schedule' | 'retry';

/** One report (or failure to report) for the log, with what and why. */
export interface ReportEntry {
  source: ReportSource;
  outcome: RunReportOutcome['outcome'];
  run?: ResourceRef;
  state?: string;
  context?: string;
  reason: string;
  description?: string;
  rateLimited?: boolean;
  /** Ignored because its signature does not verify. */
  unverified?: true;
}

export interface RunReportingOptions {
  kube: Pick<KubernetesClient, 'get' | 'patch' | 'list'>;
  access: () => Promise<ReportingAccess>;
  detailsUrlTemplate: string | undefined;
  /** Checks a run's signature before anything about it goes to GitHub (run-verifier.ts). */
  verifyRun: RunVerifier;
  leaseMs?: number;
  now?: () => number;
}

export interface ReconcileSummary {
  listed: number;
  reported: number;
  failed: number;
  /** Left for the next schedule: GitHub is rate limiting, or time was up. */
  deferred: number;
  entries: ReportEntry[];
  /** Why nothing could be listed or reported at all, when so. */
  problem?: string;
}

/**
 * The reporter's three ways in, over one core: after a delivery (the webhook), on a Tekton event, and on the
 * schedule. Each returns what it reported, one entry per run, for the caller to log and count.
 */
export function createRunReporting(options: RunReportingOptions) {
  const now = options.now ?? Date.now;
  const ports = (publish: (report: GithubReport) => Promise<PublishResult>): RunReporterPorts => ({
    getRun: (ref) => options.kube.get(ref),
    patchRun: (ref, patch) => options.kube.patch(ref, { type: 'merge', patch }),
    publish,
    verifyRun: options.verifyRun,
    now,
    leaseMs: options.leaseMs ?? DEFAULT_LEASE_MS,
    detailsUrlTemplate: options.detailsUrlTemplate,
  });
  const entriesOf = (source: ReportSource, outcomes: RunReportOutcome[]): ReportEntry[] => outcomes.map((o) => ({ source, ...o }));

  return {
    /** What a delivery created, queued, failed or skipped; stops waiting after `budgetMs` (the answer cannot). */
    async reportDelivery(report: DeliveryReport, settings: { reportSkipped: boolean; budgetMs: number }): Promise<ReportEntry[]> {
      const items = planDeliveryReports(report, { reportSkipped: settings.reportSkipped, detailsUrlTemplate: options.detailsUrlTemplate });
      if (items.length === 0) return [];
      const abort = new AbortController();
      const entries: ReportEntry[] = [];
      let timer: NodeJS.Timeout | undefined;
      const work = (async () => {
        const access = await options.access();
        if (!access.on) {
          entries.push({ source: 'webhook', outcome: 'ignored', reason: access.reason });
          return;
        }
        const publish = createGithubPublisher(access.api, { now, signal: abort.signal });
        await Promise.all(
          items.map(async (item) => {
            if (item.kind === 'run') {
              entries.push(...entriesOf('webhook', await reportRun(item.run, ports(publish))));
              return;
            }
            entries.push(directEntry(item.report, await publish(item.report)));
          }),
        );
      })();
      const outOfTime = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), Math.max(0, settings.budgetMs));
      });
      try {
        if ((await Promise.race([work.then(() => 'done' as const), outOfTime])) === 'late') {
          abort.abort();
          entries.push({ source: 'webhook', outcome: 'failed', reason: `GitHub was not told everything within the delivery's ${Math.round(settings.budgetMs)} ms; the schedule reports the runs` });
        }
      } finally {
        clearTimeout(timer);
      }
      return entries;
    },

    /** A Tekton event named this run: report it as the API has it. */
    async reportEvent(ref: ResourceRef): Promise<ReportEntry[]> {
      const access = await options.access();
      if (!access.on) return [{ source: 'event', outcome: 'ignored', run: ref, reason: access.reason }];
      return entriesOf('event', await reportRun(ref, ports(createGithubPublisher(access.api, { now, findExisting: true }))));
    },

    /** Every open run in these namespaces, oldest first, until `deadline` (epoch ms) or a rate limit. */
    async reconcile(namespaces: readonly string[], deadline: number): Promise<ReconcileSummary> {
      const summary: ReconcileSummary = { listed: 0, reported: 0, failed: 0, deferred: 0, entries: [] };
      const access = await options.access();
      if (!access.on) return { ...summary, problem: access.reason };
      const runPorts = ports(createGithubPublisher(access.api, { now, findExisting: true }));
      const problems: string[] = [];
      const runs: KubernetesObject[] = [];
      for (const namespace of namespaces) {
        for (const kind of RUN_KINDS) {
          const listed = await options.kube.list({ apiVersion: 'tekton.dev/v1', kind, namespace, labelSelector: OPEN_RUNS_SELECTOR });
          if (listed.outcome === 'failed') problems.push(`${kind}s in ${namespace} could not be listed: ${listed.reason}`);
          else runs.push(...listed.items);
        }
      }
      runs.sort((a, b) => String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')));
      summary.listed = runs.length;
      let rateLimited = false;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < runs.length) {
          if (rateLimited || now() >= deadline) return;
          const run = runs[next++] as KubernetesObject;
          const entries = entriesOf('schedule', await reportRun(run, runPorts));
          for (const entry of entries) {
            summary.entries.push(entry);
            if (entry.outcome === 'reported' || entry.outcome === 'refused') summary.reported += 1;
            if (entry.outcome === 'failed') summary.failed += 1;
            if (entry.rateLimited) rateLimited = true;
          }
        }
      };
      await Promise.all(Array.from({ length: RECONCILE_CONCURRENCY }, worker));
      summary.deferred = runs.length - next;
      if (problems.length > 0) summary.problem = problems.join('; ');
      return summary;
    },
  };
}

export type RunReporting = ReturnType<typeof createRunReporting>;

function directEntry(report: GithubReport, result: PublishResult): ReportEntry {
  const base = { source: 'webhook' as const, run: report.run, state: report.state, context: report.target.context };
  if (result.outcome === 'published') return { ...base, outcome: 'reported', reason: 'no run to annotate: reported with the delivery', description: report.description };
  if (result.outcome === 'refused') return { ...base, outcome: 'refused', reason: result.reason };
  return { ...base, outcome: 'failed', reason: result.reason, rateLimited: result.rateLimited };
}
