import type { GithubInterceptorConfig } from '../triggers-config.ts';
import type { InterceptorInput, InterceptorOutcome } from './interceptor-types.ts';

interface PushCommit {
  added?: unknown;
  modified?: unknown;
  removed?: unknown;
}

/**
 * Tekton's github interceptor, less the signature check (the bridge has verified X-Hub-Signature-256 before any
 * trigger runs): event types, and changed files for pushes.
 */
export function runGithubInterceptor(config: GithubInterceptorConfig, input: InterceptorInput): InterceptorOutcome {
  if (config.eventTypes && !config.eventTypes.includes(input.event)) {
    return { continue: false, reason: `github interceptor: event "${input.event}" is not one of: ${config.eventTypes.join(', ')}` };
  }
  if (config.addChangedFiles && input.event === 'push') {
    return { continue: true, extensions: { changed_files: changedFiles(input.payload).join(',') } };
  }
  return { continue: true };
}

/** Every file added, modified or removed by any commit of the push, not just the head commit; first seen first. */
export function changedFiles(payload: unknown): string[] {
  const commits = (payload as { commits?: unknown }).commits;
  const files = new Set<string>();
  if (!Array.isArray(commits)) return [];
  for (const commit of commits as PushCommit[]) {
    for (const list of [commit.added, commit.modified, commit.removed]) {
      if (Array.isArray(list)) for (const file of list) if (typeof file === 'string') files.add(file);
    }
  }
  return [...files];
}
