import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { createWebhookServer } from '../adapters/node-http.ts';
import { deliveryLogFields, deliveryLogMessage } from '../adapters/delivery-log.ts';
import { loadTriggersDirectory, readTriggersDirectory } from '../adapters/triggers-directory.ts';
import { createKubernetesClient, createWithReadBack, type KubernetesClient } from '../adapters/kubernetes-api.ts';
import { readTriggerSecretsFile } from '../adapters/trigger-secrets.ts';
import { createCelFeatureModules } from '../adapters/cel-feature-modules.ts';
import { credentialsFromFlags } from '../adapters/github-credentials-source.ts';
import { createGithubLookups, githubLookupsUnavailable, type LookupGithub } from '../adapters/github-lookups.ts';
import { createGithubReporting, type ReportingAccess } from '../adapters/github-reporting.ts';
import { EnvironmentError, readRedeliveryEnvironment, type RedeliveryEnvironment } from '../adapters/environment.ts';
import { redeliverOnSchedule } from '../adapters/scheduled-redelivery.ts';
import { hookName, parseHookRefs } from '../core/redelivery/hook-refs.ts';
import { logReportEntries } from '../adapters/report-log.ts';
import { createRunReporting, type RunReporting } from '../adapters/run-reporting.ts';
import { settleDeliveryGroups } from '../adapters/delivery-group-settlement.ts';
import { createGroupSettlement, type GroupEntry } from '../adapters/group-settlement.ts';
import { logGroupEntries } from '../adapters/group-log.ts';
import { createRunVerifier, type RunVerifier } from '../adapters/run-verifier.ts';
import { documentsUseGroups } from '../core/concurrency/group-annotations.ts';
import { handleTektonEvent } from '../core/reporting/handle-tekton-event.ts';
import { detailsUrlTemplateProblem } from '../core/reporting/github-report.ts';
import { reportNamespaces } from '../core/reporting/report-namespaces.ts';
import { parseTriggersYaml } from '../core/load-triggers-config.ts';
import { DEFAULT_MAX_BODY_BYTES, handleDelivery } from '../core/handle-delivery.ts';
import { DEFAULT_MAX_PUSH_AGE_HOURS } from '../adapters/environment.ts';
import type { CreateResource } from '../core/delivery-types.ts';
import { formatConfigIssue } from '../core/errors.ts';
import { EXIT, UsageError, type CliIo } from './cli-io.ts';
import { LOCAL_SECRET_FILE, makeLocalSecret } from './local-secret.ts';

export interface ServeOptions {
  port: number;
  host: string;
  triggersDir: string;
  secret?: string;
  dryRun: boolean;
  kubeconfig?: string;
  context?: string;
  maxBodyBytes?: number;
  /** Where the made-up loopback secret is kept; tests point it elsewhere. */
  localSecretFile?: string;
  /** The JSON file of trigger secrets CEL's compareSecret reads, `{"<secretName>": {"<secretKey>": "value"}}`. */
  triggerSecretsFile?: string;
  /** A push older than this is refused; default 72, 0 turns the check off. */
  maxPushAgeHours?: number;
  /**
   * Report runs back to GitHub, ask its API for the github interceptor, and redeliver what failed: a token, or a file
   * with the credentials secret's JSON. `redeliverHooks`: `owner/repo/hookId,…` (else REDELIVER_HOOKS).
   */
  github?: { token?: string; credentialsFile?: string; apiUrl?: string; detailsUrlTemplate?: string; reconcileEveryMs?: number; redeliverHooks?: string };
}

export interface RunningBridge {
  url: string;
  /** `POST /tekton/events`, when reporting to GitHub. */
  eventsUrl: string | undefined;
  secret: string;
  target: string;
  /** What is reported to GitHub, or why nothing is. */
  reporting: string;
  close: () => Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1|\[::1\])$/;
/** Off loopback a guessable secret is an open door: GitHub accepts secrets of any length, the bridge wants this many. */
const MIN_SECRET_CHARS = 16;
const HOUR_MS = 3_600_000;

