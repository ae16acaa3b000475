import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { readTriggerSecretsFile } from '../adapters/trigger-secrets.ts';
import { loadTriggersDirectory } from '../adapters/triggers-directory.ts';
import { summarizeDelivery } from '../core/delivery-summary.ts';
import { evaluateTriggers } from '../core/evaluate-triggers.ts';
import { plannedGithubLookups, unavailableLookups } from '../core/interceptors/github-lookups.ts';
import { formatConfigIssue } from '../core/errors.ts';
import { EXIT, UsageError, type CliIo } from './cli-io.ts';
import { SAMPLE_PUSH_FILE } from './send.ts';

/**
 * The pure path without the network: each trigger's decision and reason as YAML comments, then the resources it
 * would create as YAML documents (pipe them to `kubectl create -f -`).
 */
export async function runRenderCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      triggers: { type: 'string', default: 'triggers' },
      event: { type: 'string', default: 'push' },
      file: { type: 'string' },
      delivery: { type: 'string' },
      header: { type: 'string', multiple: true, default: [] },
      listener: { type: 'string' },
      'trigger-secrets': { type: 'string' },
      url: { type: 'string', default: 'http://127.0.0.1:8080/webhook' },
    },
  });
  const config = loadTriggersDirectory(values.triggers);
  for (const warning of config.warnings) io.stderr(`warning: ${formatConfigIssue(warning)}\n`);
  const triggerSecrets = values['trigger-secrets'] ? readTriggerSecretsFile(values['trigger-secrets']) : undefined;
  if (config.cel.usesTriggerSecrets && !triggerSecrets) io.stderr('warning: the config calls compareSecret and no --trigger-secrets file was given: those triggers will fail\n');
  const deliveryId = values.delivery ?? randomUUID();
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const header of values.header) {
    const at = header.indexOf('=');
    if (at <= 0) throw new UsageError(`--header takes K=V, got "${header}"`);
    headers[header.slice(0, at).trim().toLowerCase()] = header.slice(at + 1);
  }
  headers['x-github-event'] = values.event;
  headers['x-github-delivery'] = deliveryId;

  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(values.file ?? SAMPLE_PUSH_FILE, 'utf8'));
  } catch (error) {
    throw new UsageError(`--file ${values.file}: ${(error as Error).message}`);
  }
  const listeners = values.listener ? config.eventListeners.filter((l) => l.name === values.listener) : config.eventListeners;
  if (listeners.length === 0) throw new UsageError(`no EventListener named "${values.listener}"`);

  const summary = summarizeDelivery(payload);
  const out: string[] = [`# delivery ${deliveryId}, event ${values.event}`];
  const documents: string[] = [];
  for (const listener of listeners) {
    const cel = { triggerSecrets, now: () => performance.now() };
    // No network: what only GitHub's API knows (a pull request's files, githubOwners) fails its trigger, saying so.
    const github = unavailableLookups(plannedGithubLookups(listener, values.event, payload).lookups, "render asks GitHub's API nothing; serve --github-token does");
    for (const decision of evaluateTriggers({ listener, deliveryId, event: values.event, headers, payload, summary, requestURL: values.url, cel, github })) {
      if (decision.outcome === 'render') {
        const names = decision.resources.map((r) => `${r.kind} ${r.metadata.namespace}/${r.metadata.name}`).join(', ');
        const as = decision.serviceAccount ? ` as system:serviceaccount:${decision.serviceAccount.namespace}:${decision.serviceAccount.name}` : '';
        out.push(`# ${listener.name}/${decision.trigger}: would create ${names}${as}`);
        documents.push(...decision.resources.map((resource) => stringify(resource, { lineWidth: 0 })));
      } else {
        out.push(`# ${listener.name}/${decision.trigger}: ${decision.outcome} — ${decision.reason}`);
      }
    }
  }
  io.stdout(`${out.join('\n')}\n${documents.map((doc) => `---\n${doc}`).join('')}`);
  return EXIT.ok;
}
