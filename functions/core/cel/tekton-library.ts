import { timingSafeEqual } from 'node:crypto';
import { goJson } from '../go-json.ts';
import { toCelValue, toJsonValue } from './cel-values.ts';
import { TriggerSecretError, type CelScopeSlot } from './evaluation-scope.ts';
import { firstHeaderValue } from './go-header.ts';
import type { RegexCompiler } from './go-regexp.ts';
import { parseUrlAsTekton } from './go-url.ts';
import { parseYamlAsTekton, type YamlModule } from './go-yaml.ts';
import { decodeBase64 } from './encoders-library.ts';
import { CelFunctionError, type RegisterOverload } from './register.ts';

export interface TektonLibraryDependencies {
  slot: CelScopeSlot;
  regex: () => RegexCompiler;
  yaml: () => YamlModule;
}

/** Tekton Triggers' own CEL functions (pkg/interceptors/cel/triggers.go), with Tekton's semantics. */
export function registerTektonLibrary(register: RegisterOverload, deps: TektonLibraryDependencies): void {
  register('map.match(string, string): bool', (header: unknown, name: string, value: string) => firstHeaderValue(header, name) === value);
  register('map.canonical(string): string', (header: unknown, name: string) => firstHeaderValue(header, name));
  register('string.truncate(int): string', truncate);

  const compareSecret = (value: string, secretKey: string, secretName: string): boolean => {
    const store = deps.slot.scope?.triggerSecrets;
    if (!store) {
      throw new TriggerSecretError(`compareSecret: no trigger secrets are configured, so key "${secretKey}" of secret "${secretName}" cannot be read`);
    }
    const secret = store(secretName, secretKey);
    if (secret === undefined) throw new TriggerSecretError(`compareSecret: the trigger secrets have no key "${secretKey}" in secret "${secretName}"`);
    const left = Buffer.from(secret, 'utf8');
    const right = Buffer.from(value, 'utf8');
    return left.length === right.length && timingSafeEqual(left, right);
  };
  register('string.compareSecret(string, string): bool', compareSecret);
  // As in Tekton v0.37, the third argument (a namespace) selects nothing: the secret is read where the listener is.
  register('string.compareSecret(string, string, string): bool', (value: string, secretKey: string, secretName: string) => compareSecret(value, secretKey, secretName));

  register('string.parseJSON(): map<string, dyn>', (text: string) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CelFunctionError(`failed to decode JSON in parseJSON: ${(error as Error).message}`);
    }
    if (value === null) return new Map();
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new CelFunctionError(`failed to decode JSON in parseJSON: the text holds ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}, not an object`);
    }
    return toCelValue(value);
  });
  register('string.parseYAML(): map<string, dyn>', (text: string) => toCelValue(parseYamlAsTekton(deps.yaml(), text)));
  register('string.parseURL(): map<string, dyn>', (text: string) => {
    try {
      return toCelValue(parseUrlAsTekton(text));
    } catch (error) {
      throw new CelFunctionError(`failed to decode the URL in parseURL: ${(error as Error).message}`);
    }
  });
  register('map.marshalJSON(): string', marshalJson);
  register('list.marshalJSON(): string', marshalJson);
  register('list.first(): dyn', (list: unknown[]) => (list.length === 0 ? null : list[0]));
  register('list.last(): dyn', (list: unknown[]) => (list.length === 0 ? null : list[list.length - 1]));
  register('string.translate(string, string): string', (text: string, pattern: string, replacement: string) => {
    let regexp;
    try {
      regexp = deps.regex()(pattern);
    } catch (error) {
      throw new CelFunctionError(`failed to parse regular expression for translation: ${(error as Error).message}`);
    }
    return regexp.replaceAllString(text, replacement);
  });
  // Removed from Tekton; kept so older configs still load (`check` warns and names base64.decode).
  register('string.decodeb64(): string', (text: string) => Buffer.from(decodeBase64(text)).toString('utf8'));
}

/** Tekton's truncate counts bytes, as Go slices a string; a character cut in two becomes U+FFFD per byte left. */
function truncate(text: string, length: bigint): string {
  if (length < 0n) throw new CelFunctionError(`truncate: negative length ${length}`);
  const bytes = Buffer.from(text, 'utf8');
  if (BigInt(bytes.length) <= length) return text;
  const cut = bytes.subarray(0, Number(length));
  let complete = cut.length;
  // Step back over a trailing, incomplete UTF-8 sequence.
  for (let back = 1; back <= Math.min(3, cut.length); back += 1) {
    const byte = cut[cut.length - back] as number;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    if (needed > back) complete = cut.length - back;
    break;
  }
  return cut.subarray(0, complete).toString('utf8') + '\ufffd'.repeat(cut.length - complete);
}

function marshalJson(value: unknown): string {
  return goJson(toJsonValue(value));
}
