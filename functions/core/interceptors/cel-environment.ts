import { Environment } from '@marcbachmann/cel-js';
import type { CelFeature, CelFeatureModules } from '../cel/feature-modules.ts';
import { createGoRegexpCompiler, type RegexCompiler } from '../cel/go-regexp.ts';
import { registerEncodersLibrary } from '../cel/encoders-library.ts';
import { spendStep, type CelEvaluationScope, type CelScopeSlot } from '../cel/evaluation-scope.ts';
import { registerListsLibrary } from '../cel/lists-library.ts';
import { registerMathLibrary } from '../cel/math-library.ts';
import { INTERNAL_PREFIX, member, registrar } from '../cel/register.ts';
import { registerStringsLibrary } from '../cel/strings-library.ts';
import { registerTektonLibrary } from '../cel/tekton-library.ts';

export { canonicalHeaderName } from '../cel/go-header.ts';

/**
 * The variables a Tekton Triggers CEL interceptor sees. `header` is keyed by canonical header name
 * (`X-Github-Event`) with a list of values, as Go's http.Header is.
 */
export interface CelContext {
  body: unknown;
  header: Record<string, string[]>;
  extensions: unknown;
  requestURL: string;
}

export interface CelProgram {
  source: string;
  evaluate(context: CelContext, scope: CelEvaluationScope): unknown;
}

export type CelCompileResult = { ok: true; program: CelProgram; warnings: string[] } | { ok: false; message: string };

/** Tekton's CEL environment (makeCelEnv in cel.go) and what the expressions compiled in it use. */
export interface CelEnvironment {
  compile(source: string): CelCompileResult;
  /** Optional parts the compiled expressions use, for the build to ship. */
  readonly features: ReadonlySet<CelFeature>;
  /** Whether any compiled expression calls compareSecret, so the trigger secrets must be read. */
  readonly usesTriggerSecrets: boolean;
}

interface Evaluator {
  run(ast: unknown, ctx: unknown): unknown;
}

/**
 * Tekton's functions (triggers.go) and the cel-go extensions Tekton loads — Strings, Encoders, Sets, Lists, Math —
 * over `body`, `header`, `extensions` and `requestURL`, as makeCelEnv declares them.
 */
export function createCelEnvironment(modules: CelFeatureModules): CelEnvironment {
  const environment = new Environment({ homogeneousAggregateLiterals: false })
    .registerVariable('body', 'map<string, dyn>')
    .registerVariable('header', 'map<string, dyn>')
    .registerVariable('extensions', 'map<string, dyn>')
    .registerVariable('requestURL', 'string');
  const register = registrar(environment);
  const slot: CelScopeSlot = { scope: undefined, steps: 0 };
  const features = new Set<CelFeature>();
  let regexCompiler: RegexCompiler | undefined;
  const regex = (): RegexCompiler => (regexCompiler ??= createGoRegexpCompiler(modules.regex()));
  registerTektonLibrary(register, { slot, regex, yaml: modules.yaml });
  registerStringsLibrary(environment, register, regex);
  registerEncodersLibrary(environment, register);
  registerListsLibrary(environment, register);
  installStepCounter(environment, register, slot);

  const state = { usesTriggerSecrets: false, math: false };
  const compile = (source: string): CelCompileResult => {
    // Math's variadic greatest/least take 62 overloads, a few ms of every cold start: registered for the first
    // expression that names math (an expression can reach it no other way).
    if (!state.math && /\bmath\b/.test(source)) {
      registerMathLibrary(environment, register);
      state.math = true;
    }
    let parsed: ReturnType<Environment['parse']>;
    try {
      parsed = environment.parse(source);
    } catch (error) {
      return { ok: false, message: readable((error as Error).message) };
    }
    const found: Usage = { features: new Set(), usesTriggerSecrets: false, warnings: [], problems: [] };
    visit(parsed.ast, found);
    if (found.problems.length > 0) return { ok: false, message: found.problems[0] as string };
    for (const feature of found.features) {
      try {
        if (feature === 'regex') regex();
        else modules.yaml();
      } catch (error) {
        return { ok: false, message: (error as Error).message };
      }
    }
    for (const pattern of found.constantPatterns ?? []) {
      try {
        regex()(pattern.text);
      } catch (error) {
        return { ok: false, message: `${pattern.call}: ${(error as Error).message}` };
      }
    }
    const check = parsed.check();
    if (!check.valid) return { ok: false, message: readable(check.error?.message ?? 'type error') };
    for (const feature of found.features) features.add(feature);
    if (found.usesTriggerSecrets) state.usesTriggerSecrets = true;
    const program: CelProgram = {
      source,
      evaluate(context, scope) {
        slot.scope = scope;
        slot.steps = 0;
        try {
          return parsed(context as unknown as Record<string, unknown>);
        } finally {
          slot.scope = undefined;
        }
      },
    };
    return { ok: true, program, warnings: found.warnings };
  };
  return {
    compile,
    features,
    get usesTriggerSecrets() {
      return state.usesTriggerSecrets;
    },
  };
}

/**
 * cel-js has no cost or step limit of its own. Every node it evaluates goes through its evaluator's `run`, and a
 * function handler is called with that evaluator as `this`; one call at set-up captures it so each step can be
 * counted against the delivery's time budget.
 */
