import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';

export interface WebhookFrontAclStackProps extends StackProps {
  /** GitHub's webhook source ranges, the `hooks` list of https://api.github.com/meta (IPv4 and IPv6 CIDRs). */
  readonly githubHookCidrs: readonly string[];
  /** Requests per source IP per 5 minutes before the IP is blocked for a while. Default 2000. */
  readonly ratePerIpPer5Minutes?: number;
}

/**
 * The web ACL of the webhook front, in a stack of its own because a CLOUDFRONT-scope web ACL must be created in
 * us-east-1 whatever region the bridge is in: a per-IP rate limit first (a flood from one address is cut even inside
 * GitHub's ranges), then GitHub's hook ranges allowed, everything else blocked.
 */
export class WebhookFrontAclStack extends Stack {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: WebhookFrontAclStackProps) {
    super(scope, id, { description: 'tekton-bridge: the AWS WAF web ACL of the webhook front (us-east-1)', ...props });
    const ipv4 = props.githubHookCidrs.filter((cidr) => !cidr.includes(':'));
    const ipv6 = props.githubHookCidrs.filter((cidr) => cidr.includes(':'));
    const ipSet = (name: string, addresses: string[], version: 'IPV4' | 'IPV6') =>
      new wafv2.CfnIPSet(this, name, { scope: 'CLOUDFRONT', ipAddressVersion: version, addresses, description: `GitHub webhook sources, ${version}` });
    const sets = [...(ipv4.length > 0 ? [ipSet('GitHubHooksIpv4', ipv4, 'IPV4')] : []), ...(ipv6.length > 0 ? [ipSet('GitHubHooksIpv6', ipv6, 'IPV6')] : [])];
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    const fromGitHub: wafv2.CfnWebACL.StatementProperty =
      sets.length === 1
        ? { ipSetReferenceStatement: { arn: sets[0]!.attrArn } }
        : { orStatement: { statements: sets.map((set) => ({ ipSetReferenceStatement: { arn: set.attrArn } })) } };
    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { block: {} },
      description: 'Only GitHub reaches the tekton-bridge webhook, and no address floods it',
      visibilityConfig: visibility('tekton-bridge-front'),
      rules: [
        {
          name: 'rate-per-ip',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { aggregateKeyType: 'IP', limit: props.ratePerIpPer5Minutes ?? 2000 } },
          visibilityConfig: visibility('tekton-bridge-front-rate'),
        },
        { name: 'github-hooks', priority: 1, action: { allow: {} }, statement: fromGitHub, visibilityConfig: visibility('tekton-bridge-front-github') },
      ],
    });
    new CfnOutput(this, 'WebAclArn', { description: 'Give it to the bridge: -c webhookFrontWebAclArn=…', value: this.webAcl.attrArn });
  }
}
