// What goes next to a Lambda bundle besides index.mjs: the compiled triggers, and the optional parts of the CEL
// environment the config uses (the RE2 engine for matches/translate, the YAML parser for parseYAML), each built into
// a file of its own that the function loads only then. `npm run build` and the CDK bundling hook both call this, so
// the two ship the same files.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { CEL_FEATURE_CHUNKS } from '../functions/adapters/cel-feature-modules.ts';
import { COMPILED_TRIGGERS_FILE } from '../functions/adapters/compiled-triggers.ts';
import { compileTriggersDirectory, loadTriggersDirectory } from '../functions/adapters/triggers-directory.ts';
import type { CelFeature } from '../functions/core/cel/feature-modules.ts';
import { functionBundling, projectRoot } from './function-bundling.ts';

/** Writes `<outdir>/triggers.json` and the chunks its CEL needs; answers the features it shipped. */
export async function writeFunctionAssets(triggersDir: string, triggersFile: string): Promise<CelFeature[]> {
  const compiled = compileTriggersDirectory(triggersDir);
  const { features } = loadTriggersDirectory(triggersDir).cel;
  writeFileSync(triggersFile, compiled);
  const outdir = path.dirname(triggersFile);
  for (const feature of features) await buildCelFeatureChunk(feature, path.join(outdir, CEL_FEATURE_CHUNKS[feature].file));
  return features;
}

/** One optional part as a minified CommonJS file, loaded with require() when the config's CEL first needs it. */
export async function buildCelFeatureChunk(feature: CelFeature, outfile: string): Promise<void> {
  const { module } = CEL_FEATURE_CHUNKS[feature];
  await build({
    stdin: { contents: `module.exports = require(${JSON.stringify(module)});`, resolveDir: projectRoot, loader: 'js' },
    outfile,
    bundle: true,
    platform: functionBundling.platform,
    target: functionBundling.target,
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}
