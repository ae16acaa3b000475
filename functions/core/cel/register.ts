import type { Environment } from '@marcbachmann/cel-js';

/** A CEL function implementation; `this` is the library's evaluator. */
export type CelHandler = (...args: any[]) => unknown;

/** Registers one overload, e.g. `string.truncate(int): string`. */
export type RegisterOverload = (signature: string, handler: CelHandler) => void;

export function registrar(environment: Environment): RegisterOverload {
  return (signature, handler) => {
    environment.registerFunction(signature, handler);
  };
}

/**
 * cel-js ships its own versions of some functions that cel-go's extensions define differently (ASCII-only
 * `lowerAscii`, indices in characters rather than UTF-16 units, RE2 `matches`, Go's `strings.SplitN`…). The bridge
 * registers cel-go's versions under a reserved prefix and points member calls of these names at them when it compiles
 * an expression.
 */
export const INTERNAL_PREFIX = '__tb_';

export const REPLACED_MEMBER_FUNCTIONS = new Set(['lowerAscii', 'upperAscii', 'trim', 'indexOf', 'lastIndexOf', 'substring', 'matches', 'split', 'join']);

export function member(name: string): string {
  return REPLACED_MEMBER_FUNCTIONS.has(name) ? `${INTERNAL_PREFIX}${name}` : name;
}

/** A CEL runtime error with a message a person reads in the trigger's reason. */
export class CelFunctionError extends Error {
  override readonly name = 'CelFunctionError';
}

/** Namespaced functions (`base64.decode`, `math.greatest`) are members of a constant of a type of their own. */
export function registerNamespace(environment: Environment, name: string): string {
  const typeName = `ext.${name}`;
  const Namespace = class {};
  Object.defineProperty(Namespace, 'name', { value: `${name}Namespace` });
  environment.registerType(typeName, Namespace);
  environment.registerConstant(name, typeName, new Namespace());
  return typeName;
}
