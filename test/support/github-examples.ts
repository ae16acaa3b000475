import { createRequire } from 'node:module';

/** Real GitHub payloads from @octokit/webhooks-examples, by event name and a predicate. */
const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples') as { name: string; examples: Record<string, unknown>[] }[];

export function githubExample(event: string, matches: (payload: Record<string, any>) => boolean = () => true): Record<string, any> {
  const found = examples.find((e) => e.name === event)?.examples.find(matches);
  if (!found) throw new Error(`no @octokit/webhooks-examples payload for ${event} matching ${matches}`);
  return structuredClone(found);
}

/** Counting back from the moment this module loaded: every call gets a second of its own. */
const LOADED_AT_SECONDS = Math.floor(Date.now() / 1000);
let pushes = 0;

/**
 * A real push payload as GitHub would send it now: `repository.pushed_at` (Unix seconds) is set to a moment ago, a
 * different one for each call, so each call is a push of its own — its own bytes, and so its own run names — and
 * recent enough for the bridge's replay window. Reuse one payload (or one signed delivery) for a redelivery.
 */
function pushedNow(payload: Record<string, any>): Record<string, any> {
  pushes += 1;
  payload.repository.pushed_at = LOADED_AT_SECONDS - pushes;
  return payload;
}

/** A push to the default branch, a tag push, a deleted branch: the cases the default config must tell apart. */
export const pushToDefaultBranch = (): Record<string, any> =>
  pushedNow(githubExample('push', (p) => p.ref === `refs/heads/${p.repository.default_branch}` && !p.deleted && p.commits.length > 0));
export const tagPush = (): Record<string, any> => pushedNow(githubExample('push', (p) => p.ref.startsWith('refs/tags/') && !p.deleted));
export const deletedRef = (): Record<string, any> => pushedNow(githubExample('push', (p) => p.deleted === true));
