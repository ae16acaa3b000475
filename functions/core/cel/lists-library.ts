import type { Environment } from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { celEquals, celTypeName } from './cel-values.ts';
import { CelFunctionError, registerNamespace, type RegisterOverload } from './register.ts';
import { byCodePoint } from '../go-json.ts';

const MAX_RANGE = 1_000_000;

/** cel-go's Lists and Sets extensions, at the versions Tekton loads. */
export function registerListsLibrary(environment: Environment, register: RegisterOverload): void {
  register('list.slice(int, int): list', (list: unknown[], start: bigint, end: bigint) => {
    if (start < 0n || end < 0n) throw new CelFunctionError(`cannot slice(${start}, ${end}), negative indexes not supported`);
    if (start > end) throw new CelFunctionError(`cannot slice(${start}, ${end}), start index must be less than or equal to end index`);
    if (BigInt(list.length) < end) throw new CelFunctionError(`cannot slice(${start}, ${end}), list is length ${list.length}`);
    return list.slice(Number(start), Number(end));
  });
  register('list.flatten(): list', (list: unknown[]) => flatten(list, 1n));
  register('list.flatten(int): list', flatten);
  register('list.sort(): list', (list: unknown[]) => sortByKeys(list, list));
  register('list.sortBy(ast, ast): list', sortByMacro);
  register('list.reverse(): list', (list: unknown[]) => [...list].reverse());
  register('list.distinct(): list', (list: unknown[]) => {
    const unique: unknown[] = [];
    for (const item of list) if (!unique.some((seen) => celEquals(item, seen))) unique.push(item);
    return unique;
  });
  const lists = registerNamespace(environment, 'lists');
  register(`${lists}.range(int): list<int>`, (_ns: unknown, n: bigint) => {
    if (n < 0n) throw new CelFunctionError(`lists.range: size must be non-negative, got ${n}`);
    if (n > BigInt(MAX_RANGE)) throw new CelFunctionError(`lists.range: size ${n} exceeds maximum allowed (${MAX_RANGE})`);
    return Array.from({ length: Number(n) }, (_, i) => BigInt(i));
  });

  const sets = registerNamespace(environment, 'sets');
  const contains = (list: unknown[], sublist: unknown[]): boolean => sublist.every((item) => list.some((other) => celEquals(item, other)));
  register(`${sets}.contains(list, list): bool`, (_ns: unknown, list: unknown[], sublist: unknown[]) => contains(list, sublist));
  register(`${sets}.equivalent(list, list): bool`, (_ns: unknown, a: unknown[], b: unknown[]) => contains(a, b) && contains(b, a));
  register(`${sets}.intersects(list, list): bool`, (_ns: unknown, a: unknown[], b: unknown[]) => a.some((item) => b.some((other) => celEquals(item, other))));
}

interface MacroCall {
  args: AstNode[];
  receiver: AstNode;
}
interface AstNode {
  op: string;
  args: unknown;
}
interface TypeDeclaration {
  kind: string;
  valueType?: TypeDeclaration;
}
interface MacroContext {
  forkWithVariable(name: string, type: TypeDeclaration): MacroContext;
  reuse(ctx: MacroContext): MacroContext;
  setIterValue(value: unknown, evaluator: unknown): MacroContext;
}
interface Checker {
  check(node: AstNode, ctx: MacroContext): TypeDeclaration;
  getType(name: string): TypeDeclaration;
}
interface Evaluator {
  run(node: AstNode, ctx: MacroContext): unknown;
}

/**
 * cel-go's `sortBy(var, key)` macro: the list ordered by the key each element gives. Built the way cel-js builds its
 * own `cel.bind` macro: the key expression is checked and evaluated with the variable bound to each element.
 */
function sortByMacro({ args, receiver }: MacroCall) {
  const [variable, key] = args as [AstNode, AstNode];
  if (variable.op !== 'id') throw new CelFunctionError('sortBy(var, key) invalid iteration variable');
  const macro = {
    async: false,
    keyContext: undefined as MacroContext | undefined,
    typeCheck(checker: Checker, _macro: unknown, ctx: MacroContext): TypeDeclaration {
      const listType = checker.check(receiver, ctx);
      const element = listType.kind === 'list' && listType.valueType ? listType.valueType : checker.getType('dyn');
      macro.keyContext = ctx.forkWithVariable(variable.args as string, element);
      checker.check(key, macro.keyContext);
      return listType.kind === 'list' ? listType : checker.getType('list');
    },
    evaluate(evaluator: Evaluator, _macro: unknown, ctx: MacroContext): unknown[] {
      const list = evaluator.run(receiver, ctx);
      if (!Array.isArray(list)) throw new CelFunctionError(`sortBy() applies to a list, not a ${celTypeName(list)}`);
      const keyContext = macro.keyContext as MacroContext;
      const keys = list.map((item) => evaluator.run(key, keyContext.reuse(ctx).setIterValue(item, evaluator)));
      return sortByKeys(list, keys);
    },
  };
  return macro;
}

function flatten(list: unknown[], depth: bigint): unknown[] {
  if (depth < 0n) throw new CelFunctionError('level must be non-negative');
  const out: unknown[] = [];
  for (const item of list) {
    if (Array.isArray(item) && depth > 0n) out.push(...flatten(item, depth - 1n));
    else out.push(item);
  }
  return out;
}

/** cel-go's sort: elements of one comparable type, in CEL's order for that type. */
export function sortByKeys(list: unknown[], keys: unknown[]): unknown[] {
  if (list.length !== keys.length) {
    throw new CelFunctionError(`@sortByAssociatedKeys() expected a list of the same size as the associated keys list, but got ${list.length} and ${keys.length} elements respectively`);
  }
  if (list.length === 0) return list;
  const type = celTypeName(keys[0]);
  if (!COMPARABLE.has(type)) throw new CelFunctionError('list elements must be comparable');
  for (const key of keys) if (celTypeName(key) !== type) throw new CelFunctionError('list elements must have the same type');
  const order = keys.map((_, i) => i).sort((a, b) => compare(keys[a], keys[b]));
  return order.map((i) => list[i]);
}

const COMPARABLE = new Set(['int', 'uint', 'double', 'bool', 'string', 'bytes', 'google.protobuf.Duration', 'google.protobuf.Timestamp']);

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'string' && typeof b === 'string') return byCodePoint(a, b);
  const left = comparable(a);
  const right = comparable(b);
  if (left < right) return -1;
  if (left > right) return 1;
  return 0;
}

function comparable(value: unknown): string | number | bigint {
  if (value instanceof UnsignedInt) return value.value;
  if (value instanceof Date) return value.getTime();
  if (value instanceof Duration) return value.seconds * 1_000_000_000n + BigInt(value.nanos);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value as number | bigint;
}
