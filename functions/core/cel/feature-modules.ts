import type { Re2Module } from './go-regexp.ts';
import type { YamlModule } from './go-yaml.ts';

/**
 * Parts of the CEL environment a config pays for only when it uses them: the RE2 engine (`matches`, `translate`) and
 * a YAML parser (`parseYAML`). Which ones a config uses is known once its expressions are compiled; the build ships
 * only those next to the Lambda bundle, and the adapters load them on first use.
 */
export type CelFeature = 'regex' | 'yaml';

export interface CelFeatureModules {
  regex: () => Re2Module;
  yaml: () => YamlModule;
}

export class CelFeatureUnavailableError extends Error {
  override readonly name = 'CelFeatureUnavailableError';
}

/** For callers that load no optional part: a config that needs one fails to load, saying which. */
export const NO_FEATURE_MODULES: CelFeatureModules = {
  regex: () => {
    throw new CelFeatureUnavailableError('the RE2 engine for matches() and translate() was not loaded');
  },
  yaml: () => {
    throw new CelFeatureUnavailableError('the YAML parser for parseYAML() was not loaded');
  },
};
