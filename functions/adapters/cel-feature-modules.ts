import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CelFeature, CelFeatureModules } from '../core/cel/feature-modules.ts';
import type { Re2Module } from '../core/cel/go-regexp.ts';
import type { YamlModule } from '../core/cel/go-yaml.ts';

/** The file each optional part of the CEL environment is built into, next to a Lambda bundle. */
export const CEL_FEATURE_CHUNKS: Record<CelFeature, { file: string; module: string }> = {
  regex: { file: 'cel-re2.cjs', module: 're2js' },
  yaml: { file: 'cel-yaml.cjs', module: 'yaml' },
};

// Not named `require`: esbuild would bundle what a call to `require` names, and these stay out of the bundle.
const loadModule = createRequire(import.meta.url);

/**
 * Loads an optional part on first use, synchronously: from its chunk in `chunkDir` when the build shipped one (the
 * Lambda), else from node_modules (the CLI, the tests, the build itself).
 */
export function createCelFeatureModules(options: { chunkDir?: string } = {}): CelFeatureModules {
  const load = <T>(feature: CelFeature): T => {
    const { file, module } = CEL_FEATURE_CHUNKS[feature];
    const chunk = options.chunkDir === undefined ? undefined : join(options.chunkDir, file);
    return loadModule(chunk !== undefined && existsSync(chunk) ? chunk : module) as T;
  };
  let re2: Re2Module | undefined;
  let yaml: YamlModule | undefined;
  return {
    regex: () => (re2 ??= load<Re2Module>('regex')),
    yaml: () => (yaml ??= load<YamlModule>('yaml')),
  };
}