/** Starts the local bridge: the same core as the Lambda, behind node:http. Throws on an invalid config. */
export async function startBridge(options: ServeOptions, io: CliIo): Promise<RunningBridge> {
  const config = loadTriggersDirectory(options.triggersDir);
  for (const warning of config.warnings) io.stderr(`warning: ${formatConfigIssue(warning)}\n`);
  const triggerSecrets = options.triggerSecretsFile ? readTriggerSecretsFile(options.triggerSecretsFile) : undefined;
  if (config.cel.usesTriggerSecrets && !triggerSecrets) io.stderr('warning: the config calls compareSecret and no --trigger-secrets file was given: those triggers will fail\n');

  let secret = options.secret || io.env.WEBHOOK_SECRET || undefined;
  const loopback = LOOPBACK.test(options.host);
  if (secret !== undefined && secret.trim() === '') {
    throw new UsageError('the webhook secret is only whitespace, which would accept anyone\'s signature: pass a real --secret or WEBHOOK_SECRET');
  }
  if (secret && !loopback && secret.length < MIN_SECRET_CHARS) {
    throw new UsageError(`refusing to listen on ${options.host} with a webhook secret of ${secret.length} characters: use at least ${MIN_SECRET_CHARS} (e.g. openssl rand -base64 32)`);
  }
  if (!secret) {
    if (!loopback) {
      throw new UsageError(`refusing to listen on ${options.host} without a webhook secret: pass --secret or set WEBHOOK_SECRET`);
    }
    const file = options.localSecretFile ?? LOCAL_SECRET_FILE;
    secret = makeLocalSecret(file);
    io.stderr(`no secret given: made one for this loopback bridge and kept it in ${file} (send finds it there): ${secret}\n`);
  }

  let createResource: CreateResource | undefined;
  let kube: KubernetesClient | undefined;
  let target = 'dry run: nothing is created';
  if (!options.dryRun) {
    // client-node takes most of a second to load; a dry run never needs it.
    const { connectionFromKubeconfig, findKubeconfig } = await import('../adapters/kubeconfig-connection.ts');
    const kubeconfig = findKubeconfig({ file: options.kubeconfig, env: io.env });
    if (kubeconfig === undefined) {
      target = 'dry run: no kubeconfig found (KUBECONFIG or ~/.kube/config)';
    } else {
      const connection = await connectionFromKubeconfig({ file: kubeconfig, context: options.context });
      kube = createKubernetesClient(connection);
      createResource = createWithReadBack(kube);
      target = `cluster ${connection.server}${options.context ? ` (context ${options.context})` : ''}`;
    }
  }

  const logger = new Logger({ serviceName: 'tekton-bridge' });
  const secrets = [secret];
  const verifyRun = createRunVerifier({ current: async () => secrets });
  const { reporting, access, lookupGithub, redelivery, summary: reportingSummary } = githubFor(options, kube, verifyRun, io, (message) => logger.warn(message));
  const { documents } = parseTriggersYaml(readTriggersDirectory(options.triggersDir));
  const namespaces = reportNamespaces(documents);
  // Concurrency groups need the events route and the loop too, with or without GitHub reporting.
  const groups = kube && documentsUseGroups(documents) ? createGroupSettlement({ kube, verifyRun, awaitReports: reporting !== undefined }) : undefined;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = createWebhookServer({
    maxBodyBytes,
    handle: async (request) => {
      const started = performance.now();
      const report = await handleDelivery(request, {
        config,
        secrets,
        triggerSecrets,
        createResource,
        maxBodyBytes,
        wallClock: Date.now,
        maxPushAgeMs: (options.maxPushAgeHours ?? DEFAULT_MAX_PUSH_AGE_HOURS) * HOUR_MS,
        now: () => performance.now(),
        lookupGithub,
      });
      logger.info(deliveryLogMessage(report), deliveryLogFields(report, performance.now() - started, {}, request.headers));
      if (kube) logGroupEntries(logger, await settleDeliveryGroups(report, { kube, verifyRun, awaitReports: reporting !== undefined }), { deliveryId: report.deliveryId });
      if (reporting) {
        const listener = config.eventListeners.find((l) => l.name === report.eventListener);
        const entries = await reporting.reportDelivery(report, { reportSkipped: listener?.reportSkipped === true, budgetMs: Math.min(3000, 8000 - (performance.now() - started)) });
        logReportEntries(logger, entries, { deliveryId: report.deliveryId });
      }
      return report;
    },
    ...((reporting || groups) && {
      handleTektonEvent: async (request) => {
        let entries: Awaited<ReturnType<RunReporting['reportEvent']>> = [];
        let groupEntries: GroupEntry[] = [];
        const answer = await handleTektonEvent(request, {
          namespaces,
          reportRun: async (ref) => {
            entries = reporting ? await reporting.reportEvent(ref) : [];
            groupEntries = groups ? await groups.settleGroupOf(ref) : [];
            return entries;
          },
        });
        if (answer.status !== 202 || answer.body.outcome === 'ignored') logger.info('tekton event not reported', { status: answer.status, reason: answer.body.reason ?? answer.body.error });
        logReportEntries(logger, entries, { eventId: answer.body.event?.id });
        logGroupEntries(logger, groupEntries, { eventId: answer.body.event?.id });
        return answer;
      },
    }),
    onError: (error) => logger.error('delivery crashed', { error: (error as Error).message }),
  });
  server.listen(options.port, options.host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  // The schedule's loop: one reconciliation (and redelivery pass) at a time, each bounded by the interval.
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const every = options.github?.reconcileEveryMs ?? 60_000;
  if ((reporting || groups || redelivery) && every > 0) {
    const tick = async (): Promise<void> => {
      try {
        if (reporting) {
          const summary = await reporting.reconcile(namespaces, Date.now() + every);
          logReportEntries(logger, summary.entries);
          if (summary.problem) logger.warn('reconciliation incomplete', { listed: summary.listed, reported: summary.reported, problem: summary.problem });
        }
        if (groups) {
          const settled = await groups.settleActive(namespaces, Date.now() + every);
          logGroupEntries(logger, settled.entries);
          if (settled.problem) logger.warn('concurrency groups not all settled', { groups: settled.groups, problem: settled.problem });
        }
        if (redelivery && access) await redeliverOnSchedule({ access, settings: redelivery, deadline: Date.now() + every, logger, count: () => undefined });
      } catch (error) {
        logger.error('reconciliation crashed', { error: (error as Error).message });
      }
      if (!stopped) timer = setTimeout(() => void tick(), every);
    };
    timer = setTimeout(() => void tick(), every);
  }
  return {
    url: `http://${host}:${address.port}/webhook`,
    eventsUrl: reporting || groups ? `http://${host}:${address.port}/tekton/events` : undefined,
    secret,
    target,
    reporting: reportingSummary,
    close: () =>
      new Promise<void>((resolve) => {
        stopped = true;
        clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface GithubUse {
  reporting: RunReporting | undefined;
  access: (() => Promise<ReportingAccess>) | undefined;
  lookupGithub: LookupGithub;
  redelivery: RedeliveryEnvironment | undefined;
  summary: string;
}

/**
 * `--github-token` or `--github-credentials`: the github interceptor's lookups; with a cluster to read runs from, the
 * same reporting as the Lambda; with an App, or `--redeliver-hooks`, the schedule's redelivery on the loop.
 */
function githubFor(options: ServeOptions, kube: KubernetesClient | undefined, verifyRun: RunVerifier, io: CliIo, warn: (message: string) => void): GithubUse {
  const github = options.github;
  if (!github?.token && !github?.credentialsFile) {
    return {
      reporting: undefined,
      access: undefined,
      lookupGithub: githubLookupsUnavailable("serve has no GitHub credentials to ask GitHub's API with: pass --github-token or --github-credentials"),
      redelivery: undefined,
      summary: 'not reporting to GitHub (no --github-token or --github-credentials)',
    };
  }
  if (github.detailsUrlTemplate !== undefined) {
    const problem = detailsUrlTemplateProblem(github.detailsUrlTemplate);
    if (problem) throw new UsageError(`--details-url-template ${problem}`);
  }
  const readCredentials = credentialsFromFlags({ token: github.token, file: github.credentialsFile });
  const access = createGithubReporting({ readCredentials, apiUrl: github.apiUrl, warn });
  const lookupGithub = createGithubLookups({ access, yaml: createCelFeatureModules().yaml });
  const hooks = parseHookRefs(github.redeliverHooks ?? io.env.REDELIVER_HOOKS ?? '');
  if (!hooks.ok) throw new UsageError(`--redeliver-hooks (or REDELIVER_HOOKS): ${hooks.reason}`);
  const redelivery = { ...redeliverySettings(io.env), hooks: hooks.hooks };
  const at = github.apiUrl ?? 'https://api.github.com';
  const redelivering = hooks.hooks.length > 0 ? `; redelivering the failed deliveries of ${hooks.hooks.map(hookName).join(', ')}` : '';
  if (!kube) {
    return { reporting: undefined, access, lookupGithub, redelivery, summary: `asking GitHub at ${at} for the github interceptor; not reporting runs (a dry run has no cluster to read them from)${redelivering}` };
  }
  const reporting = createRunReporting({ kube, access, detailsUrlTemplate: github.detailsUrlTemplate, verifyRun });
  return { reporting, access, lookupGithub, redelivery, summary: `reporting to GitHub at ${at}${redelivering}` };
}

/** REDELIVER_WINDOW_HOURS, REDELIVER_MAX_ATTEMPTS and REDELIVER_MAX_CALLS, as the reporter reads them. */
function redeliverySettings(env: CliIo['env']): RedeliveryEnvironment {
  try {
    return readRedeliveryEnvironment({ ...env, REDELIVER_HOOKS: undefined });
  } catch (error) {
    if (error instanceof EnvironmentError) throw new UsageError(error.message);
    throw error;
  }
}

/** A duration: `90s`, `2m`, `500ms`, or plain seconds; `0` turns the loop off. */
function parseInterval(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--reconcile-every must be a duration like 60s, 2m or 500ms, got "${text}"`);
  const value = Number(match[1]);
  return match[2] === 'ms' ? value : match[2] === 'm' ? value * 60_000 : value * 1000;
}

export async function runServeCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      triggers: { type: 'string', default: 'triggers' },
      secret: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'trigger-secrets': { type: 'string' },
      'max-push-age': { type: 'string', default: String(DEFAULT_MAX_PUSH_AGE_HOURS) },
      'github-token': { type: 'string' },
      'github-credentials': { type: 'string' },
      'github-api-url': { type: 'string' },
      'details-url-template': { type: 'string' },
      'reconcile-every': { type: 'string', default: '60s' },
      'redeliver-hooks': { type: 'string' },
    },
  });
  const port = Number(values.port);
  const maxPushAgeHours = Number(values['max-push-age']);
  if (!/^\d+$/.test(values['max-push-age']) || maxPushAgeHours > 8760) {
    throw new UsageError(`--max-push-age must be a whole number of hours from 0 (no limit) to 8760, got "${values['max-push-age']}"`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got "${values.port}"`);
  const bridge = await startBridge(
    {
      port,
      host: values.host,
      triggersDir: values.triggers,
      secret: values.secret,
      dryRun: values['dry-run'],
      kubeconfig: values.kubeconfig,
      context: values.context,
      triggerSecretsFile: values['trigger-secrets'],
      maxPushAgeHours,
      github: {
        token: values['github-token'],
        credentialsFile: values['github-credentials'],
        apiUrl: values['github-api-url'] ?? io.env.GITHUB_API_URL,
        detailsUrlTemplate: values['details-url-template'] ?? io.env.DETAILS_URL_TEMPLATE,
        reconcileEveryMs: parseInterval(values['reconcile-every']),
        redeliverHooks: values['redeliver-hooks'],
      },
    },
    io,
  );
  io.stderr(`tekton-bridge listening on ${bridge.url} — ${bridge.target}; ${bridge.reporting}${bridge.eventsUrl ? ` (Tekton events: ${bridge.eventsUrl})` : ''}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => void bridge.close().then(resolve);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return EXIT.ok;
}
