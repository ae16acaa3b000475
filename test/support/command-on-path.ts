import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Whether an executable of that name is on PATH (moto_server, aws, cfn-lint…). */
export function commandOnPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The tools some tests need beyond Node.js, and how a developer gets each. */
export const optionalTools = {
  moto_server: 'pip install "moto[server]"',
  'cfn-lint': 'pip install cfn-lint',
  aws: 'install the AWS CLI (pip install awscli, or AWS\'s installer)',
} as const;

export type OptionalTool = keyof typeof optionalTools;

/**
 * For a test's `skip` option: `false` when the tool is on PATH, else one line naming it and how to install it, so
 * `npm test` passes on a machine with only Node.js. With CI=true a missing tool is an error instead: CI runs everything.
 */
export function skipWithout(tool: OptionalTool, env: NodeJS.ProcessEnv = process.env): false | string {
  if (commandOnPath(tool)) return false;
  const message = `${tool} is not on PATH; to run these tests: ${optionalTools[tool]}`;
  if (env.CI === 'true') throw new Error(`${message} (CI=true: a missing tool fails the run)`);
  return message;
}
