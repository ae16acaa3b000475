// One cold Lambda invocation in a fresh process: import the bundle, handle the event in argv[3], exit.
// Plain JavaScript so the measured process pays for the bundle, not for type stripping.
import { readFileSync } from 'node:fs';

const [bundle, eventFile] = process.argv.slice(2);
const { handler } = await import(bundle);
if (eventFile) {
  const result = await handler(JSON.parse(readFileSync(eventFile, 'utf8')));
  if (result.statusCode >= 300) {
    process.stderr.write(`unexpected ${result.statusCode}: ${result.body}\n`);
    process.exitCode = 1;
  }
}
