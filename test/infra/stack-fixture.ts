/**
 * Builds the stack in-process for assertions, with cdk.json's feature flags, the tiny fixture
 * handler and the checked-in triggers/, and bundling skipped unless asked for (bundling is slow and
 * one test does it for real).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { projectRoot } from '../../infra/function-bundling.ts';
import { TektonBridgeStack, type TektonBridgeStackProps } from '../../infra/tekton-bridge-stack.ts';

export const fixtureHandler = path.join(projectRoot, 'test', 'fixtures', 'lambda', 'hello.ts');
export const validTriggersFixture = path.join(projectRoot, 'test', 'fixtures', 'triggers', 'valid');
export const invalidTriggersFixture = path.join(projectRoot, 'test', 'fixtures', 'triggers', 'invalid');

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface FixtureStack {
  app: App;
  stack: TektonBridgeStack;
  template: Template;
}

export function buildStack(overrides: Partial<TektonBridgeStackProps> = {}, options: { bundle?: boolean; outdir?: string; validate?: boolean } = {}): FixtureStack {
  const app = new App({
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    ...(options.outdir !== undefined && { outdir: options.outdir }),
  });
  const stack = new TektonBridgeStack(app, 'TektonBridge', {
    clusterName: 'demo',
    namespace: 'ci',
    triggersDir: path.join(projectRoot, 'triggers'),
    webhookEntry: fixtureHandler,
    retryEntry: fixtureHandler,
    ...overrides,
  });
  return { app, stack, template: synthTemplate(stack, options.validate ?? false) };
}

/**
 * CDK's built-in CloudFormation validation (a WebAssembly rule engine) costs ~4 s per process; the
 * assertion tests skip it, the app and cfn-lint tests run it.
 */
function synthTemplate(stack: TektonBridgeStack, validate: boolean): Template {
  const previous = process.env.CDK_VALIDATION;
  if (!validate) process.env.CDK_VALIDATION = 'false';
  try {
    return Template.fromStack(stack);
  } finally {
    if (previous === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = previous;
  }
}

/** The one resource of a type, by logical id and body; fails when there are none or several. */
export function onlyResource(template: Template, type: string): { id: string; resource: Record<string, any> } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource };
}

/** The webhook function (the stack also has the retry function), by its name `<stack>-webhook`. */
export function webhookFunctionResource(template: Template): { id: string; resource: Record<string, any> } {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, r]) => String(r.Properties.FunctionName).endsWith('-webhook'));
  if (found.length !== 1) throw new Error(`expected one webhook function, found ${found.length}`);
  const [id, resource] = found[0]!;
  return { id, resource };
}

/** `Fn::Join` and friends flattened to text, for "does the output mention X" checks. */
export function flatten(value: unknown): string {
  return JSON.stringify(value);
}
