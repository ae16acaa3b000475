import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError } from '../core/errors.ts';
import { loadTriggersConfig, parseTriggersYaml, type SourceFile } from '../core/load-triggers-config.ts';
import type { TriggersConfig } from '../core/triggers-config.ts';
import { createCelFeatureModules } from './cel-feature-modules.ts';

/** Every `*.yaml` / `*.yml` file of a folder, in name order, as the core's config loader takes them. */
export function readTriggersDirectory(dir: string): SourceFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name)).sort();
  } catch (error) {
    throw new ConfigError([{ file: dir, object: '(folder)', field: '(path)', message: `cannot read the triggers folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
  }
  if (names.length === 0) {
    throw new ConfigError([{ file: dir, object: '(folder)', field: '(path)', message: 'holds no .yaml files: put the EventListener, TriggerBindings and TriggerTemplates there' }]);
  }
  return names.map((name) => ({ file: join(dir, name), text: readFileSync(join(dir, name), 'utf8') }));
}

/** Reads and loads a triggers folder; throws ConfigError naming file, object and field of every problem. */
export function loadTriggersDirectory(dir: string): TriggersConfig {
  return loadTriggersConfig(readTriggersDirectory(dir), { celModules: createCelFeatureModules() });
}

/**
 * The folder validated and parsed, as the JSON the Lambda bundle carries (`triggers.json`): the function then
 * builds its config without a YAML parser, which would cost ~25 ms of every cold start. Throws like
 * loadTriggersDirectory on an invalid config, so a bad config fails the build.
 */
export function compileTriggersDirectory(dir: string): string {
  const files = readTriggersDirectory(dir);
  loadTriggersConfig(files, { celModules: createCelFeatureModules() });
  // File names relative to the folder: the bundle (and the messages it logs) carry no path of the machine that built it.
  const documents = parseTriggersYaml(files).documents.map((document) => ({ ...document, file: relative(dir, document.file) }));
  return JSON.stringify({ documents });
}
