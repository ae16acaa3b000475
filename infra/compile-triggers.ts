// Writes the Lambda's `triggers.json` from a triggers folder, and beside it the optional CEL parts the config uses;
// run by the CDK bundling hook (`npm run build` calls the same function).
//   node infra/compile-triggers.ts <triggers dir> <out file>
import { writeFunctionAssets } from './function-assets.ts';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  process.stderr.write('usage: node infra/compile-triggers.ts <triggers dir> <out file>\n');
  process.exit(2);
}
try {
  await writeFunctionAssets(dir, out);
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
}
