import { readFileSync } from 'node:fs';
import { buildTriggersConfig, type ConfigDocument } from '../core/build-triggers-config.ts';
import type { TriggersConfig } from '../core/triggers-config.ts';

/** The file the build writes next to each Lambda bundle (see compileTriggersDirectory). */
export const COMPILED_TRIGGERS_FILE = 'triggers.json';

/** Builds the config from `triggers.json`, validated once more: a hand-edited file fails the cold start loudly. */
export function loadCompiledTriggers(file: string): TriggersConfig {
  const { documents } = JSON.parse(readFileSync(file, 'utf8')) as { documents: ConfigDocument[] };
  return buildTriggersConfig(documents);
}
