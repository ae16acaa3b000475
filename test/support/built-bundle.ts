import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { toEsbuildOptions } from '../../infra/function-bundling.ts';
import { COMPILED_TRIGGERS_FILE } from '../../functions/adapters/compiled-triggers.ts';
import { writeFunctionAssets } from '../../infra/function-assets.ts';

/** Builds a Lambda entry exactly as `npm run build` and the CDK app do, into a temp folder; returns the bundle's URL. */
export async function buildBundle(entry: string, triggersDir = 'triggers'): Promise<{ dir: string; url: string }> {
  // Inside the project, so the bundle's one external module (@aws-sdk/client-eks, which Lambda's runtime provides)
  // resolves from node_modules as it would from the runtime.
  mkdirSync('.bundles', { recursive: true });
  const dir = mkdtempSync(join('.bundles', 'webhook-'));
  await build(toEsbuildOptions(entry, dir));
  await writeFunctionAssets(triggersDir, join(dir, COMPILED_TRIGGERS_FILE));
  return { dir, url: pathToFileURL(join(process.cwd(), dir, 'index.mjs')).href };
}

let generation = 0;

/**
 * Imports the bundle as a fresh Lambda container would: module scope runs again with the environment given.
 * (A new query string makes a new module instance.)
 */
export async function coldStart<T>(url: string, env: Record<string, string | undefined>): Promise<T> {
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  generation += 1;
  return (await import(`${url}?container=${generation}`)) as T;
}
