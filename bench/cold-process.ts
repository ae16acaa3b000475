// Cold invocations in fresh processes, and ratios taken the way a loaded machine allows: A and B run back to back in
// each round, in alternating order, and the ratio is the median of the rounds' A ÷ B. Noise from the other tenants of
// the machine then hits both sides of a ratio alike, where a ratio of two medians drifts with it.
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

const RUNTIME = new URL('./lambda-runtime.cjs', import.meta.url).pathname;

export interface ColdRun {
  /** Spawn to answer: what a cold delivery costs (Node's start, the import, the handler). */
  wallMs: number;
  /** Inside the process: Node's start until the runtime stand-in ran, the bundle's import, the handler. */
  startedMs: number;
  importMs: number;
  handleMs: number;
  statusCode: number | undefined;
  maxRssMiB: number;
}

/** One fresh process: import `bundle`, handle the event in `eventFile` (none: import only), answer. */
export function coldRun(bundle: string, eventFile: string | undefined, env: NodeJS.ProcessEnv): Promise<ColdRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [RUNTIME, bundle, ...(eventFile ? [eventFile] : [])], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let report = '';
    let wallMs: number | undefined;
    (child.stdout as Readable).resume(); // the function's log lines
    (child.stderr as Readable).on('data', (chunk) => (stderr += chunk));
    (child.stdio[3] as Readable).on('data', (chunk) => {
      wallMs ??= performance.now() - start;
      report += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || wallMs === undefined) {
        reject(new Error(`${bundle} ${eventFile ?? ''} exited ${code}: ${stderr.slice(0, 2000)}`));
        return;
      }
      resolve({ wallMs, ...(JSON.parse(report) as Omit<ColdRun, 'wallMs'>) });
    });
  });
}

export interface Pair {
  name: string;
  a: () => Promise<ColdRun>;
  b: () => Promise<ColdRun>;
  /** What is compared: wall time (default), or the import alone (dependency costs). */
  measure?: (run: ColdRun) => number;
}

export interface PairResult {
  name: string;
  rounds: number;
  /** Median of the rounds' A ÷ B. */
  ratio: number;
  /** Median of the rounds' A − B, in ms. */
  differenceMs: number;
  /** Interquartile range of the per-round ratios: how still the ratio held. */
  ratioIqr: [number, number];
  a: RunSummary;
  b: RunSummary;
}

export interface RunSummary {
  wallMs: number;
  startedMs: number;
  importMs: number;
  handleMs: number;
  maxRssMiB: number;
}

/** Runs every pair once per round, each pair back to back, A first in even rounds and B first in odd ones. */
export async function pairedRounds(pairs: Pair[], rounds: number, onRound?: (round: number) => void): Promise<PairResult[]> {
  const runs = pairs.map(() => ({ a: [] as ColdRun[], b: [] as ColdRun[] }));
  for (let round = 0; round < rounds; round += 1) {
    for (const [i, pair] of pairs.entries()) {
      const series = runs[i] as { a: ColdRun[]; b: ColdRun[] };
      if (round % 2 === 0) {
        series.a.push(await pair.a());
        series.b.push(await pair.b());
      } else {
        series.b.push(await pair.b());
        series.a.push(await pair.a());
      }
    }
    onRound?.(round);
  }
  return pairs.map((pair, i) => {
    const { a, b } = runs[i] as { a: ColdRun[]; b: ColdRun[] };
    const measure = pair.measure ?? ((run: ColdRun) => run.wallMs);
    const ratios = a.map((run, k) => measure(run) / measure(b[k] as ColdRun));
    return {
      name: pair.name,
      rounds,
      ratio: round3(quantile(ratios, 0.5)),
      differenceMs: round3(quantile(a.map((run, k) => measure(run) - measure(b[k] as ColdRun)), 0.5)),
      ratioIqr: [round3(quantile(ratios, 0.25)), round3(quantile(ratios, 0.75))],
      a: summarize(a),
      b: summarize(b),
    };
  });
}

function summarize(runs: ColdRun[]): RunSummary {
  const median = (pick: (run: ColdRun) => number) => round3(quantile(runs.map(pick), 0.5));
  return { wallMs: median((r) => r.wallMs), startedMs: median((r) => r.startedMs), importMs: median((r) => r.importMs), handleMs: median((r) => r.handleMs), maxRssMiB: median((r) => r.maxRssMiB) };
}

export function quantile(xs: number[], q: number): number {
  const sorted = [...xs].sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (at - low);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
