import type { Environment } from '@marcbachmann/cel-js';
import { goJson } from '../go-json.ts';
import { toJsonValue } from './cel-values.ts';
import { CelFunctionError, registerNamespace, type RegisterOverload } from './register.ts';

/** cel-go's Encoders extension: `base64.decode`, `base64.encode` and `json.encode`. */
export function registerEncodersLibrary(environment: Environment, register: RegisterOverload): void {
  const base64 = registerNamespace(environment, 'base64');
  register(`${base64}.decode(string): bytes`, (_ns: unknown, text: string) => decodeBase64(text));
  register(`${base64}.encode(bytes): string`, (_ns: unknown, bytes: Uint8Array) => Buffer.from(bytes).toString('base64'));
  const json = registerNamespace(environment, 'json');
  register(`${json}.encode(dyn): string`, (_ns: unknown, value: unknown) => goJson(toJsonValue(value)));
}

const PADDED = /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UNPADDED = /^[A-Za-z0-9+/]*$/;

/**
 * Go's base64.StdEncoding, then RawStdEncoding when the padding is what is wrong, as cel-go decodes: strict about
 * the alphabet (Node's decoder skips what it does not know), line breaks ignored.
 */
export function decodeBase64(text: string): Uint8Array {
  const stripped = text.replace(/[\r\n]/g, '');
  if ((PADDED.test(stripped) && stripped.length % 4 === 0) || (UNPADDED.test(stripped) && stripped.length % 4 !== 1)) {
    return new Uint8Array(Buffer.from(stripped, 'base64'));
  }
  const bad = [...stripped].findIndex((char) => !/[A-Za-z0-9+/=]/.test(char));
  throw new CelFunctionError(`illegal base64 data at input byte ${bad >= 0 ? bad : stripped.length}`);
}
