import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readBridgeSettings } from '../../infra/bridge-settings.ts';
import { WebhookFrontAclStack } from '../../infra/webhook-front-acl.ts';
import { skipWithout } from '../support/command-on-path.ts';
import { buildStack, cdkJsonContext, flatten, onlyResource, synthTemplate, webhookFrontWebAclArn } from './stack-fixture.ts';

// Illustrative ranges in the shape of GitHub's meta `hooks` list (IPv4 and IPv6), not a copy of it.
const hookCidrs = ['192.0.2.0/24', '198.51.100.0/22', '2001:db8::/32'];

function aclStack(props: { ratePerIpPer5Minutes?: number } = {}) {
  const app = new App({ context: cdkJsonContext() });
  const stack = new WebhookFrontAclStack(app, 'TektonBridgeFrontAcl', { env: { region: 'us-east-1' }, githubHookCidrs: hookCidrs, ...props });
  return { stack, template: synthTemplate(stack, false) };
}

describe('the optional webhook front', () => {
  it('puts a CloudFront distribution with the web ACL before the API: nothing cached, the body and headers but Host passed on', () => {
    const { stack, template } = buildStack({ webhookFrontWebAclArn });
    const distribution = onlyResource(template, 'AWS::CloudFront::Distribution').resource.Properties.DistributionConfig;
    assert.equal(distribution.WebACLId, webhookFrontWebAclArn);
    const [origin] = distribution.Origins;
    assert.match(flatten(origin.DomainName), /\.execute-api\.",\{"Ref":"AWS::Region"\},"\.",\{"Ref":"AWS::URLSuffix"\}/);
    assert.equal(origin.CustomOriginConfig.OriginProtocolPolicy, 'https-only');
    const behavior = distribution.DefaultCacheBehavior;
    assert.deepEqual(behavior.AllowedMethods, ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
    assert.equal(behavior.ViewerProtocolPolicy, 'https-only');
    assert.equal(behavior.CachePolicyId, '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', 'CachingDisabled');
    assert.equal(behavior.OriginRequestPolicyId, 'b689b0a8-53d0-40ab-baf2-68738e2966ac', 'AllViewerExceptHostHeader');
    // GitHub is given the distribution's URL.
    assert.match(flatten(template.findOutputs('WebhookUrl')), /"https:\/\/",\{"Fn::GetAtt":\["BridgeFrontDistribution[0-9A-F]+","DomainName"\]\},"\/webhook"/);
    assert.match(stack.resolve(stack.bridge.webhookUrl)['Fn::Join'][1][0], /^https:\/\//);
    assert.deepEqual(new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName), []);
    buildStack().template.resourceCountIs('AWS::CloudFront::Distribution', 0);
  });

  it('its web ACL, in us-east-1: a per-IP rate limit first, then GitHub’s hook ranges allowed, everything else blocked', () => {
    const { stack, template } = aclStack();
    assert.equal(stack.region, 'us-east-1');
    const acl = onlyResource(template, 'AWS::WAFv2::WebACL').resource.Properties;
    assert.equal(acl.Scope, 'CLOUDFRONT');
    assert.deepEqual(acl.DefaultAction, { Block: {} });
    assert.deepEqual(acl.Rules.map((r: { Name: string; Priority: number; Action: unknown }) => [r.Priority, r.Name, r.Action]), [
      [0, 'rate-per-ip', { Block: {} }],
      [1, 'github-hooks', { Allow: {} }],
    ]);
    assert.deepEqual(acl.Rules[0].Statement, { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 2000 } });
    assert.equal(acl.Rules[1].Statement.OrStatement.Statements.length, 2);
    const sets = Object.values(template.findResources('AWS::WAFv2::IPSet')).map((s) => [s.Properties.IPAddressVersion, s.Properties.Addresses, s.Properties.Scope]);
    assert.deepEqual(sets, [
      ['IPV4', ['192.0.2.0/24', '198.51.100.0/22'], 'CLOUDFRONT'],
      ['IPV6', ['2001:db8::/32'], 'CLOUDFRONT'],
    ]);
    template.hasOutput('WebAclArn', { Value: { 'Fn::GetAtt': [onlyResource(template, 'AWS::WAFv2::WebACL').id, 'Arn'] } });
    assert.equal(aclStack({ ratePerIpPer5Minutes: 500 }).template.toJSON().Resources[onlyResource(template, 'AWS::WAFv2::WebACL').id].Properties.Rules[0].Statement.RateBasedStatement.Limit, 500);
    assert.deepEqual(new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName), []);
  });

  it('reads the front’s context keys, refusing a regional web ACL', () => {
    const settings = readBridgeSettings(new App({ context: { clusterName: 'demo', webhookFrontWebAclArn, githubHookCidrs: hookCidrs.join(',') } }).node);
    assert.equal(settings.webhookFrontWebAclArn, webhookFrontWebAclArn);
    assert.deepEqual(settings.githubHookCidrs, hookCidrs);
    assert.throws(
      () => readBridgeSettings(new App({ context: { clusterName: 'demo', webhookFrontWebAclArn: webhookFrontWebAclArn.replace('us-east-1:123456789012:global', 'eu-west-1:123456789012:regional') } }).node),
      /must be the ARN of a CLOUDFRONT-scope web ACL/,
    );
  });

  describe('cfn-lint', { skip: skipWithout('cfn-lint') }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tekton-bridge-front-lint-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    it('finds nothing in the web ACL stack', () => {
      const file = path.join(dir, 'front-acl.template.json');
      writeFileSync(file, JSON.stringify(aclStack().template.toJSON()));
      const run = spawnSync('cfn-lint', ['--format', 'json', '--', file], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(run.error, undefined, String(run.error));
      assert.deepEqual(JSON.parse(run.stdout || '[]'), []);
    });
  });
});
