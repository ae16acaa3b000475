/** One class per error the core raises; `name` set so logs and tests can tell them apart. */

export interface ConfigIssue {
  file: string;
  /** `Kind/name`, e.g. `EventListener/github-push`. */
  object: string;
  /** Dotted path inside the object, e.g. `spec.triggers[0].interceptors[1].params.filter`. */
  field: string;
  message: string;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  return `${issue.file}: ${issue.object}: ${issue.field}: ${issue.message}`;
}

/** The trigger configuration cannot be used; carries every problem found, not just the first. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(
      `invalid trigger configuration (${issues.length} ${issues.length === 1 ? 'error' : 'errors'}):\n` +
        issues.map((issue) => `  ${formatConfigIssue(issue)}`).join('\n'),
    );
    this.issues = issues;
  }
}

/**
 * A bug met while handling one trigger, as a reason for its result: the error's type and the start of its message,
 * never a stack (which can quote the payload) or more than a line.
 */
export function crashReason(error: unknown): string {
  const name = error instanceof Error ? error.name : typeof error;
  const message = error instanceof Error ? error.message : '';
  const line = (message.split('\n')[0] ?? '').slice(0, 200);
  return line ? `${name}: ${line}` : name;
}
