import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';

/**
 * Values crossing into and out of the CEL library.
 *
 * In: the library tells a map by its constructor, so a JSON object with a key named `constructor` (which GitHub puts in
 * any payload that quotes one, e.g. a file list) would be refused as an unknown type. Such payloads are handed over as
 * the library's own Map type; all others are passed as they are, untouched and uncopied.
 *
 * Out: what Tekton's cel interceptor keeps of an overlay is the value as protobuf JSON (structpb) — ints become JSON
 * numbers, bytes base64 text, timestamps RFC 3339 text — so the bridge hands back plain JSON values the same way.
 */

const CONSTRUCTOR = 'constructor';

/** A JSON value as CEL can read it; iterative, so a payload nested thousands deep does not exhaust the stack. */
export function toCelValue(value: unknown): unknown {
  return needsMaps(value) ? toMaps(value) : value;
}

function needsMaps(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === null || typeof item !== 'object') continue;
    if (Array.isArray(item)) {
      for (const element of item) if (element !== null && typeof element === 'object') stack.push(element);
      continue;
    }
    if (item instanceof Map) return true;
    if (Object.hasOwn(item, CONSTRUCTOR)) return true;
    for (const key in item) {
      const child = (item as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return false;
}

function toMaps(value: unknown): unknown {
  const convert = (item: unknown): unknown => {
    if (item === null || typeof item !== 'object' || item instanceof Uint8Array) return item;
    return Array.isArray(item) ? new Array<unknown>(item.length) : new Map<string, unknown>();
  };
  const root = convert(value);
  const stack: Array<[unknown, unknown]> = [[value, root]];
  while (stack.length > 0) {
    const [source, target] = stack.pop() as [unknown, unknown];
    if (Array.isArray(source)) {
      const list = target as unknown[];
      source.forEach((element, i) => {
        const converted = convert(element);
        list[i] = converted;
        if (converted !== element) stack.push([element, converted]);
      });
    } else if (target instanceof Map) {
      const entries = source instanceof Map ? [...source.entries()] : Object.entries(source as object);
      for (const [key, element] of entries) {
        const converted = convert(element);
        target.set(key, converted);
        if (converted !== element) stack.push([element, converted]);
      }
    }
  }
  return root;
}

export class JsonConversionError extends Error {
  override readonly name = 'JsonConversionError';
}

/** A CEL result as the plain JSON value Tekton renders from it. */
export function toJsonValue(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'bigint':
      return Number(value);
    case 'number':
      if (!Number.isFinite(value)) throw new JsonConversionError(`${value} has no JSON form`);
      return value;
    case 'undefined':
      return null;
    case 'object':
      break;
    default:
      throw new JsonConversionError(`a ${typeof value} has no JSON form`);
  }
  if (value === null) return null;
  if (value instanceof UnsignedInt) return Number(value.value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof Date) return timestampText(value);
  if (value instanceof Duration) return durationText(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value instanceof Set) return [...value].map(toJsonValue);
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value);
  if (value instanceof Map || Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
    return Object.fromEntries(
      entries.map(([key, item]) => {
        if (typeof key !== 'string') throw new JsonConversionError(`a map key of type ${typeof key} has no JSON form`);
        return [key, toJsonValue(item)];
      }),
    );
  }
  throw new JsonConversionError(`a ${(value as object).constructor?.name ?? 'value'} has no JSON form`);
}

/** protojson's Timestamp: RFC 3339 in UTC, fractional seconds only when present. */
export function timestampText(date: Date): string {
  const iso = date.toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** protojson's Duration: seconds, and 3, 6 or 9 fractional digits when there are nanoseconds. */
function durationText(duration: Duration): string {
  const { seconds, nanos } = duration;
  if (nanos === 0) return `${seconds}s`;
  const negative = seconds < 0n || nanos < 0;
  let fraction = String(Math.abs(nanos)).padStart(9, '0');
  while (fraction.endsWith('000')) fraction = fraction.slice(0, -3);
  const whole = seconds < 0n ? -seconds : seconds;
  return `${negative ? '-' : ''}${whole}.${fraction}s`;
}

/** CEL's equality: numbers compare across int, uint and double; lists and maps element by element. */
export function celEquals(a: unknown, b: unknown): boolean {
  const left = numeric(a);
  const right = numeric(b);
  if (left !== undefined || right !== undefined) {
    if (left === undefined || right === undefined) return false;
    if (typeof left === 'number' && Number.isNaN(left)) return false;
    if (typeof right === 'number' && Number.isNaN(right)) return false;
    // == compares a bigint with a number by value.
    return left == right;
  }
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.from(a).equals(Buffer.from(b));
  }
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Duration || b instanceof Duration) {
    return a instanceof Duration && b instanceof Duration && a.seconds === b.seconds && a.nanos === b.nanos;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => celEquals(item, b[i]));
  }
  const leftEntries = mapEntries(a);
  const rightMap = new Map(mapEntries(b));
  if (leftEntries.length !== rightMap.size) return false;
  return leftEntries.every(([key, item]) => rightMap.has(key) && celEquals(item, rightMap.get(key)));
}

function numeric(value: unknown): number | bigint | undefined {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (value instanceof UnsignedInt) return value.value;
  return undefined;
}

export function mapEntries(value: object): Array<[unknown, unknown]> {
  return value instanceof Map ? [...value.entries()] : Object.entries(value);
}

/** The CEL type name of a value, for messages. */
export function celTypeName(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'bigint':
      return 'int';
    case 'number':
      return 'double';
    case 'boolean':
      return 'bool';
    default:
  }
  if (value === null || value === undefined) return 'null_type';
  if (value instanceof UnsignedInt) return 'uint';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof Date) return 'google.protobuf.Timestamp';
  if (value instanceof Duration) return 'google.protobuf.Duration';
  if (Array.isArray(value) || value instanceof Set) return 'list';
  if (isCelType(value)) return 'type';
  return 'map';
}

/** A type value such as `type(1)`; the library tags them `Type<int>`. */
export function isCelType(value: unknown): value is { name: string } {
  return typeof value === 'object' && value !== null && Object.prototype.toString.call(value).startsWith('[object Type<');
}
