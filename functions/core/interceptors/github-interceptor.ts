import type { GithubInterceptorConfig } from '../triggers-config.ts';
import type { InterceptorInput, InterceptorOutcome } from './interceptor-types.ts';

/**
 * Tekton's github interceptor, less the signature check (the bridge has verified X-Hub-Signature-256 before any
 * trigger runs): event types, and changed files for pushes. A pull request's changed files need the GitHub API,
 * which the bridge does not call yet: such an event fails the trigger, saying so.
 */
export function runGithubInterceptor(config: GithubInterceptorConfig, input: InterceptorInput): InterceptorOutcome {
  if (config.eventTypes && !config.eventTypes.includes(input.event)) {
    return { continue: false, reason: `github interceptor: event "${input.event}" is not one of: ${config.eventTypes.join(', ')}` };
  }
  if (!config.addChangedFiles || (input.event !== 'push' && input.event !== 'pull_request')) return { continue: true };
  if (input.event === 'pull_request') {
    return {
      continue: false,
      failed: true,
      reason: 'github interceptor: addChangedFiles for a pull_request needs the GitHub API, which the bridge does not call yet; limit eventTypes to push for changed files',
    };
  }
  const files = changedFiles(input.payload);
  if (typeof files !== 'string') return { continue: false, failed: true, reason: `github interceptor: error parsing body: ${files.error}` };
  return { continue: true, extensions: { changed_files: files } };
}

/**
 * Tekton's parseBodyForChangedFiles for a push: each commit's added, then modified, then removed files, joined with
 * `,` (repeats kept, as Tekton keeps them). A commit lacking one of the three lists is an error, as in Tekton.
 */
export function changedFiles(payload: unknown): string | { error: string } {
  const body = (payload ?? {}) as { repository?: { full_name?: unknown }; commits?: unknown };
  if (body.repository === null || typeof body.repository !== 'object' || Array.isArray(body.repository)) return { error: "payload body missing 'repository' field" };
  if (typeof body.repository.full_name !== 'string') return { error: "payload body missing 'repository.full_name' field" };
  const files: string[] = [];
  if (Array.isArray(body.commits)) {
    for (const commit of body.commits as Record<string, unknown>[]) {
      const lists: unknown[][] = [];
      for (const key of ['added', 'modified', 'removed']) {
        const list = commit !== null && typeof commit === 'object' ? commit[key] : undefined;
        if (!Array.isArray(list)) return { error: `payload body missing 'commits.*.${key}' field` };
        lists.push(list);
      }
      for (const list of lists) for (const file of list) files.push(goValueText(file));
    }
  }
  return files.join(',');
}

/** GitHub's file names are strings; Tekton formats anything else with %v, for which the bridge writes JSON. */
function goValueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null) return '<nil>';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
