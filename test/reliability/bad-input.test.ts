/**
 * The bad-input corpus, through both real entry points: `serve` over HTTP on loopback, and the built Lambda bundle
 * with API Gateway events. Each input gets the contract's status and a clear `error`, creates nothing it should not,
 * and leaks no secret, token, key or payload into the answer or the log lines.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { startBridge, type RunningBridge } from '../../functions/cli/serve.ts';
import { assertValidTriggers } from '../../infra/function-bundling.ts';
import { captureLogs } from '../support/captured-logs.ts';
import { githubExample, pushToDefaultBranch } from '../support/github-examples.ts';
import { HARNESS_SECRET, startBridgeHarness, type BridgeHarness } from '../support/bridge-harness.ts';
import type { StoredObject } from '../support/kube-api-server.ts';
import { skipWithout } from '../support/command-on-path.ts';

const CORPUS_TRIGGERS = 'test/fixtures/reliability/corpus-triggers';
const MISSING_BINDING = 'test/fixtures/reliability/missing-binding';
const MARKER = 'PAYLOAD-MARKER-7f3a9c';
const LIMIT = 6 * 1024 * 1024;

interface RawDelivery {
  headers: Record<string, string | undefined>;
  body: Buffer;
}

/** A push the corpus triggers match, with the marker where the bridge must never log it. */
function markedPush(edit: (push: Record<string, any>) => void = () => {}): Record<string, any> {
  const push = pushToDefaultBranch();
  push.head_commit.message = `an ordinary commit ${MARKER}`;
  push.padding = MARKER;
  edit(push);
  return push;
}