function installStepCounter(environment: Environment, register: ReturnType<typeof registrar>, slot: CelScopeSlot): void {
  let evaluator: Evaluator | undefined;
  register(`${INTERNAL_PREFIX}evaluator(): bool`, function (this: Evaluator) {
    evaluator = this;
    return true;
  });
  environment.evaluate(`${INTERNAL_PREFIX}evaluator()`);
  if (!evaluator || typeof evaluator.run !== 'function') throw new Error('[tekton-bridge] the CEL library no longer exposes its evaluator: the time budget cannot be enforced');
  const run = evaluator.run;
  evaluator.run = function counted(ast, ctx) {
    spendStep(slot);
    return run.call(this, ast, ctx);
  };
}

/** Messages name functions as the expression wrote them, not by the bridge's internal names. */
export function readable(message: string): string {
  return firstLine(message).replaceAll(INTERNAL_PREFIX, '').replace(/\bext\.(\w+)\./g, '$1.');
}

function firstLine(message: string): string {
  return message.split('\n')[0]?.trim() ?? message;
}

interface Usage {
  features: Set<CelFeature>;
  usesTriggerSecrets: boolean;
  warnings: string[];
  problems: string[];
  constantPatterns?: { call: string; text: string }[];
}

interface AstNode {
  op: string;
  args: unknown;
}

function isNode(value: unknown): value is AstNode {
  return typeof value === 'object' && value !== null && typeof (value as AstNode).op === 'string' && 'args' in value;
}

// cel-js has these; cel-go, and so Tekton, does not.
const FOREIGN_MEMBERS = new Set(['at', 'hex', 'json', 'base64', 'string']);

function visit(value: unknown, usage: Usage): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, usage);
    return;
  }
  if (!isNode(value)) return;
  const { op, args } = value;
  if (op === 'id' && typeof args === 'string' && args.startsWith(INTERNAL_PREFIX)) usage.problems.push(`undeclared reference to '${args}'`);
  if (op === 'call' && Array.isArray(args)) {
    const [name, callArgs] = args as [string, unknown[]];
    if (name.startsWith(INTERNAL_PREFIX)) usage.problems.push(`undeclared reference to '${name}'`);
    if (name === 'matches') notePattern(usage, 'matches()', callArgs[1]);
    visit(callArgs, usage);
    return;
  }
  if (op === 'rcall' && Array.isArray(args)) {
    const [name, receiver, callArgs] = args as [string, unknown, unknown[]];
    const namespace = isNode(receiver) && receiver.op === 'id' ? (receiver.args as string) : undefined;
    noteMemberCall(usage, name, namespace, callArgs);
    args[0] = member(name);
    visit(receiver, usage);
    visit(callArgs, usage);
    return;
  }
  if (Array.isArray(args) || isNode(args)) visit(args, usage);
}

function noteMemberCall(usage: Usage, name: string, namespace: string | undefined, callArgs: unknown[]): void {
  if (name.startsWith(INTERNAL_PREFIX)) usage.problems.push(`undeclared reference to '${name}'`);
  if (namespace === 'cel' && name === 'bind') usage.problems.push("cel.bind() is not in Tekton's CEL environment (cel-go's Bindings extension is not loaded)");
  if (FOREIGN_MEMBERS.has(name) && namespace === undefined) usage.problems.push(`found no matching overload for '${name}': not a function of Tekton's CEL environment`);
  if (name === 'matches') notePattern(usage, 'matches()', callArgs[0]);
  if (name === 'translate') notePattern(usage, 'translate()', callArgs[0]);
  if (name === 'parseYAML') usage.features.add('yaml');
  if (name === 'compareSecret') usage.usesTriggerSecrets = true;
  if (name === 'decodeb64') usage.warnings.push('decodeb64() is deprecated and no longer in Tekton Triggers: use string(base64.decode(…))');
  if (namespace === 'math' && (name === 'greatest' || name === 'least')) checkMathArguments(usage, `math.${name}()`, callArgs);
}

function notePattern(usage: Usage, call: string, pattern: unknown): void {
  usage.features.add('regex');
  if (isNode(pattern) && pattern.op === 'value' && typeof pattern.args === 'string') {
    (usage.constantPatterns ??= []).push({ call, text: pattern.args });
  }
}

/** cel-go expands math.greatest/least as macros that refuse literal arguments that are not numbers. */
function checkMathArguments(usage: Usage, call: string, callArgs: unknown[]): void {
  const numericArgument = (arg: unknown): boolean => {
    if (!isNode(arg)) return false;
    if (arg.op === 'value') return typeof arg.args === 'number' || typeof arg.args === 'bigint' || (typeof arg.args === 'object' && arg.args !== null && !(arg.args instanceof Uint8Array));
    return arg.op !== 'list' && arg.op !== 'map';
  };
  if (callArgs.length === 0) usage.problems.push(`${call} requires at least one argument`);
  else if (callArgs.length === 1) {
    const [arg] = callArgs;
    const numericList = isNode(arg) && arg.op === 'list' && Array.isArray(arg.args) && arg.args.length > 0 && arg.args.every(numericArgument);
    if (!numericList && !numericArgument(arg)) usage.problems.push(`${call} invalid single argument value`);
  } else if (!callArgs.every(numericArgument)) usage.problems.push(`${call} simple literal arguments must be numeric`);
}
