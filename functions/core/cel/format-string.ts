import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { celTypeName, isCelType, mapEntries, timestampText } from './cel-values.ts';
import { byCodePoint } from '../go-json.ts';
import { CelFunctionError } from './register.ts';

/**
 * cel-go's `string.format` (strings extension, version 4 and later: the CEL spec's formatting): `%s %d %f %e %b %x %X
 * %o`, an optional precision (`%.3f`, at most 100), `%%` for a percent sign.
 */
export function formatString(format: string, args: unknown[]): string {
  let out = '';
  let argIndex = 0;
  for (let i = 0; i < format.length; ) {
    const char = format[i] as string;
    if (char !== '%') {
      out += char;
      i += 1;
      continue;
    }
    if (format[i + 1] === '%') {
      out += '%';
      i += 2;
      continue;
    }
    if (i + 1 >= format.length) throw new CelFunctionError('unexpected end of string');
    if (argIndex >= args.length) throw new CelFunctionError(`index ${argIndex} out of range`);
    const clause = readClause(format, i + 1);
    let text: string;
    try {
      text = clause.apply(args[argIndex]);
    } catch (error) {
      throw new CelFunctionError(`error during formatting: ${(error as Error).message}`);
    }
    out += text;
    i = clause.next;
    argIndex += 1;
  }
  return out;
}

const MAX_PRECISION = 100;

function readClause(format: string, start: number): { apply: (value: unknown) => string; next: number } {
  let i = start;
  let precision = 6;
  if (format[i] === '.') {
    i += 1;
    let digits = '';
    for (;;) {
      if (i >= format.length) throw new CelFunctionError('could not parse formatting clause: error while parsing precision: could not find end of precision specifier');
      if (!/[0-9]/.test(format[i] as string)) break;
      digits += format[i];
      i += 1;
    }
    if (digits === '') throw new CelFunctionError('could not parse formatting clause: error while parsing precision: error while converting precision to integer: invalid syntax');
    precision = Number(digits);
    if (precision > MAX_PRECISION) {
      throw new CelFunctionError(`could not parse formatting clause: error while parsing precision: precision ${precision} exceeds maximum allowed precision ${MAX_PRECISION}`);
    }
  }
  const verb = format[i] as string;
  const next = i + 1;
  switch (verb) {
    case 's':
      return { apply: formatAsString, next };
    case 'd':
      return { apply: formatDecimal, next };
    case 'f':
      return { apply: (value) => formatNumber(value, 'fixed-point', (x) => fixed(x, precision)), next };
    case 'e':
      return { apply: (value) => formatNumber(value, 'scientific', (x) => scientific(x, precision)), next };
    case 'b':
      return { apply: formatBinary, next };
    case 'x':
    case 'X':
      return { apply: (value) => formatHex(value, verb === 'X'), next };
    case 'o':
      return { apply: formatOctal, next };
    default:
      throw new CelFunctionError(`could not parse formatting clause: unrecognized formatting clause "${verb}"`);
  }
}

function integer(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (value instanceof UnsignedInt) return value.value;
  return undefined;
}

function special(x: number): string | undefined {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  return undefined;
}

export function formatAsString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const int = integer(value);
  if (int !== undefined) return int.toString();
  if (typeof value === 'number') return special(value) ?? shortestFixed(value);
  if (value === null || value === undefined) return 'null';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (value instanceof Date) return timestampText(value).replace(/\.(\d*?)0+Z$/, (_, digits: string) => (digits ? `.${digits}Z` : 'Z'));
  if (value instanceof Duration) return `${shortestFixed(Number(value.seconds) + value.nanos / 1e9)}s`;
  if (Array.isArray(value)) return `[${value.map(formatAsString).join(', ')}]`;
  if (isCelType(value)) return value.name;
  if (typeof value === 'object') {
    const entries = mapEntries(value).map(([key, item]) => [formatAsString(key), formatAsString(item)] as const);
    entries.sort(([a], [b]) => byCodePoint(a, b));
    return `{${entries.map(([key, item]) => `${key}: ${item}`).join(', ')}}`;
  }
  throw new CelFunctionError(`string clause can only be used on strings, bools, bytes, ints, doubles, maps, lists, types, durations, and timestamps, was given ${celTypeName(value)}`);
}

function formatDecimal(value: unknown): string {
  const int = integer(value);
  if (int !== undefined) return int.toString();
  if (typeof value === 'number') return special(value) ?? shortestFixed(value);
  throw new CelFunctionError(`decimal clause can only be used on ints, uints, and doubles, was given ${celTypeName(value)}`);
}

