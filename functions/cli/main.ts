import { parseArgs } from 'node:util';
import { TriggerSecretError } from '../core/cel/evaluation-scope.ts';
import { ConfigError } from '../core/errors.ts';
import { EXIT, UsageError, type CliIo } from './cli-io.ts';

const USAGE = `usage: tekton-bridge <verb> [flags]

  serve   [--port 8080] [--host 127.0.0.1] [--triggers DIR] [--secret S] [--dry-run] [--kubeconfig FILE] [--context NAME] [--max-push-age 72]
          [--trigger-secrets FILE] [--github-token T | --github-credentials FILE] [--github-api-url URL] [--details-url-template URL]
          [--reconcile-every 60s] [--redeliver-hooks owner/repo/hookId,...]
  send    [--url URL] [--secret S] [--event push] [--file PAYLOAD.json] [--delivery ID]
  render  [--triggers DIR] [--event NAME] [--file PAYLOAD.json] [--delivery ID] [--header K=V]... [--url URL]
          [--trigger-secrets FILE]
  check   [--triggers DIR]
  token   --cluster NAME --region R
  why     DELIVERY_ID [--log-group NAME]... [--since 24h]
  redeliver [--since 6h] [--dry-run] [--hooks owner/repo/hookId,...] [--github-token T | --github-credentials FILE]
          [--github-api-url URL] [--max-attempts 3]
`;

type Verb = (argv: string[], io: CliIo) => Promise<number>;

// Verbs load lazily: `render` should not pay for the AWS SDK, nor `token` for the CEL and YAML libraries.
const VERBS: Record<string, () => Promise<Verb>> = {
  serve: async () => (await import('./serve.ts')).runServeCommand,
  send: async () => (await import('./send.ts')).runSendCommand,
  render: async () => (await import('./render.ts')).runRenderCommand,
  check: async () => (await import('./check.ts')).runCheckCommand,
  token: async () => async (argv, io) => {
    const { values } = parseArgs({ args: argv, options: { cluster: { type: 'string' }, region: { type: 'string' } } });
    const region = values.region ?? io.env.AWS_REGION ?? io.env.AWS_DEFAULT_REGION;
    if (!values.cluster || !region) throw new UsageError('token needs --cluster NAME and --region R (or AWS_REGION)');
    const { runTokenCommand } = await import('./token.ts');
    await runTokenCommand({ cluster: values.cluster, region }, io);
    return EXIT.ok;
  },
  redeliver: async () => (await import('./redeliver.ts')).runRedeliverCommand,
  why: async () => async (argv, io) => {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'log-group': { type: 'string', multiple: true }, since: { type: 'string', default: '24h' } },
    });
    const [deliveryId] = positionals;
    if (!deliveryId || positionals.length > 1) throw new UsageError('why takes one DELIVERY_ID');
    const { runWhyCommand, DEFAULT_WHY_LOG_GROUP, DEFAULT_RETRY_LOG_GROUP } = await import('./why.ts');
    const logGroups = values['log-group'] ?? [DEFAULT_WHY_LOG_GROUP, DEFAULT_RETRY_LOG_GROUP];
    return runWhyCommand({ deliveryId, logGroups, since: values.since }, io);
  },
};

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '--help' || verb === '-h' || verb === 'help') {
    io.stdout(USAGE);
    return verb === undefined ? EXIT.usage : EXIT.ok;
  }
  const load = VERBS[verb];
  if (!load) {
    io.stderr(`unknown verb "${verb}"\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await (await load())(rest, io);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof TriggerSecretError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`tekton-bridge ${verb}: ${(error as Error).message}\n`);
      return EXIT.usage;
    }
    io.stderr(`tekton-bridge ${verb}: ${(error as Error).message}\n`);
    return EXIT.failed;
  }
}
