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
