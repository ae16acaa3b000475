import { parseArgs } from 'node:util';
import { loadTriggersDirectory } from '../adapters/triggers-directory.ts';
import { formatConfigIssue } from '../core/errors.ts';
import { EXIT, type CliIo } from './cli-io.ts';

/** Validates the trigger config; a ConfigError propagates to main, which lists it and exits 2. */
export async function runCheckCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { triggers: { type: 'string', default: 'triggers' } } });
  const config = loadTriggersDirectory(values.triggers);
  for (const warning of config.warnings) io.stderr(`warning: ${formatConfigIssue(warning)}\n`);
  const listeners = config.eventListeners.map((l) => `${l.name} (${l.triggers.map((t) => t.name).join(', ')})`);
  io.stdout(`ok: ${values.triggers}: ${listeners.length === 1 ? 'EventListener' : 'EventListeners'} ${listeners.join('; ')}\n`);
  return EXIT.ok;
}
