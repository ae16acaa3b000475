import { Environment } from '@marcbachmann/cel-js';
import { timingSafeEqual } from 'node:crypto';

/**
 * The variables a Tekton Triggers CEL interceptor sees. `header` is keyed by canonical header name
 * (`X-Github-Event`) with a list of values, as Go's http.Header is.
 */
export interface CelContext {
  body: unknown;
  header: Record<string, string[]>;
  extensions: Record<string, unknown>;
  requestURL: string;
}

export type CelProgram = ((context: CelContext) => unknown) & { source: string };

/**
 * `compareSecret` compares against the webhook secrets of the delivery being evaluated. CEL handlers are
 * registered once per environment, so the secrets of the current delivery are handed over through this slot,
 * set right before the (synchronous) evaluation.
 */
export interface SecretSlot {
  secrets: readonly string[];
}

export function canonicalHeaderName(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('-');
}

function headerValues(header: unknown, name: string): string[] {
  if (header instanceof Map) return (header.get(canonicalHeaderName(name)) as string[] | undefined) ?? [];
  return (header as Record<string, string[]>)[canonicalHeaderName(name)] ?? [];
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function celString(value: string, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${what} expects a string`);
  return value;
}

/** A CEL environment with the Tekton Triggers extensions that GitHub users write. */
export function createCelEnvironment(secretSlot: SecretSlot): Environment {
  return new Environment({ homogeneousAggregateLiterals: false })
    .registerVariable('body', 'dyn')
    .registerVariable('header', 'map')
    .registerVariable('extensions', 'map')
    .registerVariable('requestURL', 'string')
    .registerFunction('map.match(string, string): bool', (header: unknown, name: string, value: string) =>
      headerValues(header, name).includes(value),
    )
    .registerFunction('map.canonical(string): string', (header: unknown, name: string) => headerValues(header, name)[0] ?? '')
    .registerFunction('string.truncate(int): string', (value: string, length: bigint) =>
      Array.from(value).slice(0, Number(length)).join(''),
    )
    .registerFunction('string.parseJSON(): dyn', (value: string) => JSON.parse(celString(value, 'parseJSON')))
    .registerFunction('string.parseURL(): map', (value: string) => {
      const url = new URL(value);
      return {
        scheme: url.protocol.replace(/:$/, ''),
        host: url.host,
        path: url.pathname,
        rawQuery: url.search.replace(/^\?/, ''),
        fragment: url.hash.replace(/^#/, ''),
        query: Object.fromEntries(url.searchParams),
        queryStrings: Object.fromEntries([...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k)])),
        auth: { username: url.username, password: url.password },
      };
    })
    .registerFunction('string.decodeb64(): string', (value: string) => Buffer.from(value, 'base64').toString('utf8'))
    .registerFunction('dyn.marshalJSON(): string', (value: unknown) => JSON.stringify(toJson(value)))
    .registerFunction('string.compareSecret(string, string): bool', (value: string) =>
      secretSlot.secrets.some((secret) => safeEqual(value, secret)),
    )
    .registerFunction('string.compareSecret(string, string, string): bool', (value: string) =>
      secretSlot.secrets.some((secret) => safeEqual(value, secret)),
    );
}

/** CEL values back to JSON: ints are BigInt and maps may be Map in cel-js. */
export function toJson(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJson(v)]));
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value;
}

export type CelCompileResult = { ok: true; program: CelProgram } | { ok: false; message: string };

/** Parses and type-checks once, at config load; evaluation later reuses the parsed program. */
export function compileCel(environment: Environment, source: string): CelCompileResult {
  try {
    const parsed = environment.parse(source);
    const check = parsed.check();
    if (!check.valid) return { ok: false, message: firstLine(check.error?.message ?? 'type error') };
    const program = Object.assign((context: CelContext) => parsed(context as unknown as Record<string, unknown>), { source });
    return { ok: true, program };
  } catch (error) {
    return { ok: false, message: firstLine((error as Error).message) };
  }
}

export function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}
