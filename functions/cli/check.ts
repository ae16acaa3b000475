import { parseArgs } from 'node:util';
import { loadTriggersDirectory } from '../adapters/triggers-directory.ts';
import { formatConfigIssue } from '../core/errors.ts';
import { impersonatedAccounts, listenerTriggers } from '../core/triggers-config.ts';
import { EXIT, type CliIo } from './cli-io.ts';

/**
 * Validates the trigger config and says which service accounts it creates resources as (the bridge's RBAC must let
 * it impersonate exactly those); a ConfigError propagates to main, which lists it and exits 2.
 */
export async function runCheckCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { triggers: { type: 'string', default: 'triggers' } } });
  const config = loadTriggersDirectory(values.triggers);
  for (const warning of config.warnings) io.stderr(`warning: ${formatConfigIssue(warning)}\n`);
  const listeners = config.eventListeners.map((l) => `${l.name} (${listenerTriggers(l).map((t) => t.name).join(', ')})`);
  io.stdout(`ok: ${values.triggers}: ${listeners.length === 1 ? 'EventListener' : 'EventListeners'} ${listeners.join('; ')}\n`);
  const accounts = impersonatedAccounts(config);
  if (accounts.length === 0) {
    io.stdout('creates every resource as the bridge itself (no serviceAccountName): nothing to impersonate\n');
  }
  for (const { account, triggers } of accounts) {
    io.stdout(`impersonates system:serviceaccount:${account.namespace}:${account.name} for ${triggers.join(', ')}\n`);
  }
  return EXIT.ok;
}
