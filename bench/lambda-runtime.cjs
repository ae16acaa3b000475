// Stands in for Lambda's Node.js runtime in a fresh process: like the runtime interface client, CommonJS that has
// required node:http (for the Runtime API) before it loads the handler, and loads it as the runtime does: an .mjs
// file through import(), a .js or .cjs one through require() (import() when it turns out to be ES). Loads the bundle
// in argv[2], invokes
// `handler` once with the event in argv[3] (none: import only), and writes its timings as one JSON line to fd 3,
// then exits at once (Lambda would freeze the process here; its exit is not part of a delivery).
'use strict';
const startedMs = performance.now(); // since the process started: Node's own start
require('node:http');
const { readFileSync, writeSync } = require('node:fs');
const { pathToFileURL } = require('node:url');

const [bundle, eventFile] = process.argv.slice(2);
(async () => {
  const importStart = performance.now();
  const { handler } = await load(bundle);
  const importMs = performance.now() - importStart;
  let statusCode;
  let handleMs = 0;
  if (eventFile) {
    const event = JSON.parse(readFileSync(eventFile, 'utf8'));
    const handleStart = performance.now();
    const result = await handler(event);
    handleMs = performance.now() - handleStart;
    statusCode = result.statusCode;
    if (statusCode >= 300) process.stderr.write(`unexpected ${statusCode}: ${result.body}\n`);
  }
  writeSync(3, `${JSON.stringify({ startedMs, importMs, handleMs, statusCode, maxRssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
  process.exit(statusCode === undefined || statusCode < 300 ? 0 : 1);
})().catch((error) => {
  process.stderr.write(`${error && error.stack ? error.stack : error}\n`);
  process.exit(1);
});

async function load(file) {
  if (file.endsWith('.mjs')) return import(pathToFileURL(file).href);
  try {
    return require(file);
  } catch (error) {
    if (error && error.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(file).href);
    throw error;
  }
}
