import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildTriggersConfig, type ConfigDocument } from '../core/build-triggers-config.ts';
import type { TriggersConfig } from '../core/triggers-config.ts';
import { createCelFeatureModules } from './cel-feature-modules.ts';

/** The file the build writes next to each Lambda bundle (see compileTriggersDirectory). */
export const COMPILED_TRIGGERS_FILE = 'triggers.json';

/**
 * Builds the config from `triggers.json`, validated once more: a hand-edited file fails the cold start loudly. The
 * optional parts of CEL the config uses come from the chunks the build put beside it.
 */
export function loadCompiledTriggers(file: string): TriggersConfig {
  const { documents } = JSON.parse(readFileSync(file, 'utf8')) as { documents: ConfigDocument[] };
  return buildTriggersConfig(documents, [], { celModules: createCelFeatureModules({ chunkDir: dirname(file) }) });
}
