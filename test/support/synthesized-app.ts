/**
 * What `cdk synth` deploys, read back offline: runs the CDK app (`infra/app.ts`, as the CDK CLI runs it: cdk.json's
 * context and the given one in CDK_CONTEXT_JSON, output in CDK_OUTDIR, bundling on) and finds each Lambda function's asset folder and environment in the
 * synthesized template.
 *
 *   const app = await synthesizeApp({ outdir: '.bundles/x/cdk.out', context: { clusterName: 'demo' } });
 *   app.functions.webhook.assetDir   // the folder CDK zips: index.mjs, index.mjs.map, triggers.json
 *   app.functions.webhook.environment.NODE_OPTIONS
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

export interface SynthesizedFunction {
  /** `<stackName>-<name>`. */
  functionName: string;
  assetDir: string;
  handler: string;
  runtime: string;
  memorySize: number;
  architectures: string[];
  /** Literal values as they are; a value CloudFormation resolves at deploy time (`Ref`, `Fn::GetAtt`) as its JSON. */
  environment: Record<string, string | { unresolved: string }>;
  /** What Lambda derives from LoggingConfig: AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL. */
  loggingEnvironment: Record<string, string>;
}

export interface SynthesizedApp {
  outdir: string;
  /** By short name (`webhook`, `retry`, …): the part of the function's name after `<stackName>-`. */
  functions: Record<string, SynthesizedFunction>;
}

export async function synthesizeApp(options: { outdir: string; context: Record<string, string>; root?: string }): Promise<SynthesizedApp> {
  const root = options.root ?? process.cwd();
  const outdir = path.resolve(options.outdir);
  const cdkJson = JSON.parse(readFileSync(path.join(root, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const { AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, AWS_SESSION_TOKEN: _t, AWS_PROFILE: _p, ...base } = process.env;
  await promisify(execFile)(process.execPath, [path.join(root, 'infra', 'app.ts')], {
    cwd: root,
    env: { ...base, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, ...options.context }) },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 300_000,
  });
  const templateFile = stackTemplateFile(outdir);
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources: Record<string, { Type: string; Properties: Record<string, any> }> };
  const stackName = options.context.stackName ?? 'tekton-bridge';
  const functions: Record<string, SynthesizedFunction> = {};
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const props = resource.Properties;
    const functionName = String(props.FunctionName);
    const key = /^[0-9a-f]{64}\.zip$/.exec(String(props.Code?.S3Key ?? ''))?.[0].slice(0, 64);
    if (!functionName.startsWith(`${stackName}-`) || key === undefined) continue; // CDK's own handlers
    const assetDir = path.join(outdir, `asset.${key}`);
    if (!existsSync(assetDir)) throw new Error(`${functionName}: asset ${assetDir} is missing from ${outdir}`);
    const variables = (props.Environment?.Variables ?? {}) as Record<string, unknown>;
    const logging = (props.LoggingConfig ?? {}) as { LogFormat?: string; ApplicationLogLevel?: string };
    functions[functionName.slice(stackName.length + 1)] = {
      functionName,
      assetDir,
      handler: String(props.Handler),
      runtime: String(props.Runtime),
      memorySize: Number(props.MemorySize ?? 128),
      architectures: (props.Architectures as string[] | undefined) ?? ['x86_64'],
      environment: Object.fromEntries(
        Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : { unresolved: JSON.stringify(value) }]),
      ),
      loggingEnvironment: {
        ...(logging.LogFormat && { AWS_LAMBDA_LOG_FORMAT: logging.LogFormat }),
        ...(logging.LogFormat === 'JSON' && { AWS_LAMBDA_LOG_LEVEL: logging.ApplicationLogLevel ?? 'INFO' }),
      },
    };
  }
  return { outdir, functions };
}

function stackTemplateFile(outdir: string): string {
  const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stacks = Object.values(manifest.artifacts).filter((a) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile);
  if (stacks.length !== 1) throw new Error(`expected one stack in ${outdir}, found ${stacks.length}`);
  return path.join(outdir, stacks[0]!.properties!.templateFile!);
}
