// One cold invocation with the event in argv[3], then prints the process's peak resident set size in MiB.
import { readFileSync } from 'node:fs';

const [bundle, eventFile] = process.argv.slice(2);
const { handler } = await import(bundle);
const result = await handler(JSON.parse(readFileSync(eventFile, 'utf8')));
if (result.statusCode >= 300) {
  process.stderr.write(`unexpected ${result.statusCode}: ${result.body}\n`);
  process.exitCode = 1;
}
process.stdout.write(`${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