async function delivery(deliveryId: string, payload: unknown, edit: (headers: Record<string, string | undefined>) => void = () => {}, secret = HARNESS_SECRET): Promise<RawDelivery> {
  const body = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const headers: Record<string, string | undefined> = {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': deliveryId,
    'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  };
  edit(headers);
  return { headers, body };
}

const INJECTED_MESSAGE = `fix: "quotes" 'single' {braces} [brackets] $(tt.params.revision) \${body.ref}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: stolen}\n{"json": "injection", "kind": "Secret"}\n${MARKER}`;
const INJECTED_BRANCH = 'main"},{"metadata":{"labels":{"evil":"true"}}}\n---\nkind: Secret';
const INJECTED_AUTHOR = 'Mallory"\nlabels:\n  evil: "true';
const UNICODE_MESSAGE = `提交 ✓ — «guillemets» \u202Eright-to-left\u202C, e\u0301 combining, zero\u200Bwidth, NUL \u0000 end ${MARKER}`;
const UNICODE_BRANCH = 'fëature/ünïcode-分支-🚀';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface Case {
  name: string;
  make: (id: string) => Promise<RawDelivery>;
  status: number;
  /** The `error` of a 4xx answer, or the first result's reason. */
  says?: RegExp;
  /** Objects it must create (0 unless said). */
  creates?: number;
  check?: (object: StoredObject) => void;
}

const cases: Case[] = [
  { name: 'no signature', make: (id) => delivery(id, markedPush(), (h) => delete h['x-hub-signature-256']), status: 401, says: /X-Hub-Signature-256 header is missing/ },
  { name: 'a garbled signature', make: (id) => delivery(id, markedPush(), (h) => (h['x-hub-signature-256'] = 'sha256=not-hex-at-all')), status: 401, says: /malformed/ },
  { name: 'a truncated signature', make: (id) => delivery(id, markedPush(), (h) => (h['x-hub-signature-256'] = h['x-hub-signature-256']?.slice(0, 30))), status: 401, says: /malformed/ },
  {
    name: 'a sha1 signature only',
    make: (id) => delivery(id, markedPush(), (h) => {
      delete h['x-hub-signature-256'];
      h['x-hub-signature'] = 'sha1=0123456789abcdef0123456789abcdef01234567';
    }),
    status: 401,
    says: /sha1/,
  },
  { name: 'a signature made with another secret', make: (id) => delivery(id, markedPush(), undefined, 'not-the-secret'), status: 401, says: /does not match/ },
  { name: 'a valid signature over a body that is not JSON', make: (id) => delivery(id, `this is not json ${MARKER}`), status: 400, says: /^body is not valid JSON/ },
  { name: 'truncated JSON', make: (id) => delivery(id, JSON.stringify(markedPush()).slice(0, 300)), status: 400, says: /^body is not valid JSON \(error at position \d+\)$/ },
  { name: 'JSON that is not an object', make: (id) => delivery(id, `["${MARKER}"]`), status: 400, says: /not an object/ },
  { name: 'an empty body', make: (id) => delivery(id, ''), status: 400, says: /not valid JSON/ },
  { name: 'a wrong content type', make: (id) => delivery(id, markedPush(), (h) => (h['content-type'] = 'text/plain')), status: 415, says: /"text\/plain" is not supported/ },
  { name: 'no content type', make: (id) => delivery(id, markedPush(), (h) => delete h['content-type']), status: 415, says: /content type \(none\)/ },
  {
    name: 'a form body without a payload field',
    make: (id) => delivery(id, `other=${MARKER}`, (h) => (h['content-type'] = 'application/x-www-form-urlencoded')),
    status: 400,
    says: /no payload field/,
  },
  { name: 'no X-GitHub-Event', make: (id) => delivery(id, markedPush(), (h) => delete h['x-github-event']), status: 400, says: /X-GitHub-Event header is missing/ },
  { name: 'no X-GitHub-Delivery', make: () => delivery('', markedPush(), (h) => delete h['x-github-delivery']), status: 400, says: /X-GitHub-Delivery header is missing/ },
  {
    name: 'a 7 MB body',
    make: (id) => delivery(id, markedPush((p) => (p.padding = MARKER.repeat(Math.ceil((7 * 1024 * 1024) / MARKER.length))))),
    status: 413,
    says: new RegExp(`the limit is ${LIMIT} bytes`),
  },
  { name: 'an event no trigger handles (issues)', make: (id) => delivery(id, githubExample('issues'), (h) => (h['x-github-event'] = 'issues')), status: 200, says: /event "issues" is not one of: push/ },
  {
    name: 'a push whose commit message, branch and author try to inject YAML, JSON and labels',
    make: (id) =>
      delivery(
        id,
        markedPush((p) => {
          p.head_commit.message = INJECTED_MESSAGE;
          p.head_commit.author.name = INJECTED_AUTHOR;
          p.repository.default_branch = INJECTED_BRANCH;
          p.ref = `refs/heads/${INJECTED_BRANCH}`;
          p.repository.name = 'Hello World/../"evil" {x}';
        }),
      ),
    status: 202,
    creates: 1,
    check: (object) => {
      assert.deepEqual(Object.keys(object).filter((k) => !['apiVersion', 'kind', 'metadata', 'spec'].includes(k)), []);
      assert.equal(object.kind, 'PipelineRun');
      assert.match(object.metadata.name, DNS_LABEL);
      assert.ok(object.metadata.name.length <= 63);
      assert.deepEqual(Object.keys(object.metadata.labels ?? {}).sort(), [
        'example.com/author',
        'example.com/branch',
        'tekton-bridge/report',
        'triggers.tekton.dev/eventlistener',
        'triggers.tekton.dev/trigger',
        'triggers.tekton.dev/triggers-eventid',
      ]);
      for (const value of Object.values(object.metadata.labels ?? {})) {
        assert.match(value, LABEL_VALUE);
        assert.ok(value.length <= 63);
      }
      // Values stay values: the message, whole and unsubstituted (its Tekton variable escaped, as Tekton Triggers
      // escapes it), and nothing became an object of its own.
      const escapedMessage = INJECTED_MESSAGE.replaceAll('$(', () => '$$(');
      assert.equal(object.metadata.annotations?.['example.com/message'], escapedMessage);
      assert.equal(object.metadata.annotations?.['tekton-bridge/ref'], `refs/heads/${INJECTED_BRANCH}`);
      const params = (object.spec as { params: { name: string; value: string }[] }).params;
      assert.equal(params.find((p) => p.name === 'message')?.value, escapedMessage);
      assert.equal(JSON.stringify(object).match(/"kind":/g)?.length, 1);
    },
  },
  {
    name: 'unicode everywhere (repository, branch, commit message, author, delivery id)',
    make: (id) =>
      delivery(
        `${id}-ünï-🚀`,
        markedPush((p) => {
          p.head_commit.message = UNICODE_MESSAGE;
          p.head_commit.author.name = 'Zoë 🦄 Ł';
          p.repository.default_branch = UNICODE_BRANCH;
          p.ref = `refs/heads/${UNICODE_BRANCH}`;
          p.repository.name = 'héllo-wörld-🚀';
        }),
        // HTTP header values are bytes; GitHub's delivery ids are ASCII, but the bridge must not trip on others.
        (h) => (h['x-github-delivery'] = Buffer.from(h['x-github-delivery'] as string, 'utf8').toString('latin1')),
      ),
    status: 202,
    creates: 1,
    check: (object) => {
      assert.match(object.metadata.name, DNS_LABEL);
      for (const value of Object.values(object.metadata.labels ?? {})) assert.match(value, LABEL_VALUE);
      assert.equal(object.metadata.annotations?.['example.com/message'], UNICODE_MESSAGE);
    },
  },
  {
    name: 'a delivery id that tries to inject a label',
    make: (id) => delivery(`${id}"},{"evil":"true`, markedPush()),
    status: 202,
    creates: 1,
    check: (object) => {
      assert.match(object.metadata.labels?.['triggers.tekton.dev/triggers-eventid'] ?? '', LABEL_VALUE);
      assert.equal(object.metadata.labels?.evil, undefined);
    },
  },
];

describe('bad-input corpus, through serve (HTTP on loopback) and the built Lambda bundle', { skip: skipWithout('moto_server') }, () => {
  let bridge: BridgeHarness;
  let served: RunningBridge;
  let kubeconfigDir: string;

  before(async () => {
    bridge = await startBridgeHarness({ triggersDir: CORPUS_TRIGGERS });
    kubeconfigDir = mkdtempSync(join(tmpdir(), 'tekton-bridge-corpus-'));
    const { certPem, keyPem } = bridge.api.clientCertificate;
    writeFileSync(
      join(kubeconfigDir, 'config'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'corpus',
        clusters: [{ name: 'corpus', cluster: { server: bridge.api.url, 'certificate-authority-data': Buffer.from(bridge.api.caPem).toString('base64') } }],
        users: [{ name: 'corpus', user: { 'client-certificate-data': Buffer.from(certPem).toString('base64'), 'client-key-data': Buffer.from(keyPem).toString('base64') } }],
        contexts: [{ name: 'corpus', context: { cluster: 'corpus', user: 'corpus' } }],
      }),
    );
    served = await startBridge(
      { port: 0, host: '127.0.0.1', triggersDir: CORPUS_TRIGGERS, secret: HARNESS_SECRET, dryRun: false, kubeconfig: join(kubeconfigDir, 'config') },
      { stdout: () => {}, stderr: () => {}, env: {} },
    );
  });
  after(async () => {
    await served?.close();
    await bridge?.stop();
    if (kubeconfigDir) rmSync(kubeconfigDir, { recursive: true, force: true });
  });

  const targets = {
    serve: async (raw: RawDelivery): Promise<{ status: number; text: string }> => {
      const headers = Object.fromEntries(Object.entries(raw.headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
      const response = await fetch(served.url, { method: 'POST', headers, body: raw.body });
      return { status: response.status, text: await response.text() };
    },
    lambda: async (raw: RawDelivery): Promise<{ status: number; text: string }> => {
      const webhook = await bridge.coldWebhook();
      const recorded = bridge.apiGatewayEvent({ headers: {}, body: Buffer.alloc(0) });
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(recorded.headers)) {
        if (!['content-type', 'x-github-event', 'x-github-delivery'].includes(name) && value !== undefined) headers[name] = value;
      }
      for (const [name, value] of Object.entries(raw.headers)) if (value !== undefined) headers[name] = value;
      const event: APIGatewayProxyEventV2 = { ...recorded, headers: { ...headers, 'content-length': String(raw.body.length) }, body: raw.body.toString('base64'), isBase64Encoded: true };
      const result = await webhook(event);
      return { status: result.statusCode as number, text: result.body as string };
    },
  };

  for (const [target, send] of Object.entries(targets)) {
    cases.forEach((c, index) => {
      it(`${target}: ${c.name} → ${c.status}`, async () => {
        // Prepare
        const raw = await c.make(`corpus-${target}-${String(index).padStart(2, '0')}`);
        const before = bridge.api.objects.length;
        // Act
        const { result: answer, lines } = await captureLogs(() => send(raw));
        // Assess: the status and a clear word
        assert.equal(answer.status, c.status, answer.text);
        const body = JSON.parse(answer.text);
        if (c.status >= 400) {
          assert.equal(typeof body.error, 'string', answer.text);
          if (c.says) assert.match(body.error, c.says);
        } else if (c.says) {
          assert.match(body.results[0].reason, c.says);
        }
        // …what it created…
        const created = bridge.api.objects.slice(before);
        assert.equal(created.length, c.creates ?? 0, answer.text);
        if (c.check && created[0]) c.check(created[0]);
        // …and nothing secret or from the payload in the answer or the logs.
        const leaks = new RegExp([HARNESS_SECRET, 'k8s-aws-v1\\.', 'X-Amz-Signature', 'BEGIN (EC )?PRIVATE KEY', MARKER, 'Mallory', '提交'].join('|'));
        assert.doesNotMatch(answer.text, c.creates ? new RegExp([HARNESS_SECRET, 'k8s-aws-v1\\.', MARKER].join('|')) : leaks);
        assert.ok(lines.length > 0, 'the delivery was logged');
        assert.doesNotMatch(lines.join('\n'), leaks);
        const line = lines.map((l) => JSON.parse(l)).find((l) => /^delivery (handled|rejected)$/.test(l.message));
        assert.equal(line?.status, c.status, 'one log line with the status');
        if (c.status >= 400) assert.equal(line?.reason, body.error, 'the log line says why');
      });
    });
  }

  describe('a config that references a missing binding', () => {
    it('serve refuses to start, naming file, object and field', async () => {
      await assert.rejects(
        startBridge({ port: 0, host: '127.0.0.1', triggersDir: MISSING_BINDING, secret: HARNESS_SECRET, dryRun: true }, { stdout: () => {}, stderr: () => {}, env: {} }),
        /missing-binding\/github-push\.yaml: EventListener\/github-push: spec\.triggers\[0\]\.bindings\[0\]\.ref: no TriggerBinding named "github-push-binding"/,
      );
    });

    it('npm run build and cdk synth refuse to bundle it, so no Lambda ever runs with it', async () => {
      await assert.rejects(assertValidTriggers(MISSING_BINDING), /no TriggerBinding named "github-push-binding"/);
    });
  });
});
