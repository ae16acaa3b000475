import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sign } from '@octokit/webhooks-methods';
import { verifyDelivery as verifyBytes } from '../../functions/core/verify-delivery.ts';

const verifyDelivery = async (body: string, headers: Record<string, string>, secrets: string[]) => verifyBytes(Buffer.from(body), headers, secrets);

describe('verifyDelivery', () => {
  it("accepts GitHub's documented example (secret \"It's a Secret to Everybody\", body \"Hello, World!\")", async () => {
    // Prepare: the values from GitHub's "Validating webhook deliveries" page
    const headers = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };

    // Act
    const check = await verifyDelivery('Hello, World!', headers, ["It's a Secret to Everybody"]);

    // Assess
    assert.deepEqual(check, { valid: true });
  });

  const wrong = 'sha256=' + '0'.repeat(64);
  const cases: { name: string; headers: Record<string, string>; reason: RegExp }[] = [
    { name: 'missing', headers: {}, reason: /missing/ },
    { name: 'sha1 only', headers: { 'x-hub-signature': 'sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0' }, reason: /sha1/ },
    { name: 'malformed', headers: { 'x-hub-signature-256': 'sha256=xyz' }, reason: /malformed/ },
    { name: 'sha1 value in the sha256 header', headers: { 'x-hub-signature-256': 'sha1=0a4d55a8d778e5022fab701977c5d840bbc486d0' }, reason: /malformed/ },
    { name: 'upper-case hex', headers: { 'x-hub-signature-256': 'sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17' }, reason: /malformed/ },
    { name: 'wrong', headers: { 'x-hub-signature-256': wrong }, reason: /does not match/ },
  ];
  for (const { name, headers, reason } of cases) {
    it(`rejects a signature that is ${name}`, async () => {
      const check = await verifyDelivery('Hello, World!', headers, ["It's a Secret to Everybody"]);
      assert.equal(check.valid, false);
      assert.match(check.valid ? '' : check.reason, reason);
    });
  }

  it('accepts the previous secret during a rotation, and rejects when neither matches', async () => {
    const headers = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    assert.deepEqual(await verifyDelivery('Hello, World!', headers, ['new-secret', "It's a Secret to Everybody"]), { valid: true });
    assert.equal((await verifyDelivery('Hello, World!', headers, ['new-secret', 'older-secret'])).valid, false);
  });

  it('accepts what @octokit/webhooks-methods signs, for ASCII, unicode and form bodies', async () => {
    for (const body of ['{"a":1}', '{"msg":"ünïcødé ☃ 𝄞"}', 'payload=%7B%22a%22%3A1%7D']) {
      assert.deepEqual(await verifyDelivery(body, { 'x-hub-signature-256': await sign('s', body) }, ['s']), { valid: true }, body);
    }
  });

  it('rejects a body changed by one byte', async () => {
    const headers = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    assert.equal((await verifyDelivery('Hello, World?', headers, ["It's a Secret to Everybody"])).valid, false);
  });

  it('refuses to verify with an empty or whitespace secret: a misuse, since anyone can sign with one', () => {
    for (const secrets of [[], [''], ['  '], ['real-secret', '\t']]) {
      assert.throws(() => verifyBytes(Buffer.from('{}'), { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, secrets), /^TypeError: \[tekton-bridge\] verifyDelivery needs at least one secret, none of them empty or whitespace$/);
    }
  });
});
