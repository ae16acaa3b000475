// Writes the Lambda's `triggers.json` from a triggers folder; run by the CDK bundling hook and by `npm run build`.
//   node infra/compile-triggers.ts <triggers dir> <out file>
import { writeFileSync } from 'node:fs';
import { compileTriggersDirectory } from '../functions/adapters/triggers-directory.ts';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  process.stderr.write('usage: node infra/compile-triggers.ts <triggers dir> <out file>\n');
  process.exit(2);
}
try {
  writeFileSync(out, compileTriggersDirectory(dir));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