function formatNumber(value: unknown, clause: string, format: (x: number) => string): string {
  const int = integer(value);
  const x = int !== undefined ? Number(int) : typeof value === 'number' ? value : undefined;
  if (x === undefined) throw new CelFunctionError(`${clause} clause can only be used on ints, uints, and doubles, was given ${celTypeName(value)}`);
  return special(x) ?? format(x);
}

function formatBinary(value: unknown): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  const int = integer(value);
  if (int !== undefined) return int.toString(2);
  throw new CelFunctionError(`only ints, uints, and bools can be formatted as binary, was given ${celTypeName(value)}`);
}

function formatHex(value: unknown, upper: boolean): string {
  const int = integer(value);
  let text: string;
  if (int !== undefined) text = int.toString(16);
  else if (typeof value === 'string') text = Buffer.from(value, 'utf8').toString('hex');
  else if (value instanceof Uint8Array) text = Buffer.from(value).toString('hex');
  else throw new CelFunctionError(`only ints, uints, bytes, and strings can be formatted as hex, was given ${celTypeName(value)}`);
  return upper ? text.toUpperCase() : text;
}

function formatOctal(value: unknown): string {
  const int = integer(value);
  if (int !== undefined) return int.toString(8);
  throw new CelFunctionError(`octal clause can only be used on ints and uints, was given ${celTypeName(value)}`);
}

/** Go's strconv.FormatFloat(x, 'f', -1, 64): the shortest digits that read back as x, never in exponent form. */
function shortestFixed(x: number): string {
  if (Object.is(x, -0)) return '-0';
  const text = String(x);
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, sign, head, tail = '', exponentText] = match;
  const digits = `${head}${tail}`;
  const exponent = Number(exponentText);
  if (exponent >= 0) return `${sign}${digits.padEnd(exponent + 1, '0')}`;
  return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
}

/** The exact value of a finite double as an integer numerator over 2^shift. */
function exact(x: number): { numerator: bigint; shift: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  const power = (exponent === 0 ? 1 : exponent) - 1075;
  return power >= 0 ? { numerator: mantissa << BigInt(power), shift: 0n } : { numerator: mantissa, shift: BigInt(-power) };
}

/** numerator / 2^shift rounded to an integer, ties to even, as Go's fmt rounds the exact binary value. */
function roundHalfEven(numerator: bigint, shift: bigint): bigint {
  if (shift === 0n) return numerator;
  const quotient = numerator >> shift;
  const remainder = numerator - (quotient << shift);
  const half = 1n << (shift - 1n);
  if (remainder > half || (remainder === half && (quotient & 1n) === 1n)) return quotient + 1n;
  return quotient;
}

/** Go's %.Nf. */
function fixed(x: number, precision: number): string {
  const { numerator, shift } = exact(x);
  const scaled = roundHalfEven(numerator * 10n ** BigInt(precision), shift);
  const digits = scaled.toString().padStart(precision + 1, '0');
  const whole = digits.slice(0, digits.length - precision);
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  return precision === 0 ? `${sign}${whole}` : `${sign}${whole}.${digits.slice(digits.length - precision)}`;
}

/** Go's %1.Ne: one digit, the fraction, and an exponent of at least two digits. */
function scientific(x: number, precision: number): string {
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return `${sign}${precision === 0 ? '0' : `0.${'0'.repeat(precision)}`}e+00`;
  const { numerator, shift } = exact(x);
  let exponent = Math.floor(Math.log10(Math.abs(x)));
  let mantissa = 0n;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const power = precision - exponent;
    mantissa = power >= 0 ? roundHalfEven(numerator * 10n ** BigInt(power), shift) : roundDivide(numerator, shift, 10n ** BigInt(-power));
    const limit = 10n ** BigInt(precision + 1);
    if (mantissa >= limit) exponent += 1;
    else if (mantissa < limit / 10n) exponent -= 1;
    else break;
  }
  const digits = mantissa.toString();
  const body = precision === 0 ? digits : `${digits[0]}.${digits.slice(1)}`;
  const exponentText = `${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  return `${sign}${body}e${exponentText}`;
}

/** numerator / (2^shift × divisor), ties to even. */
function roundDivide(numerator: bigint, shift: bigint, divisor: bigint): bigint {
  const denominator = divisor << shift;
  const quotient = numerator / denominator;
  const remainder = numerator - quotient * denominator;
  const twice = remainder * 2n;
  if (twice > denominator || (twice === denominator && (quotient & 1n) === 1n)) return quotient + 1n;
  return quotient;
}
