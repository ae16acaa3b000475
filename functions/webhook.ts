// The webhook's Lambda handler, in two steps (BENCHMARKS.md, "start the I/O first"): webhook-first-reads.ts starts the
// webhook secret's read and the connection to the cluster's API, the event loop turns so that they go out, and only
// then is the rest evaluated (the config, CEL, Powertools), while they travel.
import { turnTheEventLoop } from './webhook-first-reads.ts';

// The signing settles, the connection is made and the request written within these turns on the bench.
await turnTheEventLoop(4);

// esbuild makes a dynamic import of a bundled module a lazily evaluated part of the same bundle: the rest of the code
// runs here, not before this module's first line, and the asset stays one file (no esbuild option needed).
export const { handler } = await import('./webhook-handler.ts');
