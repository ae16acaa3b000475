import type { GithubInterceptorConfig } from '../triggers-config.ts';
import { lookupKey, NO_LOOKUPS } from './github-lookups.ts';
import { ownersDecision } from './github-owners.ts';
import { changedFilesPayload, ownersPayload } from './github-payload.ts';
import type { InterceptorInput, InterceptorOutcome } from './interceptor-types.ts';

/**
 * Tekton's github interceptor, less the signature check (the bridge has verified X-Hub-Signature-256 before any
 * trigger runs): event types; then either addChangedFiles (a push's from its payload, a pull request's from GitHub's
 * API) or githubOwners (org membership, collaborators, the OWNERS file, `/ok-to-test`). What GitHub's API answered
 * was fetched before evaluation and comes in `input.github`; an answer GitHub could not give fails the trigger.
 */
export function runGithubInterceptor(config: GithubInterceptorConfig, input: InterceptorInput): InterceptorOutcome {
  const { event } = input;
  if (config.eventTypes && !config.eventTypes.includes(event)) {
    return { continue: false, reason: `github interceptor: event "${event}" is not one of: ${config.eventTypes.join(', ')}` };
  }
  if (config.addChangedFiles) {
    if (event !== 'push' && event !== 'pull_request') return { continue: true };
    const parsed = changedFilesPayload(input.payload, event);
    if (!parsed.ok) return failed(`error parsing body: ${parsed.error}`);
    if (event === 'push') return { continue: true, extensions: { changed_files: parsed.pushFiles } };
    const answer = (input.github ?? NO_LOOKUPS).get(lookupKey({ kind: 'pull-request-files', repository: parsed, number: parsed.number }));
    if (answer?.ok && answer.kind === 'pull-request-files') return { continue: true, extensions: { changed_files: answer.files.join(',') } };
    return failed(`error getting changed files: ${answer?.ok === false ? answer.reason : 'they were not looked up'}`);
  }
  if (config.owners) {
    if (event !== 'pull_request' && event !== 'issue_comment') return { continue: true };
    const parsed = ownersPayload(input.payload, event);
    if (!parsed.ok) return failed(`error parsing body: ${parsed.error}`);
    const decision = ownersDecision(event, config.owners.checkType, parsed, input.github ?? NO_LOOKUPS);
    if (decision.pass) return { continue: true };
    if (decision.error) return failed(decision.error);
    return { continue: false, reason: `github interceptor: owners check requirements not met (sender "${parsed.sender}")` };
  }
  return { continue: true };
}

function failed(reason: string): InterceptorOutcome {
  return { continue: false, failed: true, reason: `github interceptor: ${reason}` };
}
