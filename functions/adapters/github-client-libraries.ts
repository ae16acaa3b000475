import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { createAppAuth } from '@octokit/auth-app';
import type { request } from '@octokit/request';

/** The file the GitHub client libraries are built into, next to each Lambda bundle (infra/function-assets.ts). */
export const GITHUB_CLIENT_CHUNK = 'github-client.cjs';

/** What the chunk holds: its entry is `{ request, createAppAuth }`. */
export interface GithubClientLibraries {
  request: typeof request;
  createAppAuth: typeof createAppAuth;
}

export const GITHUB_CLIENT_CHUNK_ENTRY = "module.exports = { request: require('@octokit/request').request, createAppAuth: require('@octokit/auth-app').createAppAuth };";

// Not named `require`: esbuild would bundle what a call to `require` names, and these stay out of the bundle, so a
// container that reports nothing never parses them (BENCHMARKS.md).
const loadModule = createRequire(import.meta.url);
let loaded: GithubClientLibraries | undefined;

/**
 * @octokit/request and @octokit/auth-app, loaded on first use: in a Lambda bundle `import.meta.dirname` is the
 * bundle's folder and the chunk lies beside it; from the sources (the CLI, the tests) there is none, and they come
 * from node_modules.
 */
export function githubClientLibraries(): GithubClientLibraries {
  if (loaded) return loaded;
  const chunk = join(import.meta.dirname, GITHUB_CLIENT_CHUNK);
  loaded = existsSync(chunk)
    ? (loadModule(chunk) as GithubClientLibraries)
    : { request: (loadModule('@octokit/request') as { request: typeof request }).request, createAppAuth: (loadModule('@octokit/auth-app') as { createAppAuth: typeof createAppAuth }).createAppAuth };
  return loaded;
}
