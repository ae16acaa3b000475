import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { sign } from '@octokit/webhooks-methods';
import { EXIT, UsageError, type CliIo } from './cli-io.ts';
import { readLocalSecret } from './local-secret.ts';

export const SAMPLE_PUSH_FILE = new URL('./sample-push.json', import.meta.url);

function samplePushMadeNow(): string {
  const push = JSON.parse(readFileSync(SAMPLE_PUSH_FILE, 'utf8')) as { repository: { pushed_at?: number } };
  push.repository.pushed_at = Math.floor(Date.now() / 1000);
  return JSON.stringify(push, null, 2);
}

/** Signs and sends one delivery the way GitHub does; prints the status and the answer. */
export async function runSendCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080/webhook' },
      secret: { type: 'string' },
      event: { type: 'string', default: 'push' },
      file: { type: 'string' },
      delivery: { type: 'string' },
    },
  });
  const secret = values.secret || io.env.WEBHOOK_SECRET || readLocalSecret();
  if (!secret) throw new UsageError('no secret: pass --secret, set WEBHOOK_SECRET, or start `tekton-bridge serve` on loopback first');
  // The built-in sample is a push made now: the bridge refuses pushes older than its replay window. A --file is sent
  // byte for byte, as GitHub would send it.
  const body = values.file ? readFileSync(values.file, 'utf8') : samplePushMadeNow();
  const deliveryId = values.delivery ?? randomUUID();
  let response: Response;
  try {
    response = await fetch(values.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/tekton-bridge-send',
        'x-github-event': values.event,
        'x-github-delivery': deliveryId,
        'x-hub-signature-256': await sign(secret, body),
      },
      body,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    io.stderr(`cannot reach ${values.url} (${cause}): is \`npm start\` running?\n`);
    return EXIT.failed;
  }
  const text = await response.text();
  io.stderr(`delivery ${deliveryId} (${values.event}) → HTTP ${response.status}\n`);
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: print as it came
  }
  io.stdout(`${pretty}\n`);
  return response.ok ? EXIT.ok : EXIT.failed;
}
