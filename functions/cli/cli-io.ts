/** What a verb may touch of the outside: its two output streams and the environment. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
}

/** Exit codes: 0 fine, 1 the thing failed (e.g. a non-2xx answer), 2 bad usage or invalid config. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export class UsageError extends Error {
  override name = 'UsageError';
}
