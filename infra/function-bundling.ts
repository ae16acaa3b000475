import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { COMPILED_TRIGGERS_FILE } from '../functions/adapters/compiled-triggers.ts';
import { loadTriggersDirectory } from '../functions/adapters/triggers-directory.ts';

/** The repository root (this file lives in `<root>/infra/`). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The trigger configuration compiled next to each function, as `<bundle dir>/triggers.json`. */
export const defaultTriggersDir = path.join(projectRoot, 'triggers');

/** Name of the bundle inside `dist/<function>/` and inside the Lambda asset. */
export const bundleFileName = 'index.mjs';

/**
 * Some dependencies still `require()` Node built-ins from inside ESM output; esbuild then needs a
 * real `require` in scope, which an ES module doesn't have. Made without an `import`, so no ES module
 * facade is built for it (see nodeBuiltinAliases).
 */
export const createRequireBanner = "const require = process.getBuiltinModule('module').createRequire(import.meta.url);";

/** One CommonJS shim per Node built-in the bundles use: `fs-promises.cjs` stands for `node:fs/promises`. */
export const nodeBuiltinShimsDir = 'infra/node-builtins';

/**
 * Every `import … from 'node:x'` (and `'x'`) in the bundles goes to `infra/node-builtins/x.cjs`, which hands over
 * `process.getBuiltinModule('node:x')`. An ES import of a built-in makes Node build a module facade that reads every
 * export, and for node:http that loads undici through the lazy `WebSocket` getter (nodejs/node#57649); this costs a
 * cold start ~20 ms (BENCHMARKS.md). An alias is an esbuild option the CDK's esbuild CLI takes too, unlike a plugin.
 * Paths are relative to the project root, where both builds run esbuild. A built-in without a shim stays an ES import,
 * and test/infra/function-bundling.test.ts names it.
 */
export const nodeBuiltinAliases: Record<string, string> = Object.fromEntries(
  readdirSync(path.join(projectRoot, nodeBuiltinShimsDir))
    .filter((file) => file.endsWith('.cjs'))
    .flatMap((file) => {
      const name = file.slice(0, -'.cjs'.length).replace('-', '/');
      const shim = `./${nodeBuiltinShimsDir}/${file}`;
      return [
        [name, shim],
        [`node:${name}`, shim],
      ];
    }),
);

/**
 * The one set of esbuild settings for every Lambda, used by the CDK construct (through
 * `toNodejsBundling`) and by `npm run build` (through `toEsbuildOptions`), so both produce the same
 * bundle. Everything the hot path uses is bundled, the AWS SDK included: the versions in package-lock.json
 * are the ones that run, not whatever the Lambda runtime ships that month.
 */
export const functionBundling = {
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  keepNames: true,
  mainFields: ['module', 'main'],
  banner: createRequireBanner,
  alias: nodeBuiltinAliases,
  // The webhook needs the SQS client only when a creation fails and goes to the retry queue; bundled, its mere presence
  // would cost every cold start ~90 ms even behind a dynamic import (BENCHMARKS.md). The nodejs22.x runtime ships it.
  // It is imported dynamically at the point of use; a static import would be hoisted to the bundle's top.
  externalModules: ['@aws-sdk/client-sqs'] as string[],
} as const;

/** esbuild JS API options for one entry point, written to `<outdir>/index.mjs`. */
export function toEsbuildOptions(entry: string, outdir: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile: path.join(outdir, bundleFileName),
    bundle: true,
    platform: functionBundling.platform,
    target: functionBundling.target,
    format: functionBundling.format,
    minify: functionBundling.minify,
    sourcemap: functionBundling.sourceMap,
    sourcesContent: functionBundling.sourcesContent,
    keepNames: functionBundling.keepNames,
    mainFields: [...functionBundling.mainFields],
    banner: { js: functionBundling.banner },
    alias: { ...functionBundling.alias },
    external: [...functionBundling.externalModules],
    absWorkingDir: projectRoot,
    logLevel: 'warning',
  };
}

/** The same settings as `NodejsFunction` bundling props, plus the hook that compiles the triggers next to the bundle. */
export function toNodejsBundling(triggersDir: string): BundlingOptions {
  return {
    target: functionBundling.target,
    format: OutputFormat.ESM,
    minify: functionBundling.minify,
    sourceMap: functionBundling.sourceMap,
    sourcesContent: functionBundling.sourcesContent,
    keepNames: functionBundling.keepNames,
    mainFields: [...functionBundling.mainFields],
    banner: functionBundling.banner,
    esbuildArgs: { '--alias': Object.entries(functionBundling.alias).map(([from, to]) => `${from}=${to}`) },
    externalModules: [...functionBundling.externalModules],
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => [
        [process.execPath, path.join(projectRoot, 'infra', 'compile-triggers.ts'), triggersDir, path.join(outputDir, COMPILED_TRIGGERS_FILE)]
          .map(shellQuote)
          .join(' '),
      ],
    },
  };
}

/**
 * Validates a trigger configuration folder with the same loader the function uses, so an invalid
 * config stops `cdk synth` and `npm run build` instead of a deployed function. The loader throws an
 * Error naming file, object and field.
 */
export async function assertValidTriggers(triggersDir: string): Promise<void> {
  loadTriggersDirectory(triggersDir);
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}
