// What goes next to a Lambda bundle besides index.mjs: the compiled triggers, the optional parts of the CEL
// environment the config uses (the RE2 engine for matches/translate, the YAML parser for parseYAML), and the GitHub
// client, each built into a file of its own that the function loads only when it needs it. `npm run build` and the
// CDK bundling hook both call this, so the two ship the same files.
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { CEL_FEATURE_CHUNKS } from '../functions/adapters/cel-feature-modules.ts';
import { COMPILED_TRIGGERS_FILE } from '../functions/adapters/compiled-triggers.ts';
import { GITHUB_CLIENT_CHUNK, GITHUB_CLIENT_CHUNK_ENTRY } from '../functions/adapters/github-client-libraries.ts';
import { compileTriggersDirectory, loadTriggersDirectory } from '../functions/adapters/triggers-directory.ts';
import type { CelFeature } from '../functions/core/cel/feature-modules.ts';
import { functionBundling, projectRoot } from './function-bundling.ts';

/** Writes `<outdir>/triggers.json`, the chunks its CEL needs and the GitHub client's; answers the CEL features it shipped. */
export async function writeFunctionAssets(triggersDir: string, triggersFile: string): Promise<CelFeature[]> {
  const compiled = compileTriggersDirectory(triggersDir);
  const { features } = loadTriggersDirectory(triggersDir).cel;
  writeFileSync(triggersFile, compiled);
  const outdir = path.dirname(triggersFile);
  for (const feature of features) await buildCelFeatureChunk(feature, path.join(outdir, CEL_FEATURE_CHUNKS[feature].file));
  // Every function reports to GitHub when credentials are set; reporting is configured by the stack, not the triggers.
  await buildChunk(GITHUB_CLIENT_CHUNK_ENTRY, path.join(outdir, GITHUB_CLIENT_CHUNK));
  return features;
}

/** One optional part as a minified CommonJS file, loaded with require() when the config's CEL first needs it. */
export async function buildCelFeatureChunk(feature: CelFeature, outfile: string): Promise<void> {
  await buildChunk(`module.exports = require(${JSON.stringify(CEL_FEATURE_CHUNKS[feature].module)});`, outfile);
}

async function buildChunk(entry: string, outfile: string): Promise<void> {
  await build({
    stdin: { contents: entry, resolveDir: projectRoot, loader: 'js' },
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
