import { createRequire } from 'node:module';

/** Real GitHub payloads from @octokit/webhooks-examples, by event name and a predicate. */
const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples') as { name: string; examples: Record<string, unknown>[] }[];

export function githubExample(event: string, matches: (payload: Record<string, any>) => boolean = () => true): Record<string, any> {
  const found = examples.find((e) => e.name === event)?.examples.find(matches);
  if (!found) throw new Error(`no @octokit/webhooks-examples payload for ${event} matching ${matches}`);
  return structuredClone(found);
}

/** A push to the default branch, a tag push, a deleted branch: the cases the default config must tell apart. */
export const pushToDefaultBranch = (): Record<string, any> =>
  githubExample('push', (p) => p.ref === `refs/heads/${p.repository.default_branch}` && !p.deleted && p.commits.length > 0);
export const tagPush = (): Record<string, any> => githubExample('push', (p) => p.ref.startsWith('refs/tags/') && !p.deleted);
export const deletedRef = (): Record<string, any> => githubExample('push', (p) => p.deleted === true);
