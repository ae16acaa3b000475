/**
 * Captures the JSON lines functions write (Powertools Logger: info to stdout, warn and error to stderr; EMF metrics)
 * while `run` runs, for assertions on what was logged. node:test's reporter shares stdout; only lines that are JSON
 * objects are kept, and nothing captured reaches the terminal.
 */
export async function captureLogs<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[]; entries: Record<string, any>[] }> {
  const lines: string[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const writes = streams.map((stream) => stream.write.bind(stream));
  for (const stream of streams) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      // Anything else (the test runner's own reports between test files and the parent) goes through.
      if (!text.startsWith('{')) return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
      lines.push(...text.split('\n').filter((line) => line.startsWith('{')));
      return true;
    }) as typeof stream.write;
  }
  try {
    const result = await run();
    return { result, lines, entries: lines.flatMap((line) => parsed(line)) };
  } finally {
    streams.forEach((stream, index) => {
      stream.write = writes[index] as typeof stream.write;
    });
  }
}

function parsed(line: string): Record<string, any>[] {
  try {
    return [JSON.parse(line) as Record<string, any>];
  } catch {
    return [];
  }
}
