/** The bridge's GitHub credentials: a token (commit statuses) or a GitHub App (check runs). */
export type GithubCredentials = { mode: 'token'; token: string } | { mode: 'app'; appId: string; privateKey: string };

export type ParsedCredentials = { ok: true; credentials: GithubCredentials } | { ok: 'empty' } | { ok: false; reason: string };

const FILL = 'expected {"token": "…"} or {"appId": "123", "privateKey": "-----BEGIN RSA PRIVATE KEY-----…"}';

/**
 * The credentials secret's JSON. Empty (`""` or `{}`, as a freshly created secret is) means "not filled in yet".
 * Reasons name fields, never their values.
 */
export function parseGithubCredentials(text: string | undefined): ParsedCredentials {
  if (text === undefined || text.trim() === '') return { ok: 'empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: `the GitHub credentials are not JSON: ${FILL}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: `the GitHub credentials are not a JSON object: ${FILL}` };
  const fields = value as Record<string, unknown>;
  if (Object.keys(fields).length === 0) return { ok: 'empty' };
  if (fields.token !== undefined) {
    if (fields.appId !== undefined || fields.privateKey !== undefined) return { ok: false, reason: 'the GitHub credentials hold both a token and an App: keep one' };
    if (typeof fields.token !== 'string' || fields.token.trim() === '' || /\s/.test(fields.token.trim())) return { ok: false, reason: 'the GitHub credentials\' "token" is not a token' };
    return { ok: true, credentials: { mode: 'token', token: fields.token.trim() } };
  }
  const appId = typeof fields.appId === 'number' ? String(fields.appId) : fields.appId;
  if (typeof appId !== 'string' || !/^[1-9][0-9]*$/.test(appId)) return { ok: false, reason: `the GitHub credentials' "appId" is missing or not a number: ${FILL}` };
  const { privateKey } = fields;
  if (typeof privateKey !== 'string' || !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(privateKey)) {
    return { ok: false, reason: 'the GitHub credentials\' "privateKey" is missing or not a PEM private key (the .pem file GitHub made for the App)' };
  }
  // A key pasted through a single-line form arrives with literal "\n" in it.
  return { ok: true, credentials: { mode: 'app', appId, privateKey: privateKey.includes('\n') ? privateKey : privateKey.replace(/\\n/g, '\n') } };
}
