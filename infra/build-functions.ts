// `npm run build`: the Lambda bundles exactly as the CDK app builds them, without CDK.
//   functions/webhook.ts → dist/webhook/index.mjs (+ .map, meta.json, triggers.json, and cel-*.cjs for the optional
//   CEL parts the config uses)
//   functions/retry.ts   → dist/retry/index.mjs, once that file exists
// meta.json is esbuild's metafile: load it into https://esbuild.github.io/analyze/ to see what
// takes the space.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { COMPILED_TRIGGERS_FILE } from '../functions/adapters/compiled-triggers.ts';
import { assertValidTriggers, bundleFileName, defaultTriggersDir, projectRoot, toEsbuildOptions } from './function-bundling.ts';
import { writeFunctionAssets } from './function-assets.ts';

export interface BuiltFunction {
  name: string;
  outdir: string;
  bundleBytes: number;
  sourceMapBytes: number;
  /** The largest inputs of the bundle, by bytes they contribute to the output. */
  largestInputs: Array<{ path: string; bytes: number }>;
}

export interface BuildFunctionsOptions {
  root?: string;
  outRoot?: string;
  triggersDir?: string;
}

/** The functions `npm run build` knows; only `webhook` must exist. */
export const lambdaFunctions = [
  { name: 'webhook', required: true },
  { name: 'retry', required: false },
  { name: 'reporter', required: false },
] as const;

export async function buildFunctions(options: BuildFunctionsOptions = {}): Promise<BuiltFunction[]> {
  const root = options.root ?? projectRoot;
  const outRoot = options.outRoot ?? path.join(root, 'dist');
  const triggersDir = options.triggersDir ?? defaultTriggersDir;
  await assertValidTriggers(triggersDir);

  const built: BuiltFunction[] = [];
  for (const { name, required } of lambdaFunctions) {
    const entry = path.join(root, 'functions', `${name}.ts`);
    if (!existsSync(entry)) {
      if (required) throw new Error(`cannot build the ${name} function: ${entry} does not exist`);
      continue;
    }
    const outdir = path.join(outRoot, name);
    rmSync(outdir, { recursive: true, force: true });
    mkdirSync(outdir, { recursive: true });
    const result = await build({ ...toEsbuildOptions(entry, outdir), metafile: true });
    writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));
    await writeFunctionAssets(triggersDir, path.join(outdir, COMPILED_TRIGGERS_FILE));
    built.push({
      name,
      outdir,
      bundleBytes: statSync(path.join(outdir, bundleFileName)).size,
      sourceMapBytes: statSync(path.join(outdir, `${bundleFileName}.map`)).size,
      largestInputs: largestInputs(result.metafile, 5),
    });
  }
  return built;
}

function largestInputs(metafile: Metafile, count: number): Array<{ path: string; bytes: number }> {
  const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith(bundleFileName))?.[1];
  if (output === undefined) return [];
  // Group by package so the list says "@aws-sdk/client-eks", not one of its 200 files.
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = packageOf(input);
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  return [...byPackage.entries()]
    .map(([inputPath, bytes]) => ({ path: inputPath, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match?.[1] ?? '(project source)';
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const started = performance.now();
  const built = await buildFunctions();
  for (const fn of built) {
    const where = path.relative(process.cwd(), path.join(fn.outdir, bundleFileName)) || fn.outdir;
    process.stdout.write(`${where}  ${formatBytes(fn.bundleBytes)} (source map ${formatBytes(fn.sourceMapBytes)})\n`);
    for (const input of fn.largestInputs) {
      process.stdout.write(`  ${formatBytes(input.bytes).padStart(10)}  ${input.path}\n`);
    }
  }
  process.stdout.write(`built ${built.length} function(s) in ${Math.round(performance.now() - started)} ms\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
