/**
 * Starts `moto_server` (the AWS emulator) on a free loopback port for one test file.
 *
 *   const moto = await startMotoServer();
 *   const client = new SecretsManagerClient({ endpoint: moto.endpoint, ...MOTO_CLIENT_SETTINGS });
 *   ...
 *   await moto.stop();
 *
 * Each start is a fresh, empty emulator. `stop()` kills the whole process group (the pyenv shim, the Python server).
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { commandOnPath, optionalTools } from './command-on-path.ts';

export interface MotoServer {
  endpoint: string;
  stop: () => Promise<void>;
}

/** Settings for an AWS SDK client talking to moto: dummy credentials, us-east-1, one attempt. */
export const MOTO_CLIENT_SETTINGS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  maxAttempts: 1,
} as const;

export async function startMotoServer(options: { startTimeoutMs?: number } = {}): Promise<MotoServer> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  if (!commandOnPath('moto_server')) {
    // Test files skip themselves first (skipWithout('moto_server')); reaching this is a test that forgot to.
    throw new Error(`moto_server is not on PATH (${optionalTools.moto_server}); a test that needs it declares skip: skipWithout('moto_server')`);
  }
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', '0'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  let output = '';
  let exited: number | string | null | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = code ?? signal;
      resolve();
    });
  });

  const stop = async () => {
    if (exited !== undefined || child.pid === undefined) return;
    killGroup(child.pid, 'SIGTERM');
    const killed = setTimeout(() => killGroup(child.pid as number, 'SIGKILL'), 3000);
    await exit;
    clearTimeout(killed);
  };

  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`moto_server did not start within ${startTimeoutMs} ms:\n${output}`)), startTimeoutMs);
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onOutput);
    child.stderr.on('data', onOutput);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`moto_server exited (${String(exited)}) before it answered:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });

  // Keep draining its log, or a full pipe would block the server.
  child.stdout.resume();
  child.stderr.resume();
  try {
    await waitUntilAnswering(endpoint, startTimeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}

function waitUntilAnswering(endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const probe = () =>
    new Promise<boolean>((resolve) => {
      const req = request(`${endpoint}/moto-api/`, { timeout: 1000 }, (res) => {
        res.resume();
        resolve((res.statusCode ?? 500) < 500);
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  return (async () => {
    while (Date.now() < deadline) {
      if (await probe()) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`moto_server at ${endpoint} did not answer within ${timeoutMs} ms`);
  })();
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

