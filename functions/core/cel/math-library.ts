import type { Environment } from '@marcbachmann/cel-js';
import { UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { celTypeName } from './cel-values.ts';
import { CelFunctionError, registerNamespace, type RegisterOverload } from './register.ts';

/** As many arguments as the library allows in one call. */
export const MAX_MATH_ARGUMENTS = 32;

const MIN_INT = -(2n ** 63n);

/** cel-go's Math extension at the version Tekton loads: greatest and least, rounding, signs, bits, sqrt. */
export function registerMathLibrary(environment: Environment, register: RegisterOverload): void {
  const math = registerNamespace(environment, 'math');
  for (const [name, pick] of [
    ['greatest', 1],
    ['least', -1],
  ] as const) {
    register(`${math}.${name}(dyn): dyn`, (_ns: unknown, value: unknown) => extreme(name, Array.isArray(value) ? value : [value], pick, Array.isArray(value)));
    for (let count = 2; count <= MAX_MATH_ARGUMENTS; count += 1) {
      const params = Array.from({ length: count }, () => 'dyn').join(', ');
      register(`${math}.${name}(${params}): dyn`, (_ns: unknown, ...values: unknown[]) => extreme(name, values, pick, false));
    }
  }
  const double = (name: string, fn: (x: number) => number | boolean, result = 'double'): void => {
    register(`${math}.${name}(double): ${result}`, (_ns: unknown, x: number) => fn(x));
  };
  double('ceil', Math.ceil);
  double('floor', Math.floor);
  double('round', roundHalfAwayFromZero);
  double('trunc', Math.trunc);
  double('isInf', (x) => x === Infinity || x === -Infinity, 'bool');
  double('isNaN', Number.isNaN, 'bool');
  double('isFinite', Number.isFinite, 'bool');
  double('abs', Math.abs);
  register(`${math}.abs(int): int`, (_ns: unknown, x: bigint) => {
    if (x === MIN_INT) throw new CelFunctionError('integer overflow');
    return x < 0n ? -x : x;
  });
  register(`${math}.abs(uint): uint`, (_ns: unknown, x: UnsignedInt) => x);
  double('sign', (x) => (Number.isNaN(x) ? x : x > 0 ? 1 : x < 0 ? -1 : 0));
  register(`${math}.sign(int): int`, (_ns: unknown, x: bigint) => (x > 0n ? 1n : x < 0n ? -1n : 0n));
  register(`${math}.sign(uint): uint`, (_ns: unknown, x: UnsignedInt) => new UnsignedInt(x.value === 0n ? 0n : 1n));
  double('sqrt', Math.sqrt);
  register(`${math}.sqrt(int): double`, (_ns: unknown, x: bigint) => Math.sqrt(Number(x)));
  register(`${math}.sqrt(uint): double`, (_ns: unknown, x: UnsignedInt) => Math.sqrt(Number(x.value)));

  const int64 = (x: bigint): bigint => BigInt.asIntN(64, x);
  const uint64 = (x: bigint): UnsignedInt => new UnsignedInt(BigInt.asUintN(64, x));
  for (const [name, op] of [
    ['bitAnd', (a: bigint, b: bigint) => a & b],
    ['bitOr', (a: bigint, b: bigint) => a | b],
    ['bitXor', (a: bigint, b: bigint) => a ^ b],
  ] as const) {
    register(`${math}.${name}(int, int): int`, (_ns: unknown, a: bigint, b: bigint) => int64(op(a, b)));
    register(`${math}.${name}(uint, uint): uint`, (_ns: unknown, a: UnsignedInt, b: UnsignedInt) => uint64(op(a.value, b.value)));
  }
  register(`${math}.bitNot(int): int`, (_ns: unknown, a: bigint) => int64(~a));
  register(`${math}.bitNot(uint): uint`, (_ns: unknown, a: UnsignedInt) => uint64(~a.value));
  const shift = (name: string, bits: bigint): bigint => {
    if (bits < 0n) throw new CelFunctionError(`math.${name}() negative offset: ${bits}`);
    return bits;
  };
  register(`${math}.bitShiftLeft(int, int): int`, (_ns: unknown, a: bigint, bits: bigint) => (shift('bitShiftLeft', bits) >= 64n ? 0n : int64(a << bits)));
  register(`${math}.bitShiftLeft(uint, int): uint`, (_ns: unknown, a: UnsignedInt, bits: bigint) => uint64(shift('bitShiftLeft', bits) >= 64n ? 0n : a.value << bits));
  // Go shifts an int right as an unsigned value: no sign extension.
  register(`${math}.bitShiftRight(int, int): int`, (_ns: unknown, a: bigint, bits: bigint) => (shift('bitShiftRight', bits) >= 64n ? 0n : int64(BigInt.asUintN(64, a) >> bits)));
  register(`${math}.bitShiftRight(uint, int): uint`, (_ns: unknown, a: UnsignedInt, bits: bigint) => uint64(shift('bitShiftRight', bits) >= 64n ? 0n : a.value >> bits));
}

/** Go's math.Round: halves away from zero (JavaScript's Math.round takes -2.5 to -2). */
function roundHalfAwayFromZero(x: number): number {
  const whole = Math.trunc(x);
  return Math.abs(x - whole) >= 0.5 ? whole + Math.sign(x) : whole;
}

function numericValue(value: unknown): number | bigint | undefined {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (value instanceof UnsignedInt) return value.value;
  return undefined;
}

/** The greatest (pick 1) or least (pick -1) of numbers of any numeric type; the value keeps its own type. */
function extreme(name: string, values: unknown[], pick: 1 | -1, fromList: boolean): unknown {
  if (values.length === 0) throw new CelFunctionError(`math.@${pick === 1 ? 'max' : 'min'}(list) argument must not be empty`);
  let best: unknown;
  let bestValue: number | bigint | undefined;
  for (const value of values) {
    const number = numericValue(value);
    if (number === undefined) throw new CelFunctionError(`no such overload: math.${name}(${fromList ? 'list' : celTypeName(value)})`);
    if (typeof number === 'number' && Number.isNaN(number)) return value;
    if (bestValue === undefined || (pick === 1 ? number > bestValue : number < bestValue)) {
      best = value;
      bestValue = number;
    }
  }
  return best;
}
