import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { skipWithout } from '../support/command-on-path.ts';
import { buildStack, templateVariants as variants } from './stack-fixture.ts';

/** Findings CDK itself generates, each with why it is accepted. Nothing else may appear. */
const accepted = [
  {
    rule: 'W3005',
    // The webhook, retry and reporter functions, and AwsCustomResource's singleton provider (the deploy-time cluster lookup).
    path: /^Resources\.(BridgeWebhookFunction|BridgeRetryRetryFunction|BridgeReporterReporterFunction|AWS679f53fac002430cb0da5b7982bd2287)[0-9A-F]{8}\.DependsOn\.\d+$/,
    reason: 'Lambda Function L2 lists its role in DependsOn next to the role’s default policy; the GetAtt already orders them, the duplicate is harmless',
  },
] as const;

interface CfnLintMatch {
  Level: string;
  Message: string;
  Rule: { Id: string };
  Filename: string;
  Location: { Path?: Array<string | number> };
}

describe('synthesized template', { skip: skipWithout('cfn-lint') }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tekton-bridge-cfn-lint-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  // CDK's own CloudFormation validation runs in the first synth (cdk.json turns its findings into
  // errors, so a finding throws here); cfn-lint then reads them all.
  const files = Object.entries(variants).map(([name, overrides], index) => {
    const { template } = buildStack(overrides, { validate: index === 0 });
    const file = path.join(dir, `${name}.template.json`);
    writeFileSync(file, JSON.stringify(template.toJSON(), null, 1));
    return file;
  });

  it('passes cfn-lint with no errors, and no warnings but the one CDK generates', () => {
    // Prepare: the custom resource and its provider function are linted too.
    assert.match(readFileSync(files[0]!, 'utf8'), /"Custom::EksClusterLookup"/);
    assert.doesNotMatch(readFileSync(files[2]!, 'utf8'), /"Custom::EksClusterLookup"/);
    // Act
    const run = spawnSync('cfn-lint', ['--format', 'json', '--', ...files], { encoding: 'utf8', timeout: 120_000 });
    // Assess
    assert.equal(run.error, undefined, `cfn-lint did not run (${String(run.error)})`);
    const matches = JSON.parse(run.stdout || '[]') as CfnLintMatch[];
    const described = matches.map((m) => `${m.Level} ${m.Rule.Id} ${path.basename(m.Filename)} ${(m.Location.Path ?? []).join('.')}: ${m.Message}`);
    assert.equal(run.stderr.trim(), '', 'cfn-lint wrote to stderr');
    assert.deepEqual(
      matches.filter((m) => m.Level === 'Error').map((m) => m.Rule.Id),
      [],
      described.join('\n'),
    );
    const unexpected = matches.filter(
      (m) => m.Level === 'Warning' && !accepted.some((a) => a.rule === m.Rule.Id && a.path.test((m.Location.Path ?? []).join('.'))),
    );
    assert.deepEqual(unexpected.map((m) => m.Rule.Id), [], described.join('\n'));
  });
});
