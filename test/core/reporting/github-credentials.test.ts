import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGithubCredentials } from '../../../functions/core/reporting/github-credentials.ts';

const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n';

describe('parseGithubCredentials', () => {
  it('a token, or an App id and key; a key pasted on one line gets its newlines back', () => {
    assert.deepEqual(parseGithubCredentials('{"token":" ghp_abc "}'), { ok: true, credentials: { mode: 'token', token: 'ghp_abc' } });
    assert.deepEqual(parseGithubCredentials(JSON.stringify({ appId: 123, privateKey: PEM })), { ok: true, credentials: { mode: 'app', appId: '123', privateKey: PEM } });
    assert.deepEqual(parseGithubCredentials(JSON.stringify({ appId: '123', privateKey: PEM.replace(/\n/g, '\\n') })), { ok: true, credentials: { mode: 'app', appId: '123', privateKey: PEM } });
  });

  it('an empty secret is "not filled in yet", not an error', () => {
    for (const text of [undefined, '', '  ', '{}']) assert.deepEqual(parseGithubCredentials(text), { ok: 'empty' });
  });

  it('says which field is wrong, never its value', () => {
    const rows: Array<[string, RegExp]> = [
      ['ghp_secretvalue', /not JSON/],
      ['["ghp_secretvalue"]', /not a JSON object/],
      ['{"token":"ghp_secret value"}', /"token" is not a token/],
      ['{"token":"ghp_secretvalue","appId":"1"}', /both/],
      ['{"appId":"x1","privateKey":"k"}', /"appId"/],
      ['{"appId":"1","privateKey":"ghp_secretvalue"}', /"privateKey"/],
    ];
    for (const [text, reason] of rows) {
      const parsed = parseGithubCredentials(text);
      assert.equal(parsed.ok, false, text);
      const message = parsed.ok === false ? parsed.reason : '';
      assert.match(message, reason);
      assert.doesNotMatch(message, /secret ?value/);
    }
  });
});
