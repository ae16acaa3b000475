import { Aws, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import { Construct } from 'constructs';
import type { WebhookApi } from './webhook-api.ts';

export interface WebhookFrontProps {
  readonly api: WebhookApi;
  /**
   * A CLOUDFRONT-scope AWS WAF web ACL (created in us-east-1, e.g. by the app's front-ACL stack) that allows GitHub's
   * `hooks` ranges and limits each source IP: what stops a flood before it reaches the API's throttle.
   */
  readonly webAclArn: string;
}

/**
 * A CloudFront distribution in front of the webhook API, so a web ACL can drop floods at the edge: HTTP APIs take no
 * WAF of their own. Nothing is cached; every viewer header but Host goes to the API, and the body as it came (the
 * signature is over the raw bytes).
 */
export class WebhookFront extends Construct {
  readonly distribution: cloudfront.Distribution;
  /** The payload URL to give GitHub instead of the API's own. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: WebhookFrontProps) {
    super(scope, id);
    const apiHost = `${props.api.httpApi.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`;
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'tekton-bridge webhook front (AWS WAF before the API throttle)',
      webAclId: props.webAclArn,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: new origins.HttpOrigin(apiHost, { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      },
    });
    this.url = `https://${this.distribution.distributionDomainName}/webhook`;
    const acknowledged: Record<string, string> = {
      'AwsSolutions-CFR1': 'GitHub delivers from its published ranges worldwide; the web ACL allows exactly those addresses, which a country list could only blur.',
      'AwsSolutions-CFR3': 'Every request that passes is logged by the API stage (access log with sourceIp); the web ACL samples and counts what it blocks in CloudWatch.',
      'AwsSolutions-CFR4': 'The distribution uses its cloudfront.net certificate, as GitHub needs no custom domain; CloudFront then negotiates TLS 1.2 or newer with modern clients such as GitHub.',
    };
    for (const [rule, reason] of Object.entries(acknowledged)) Validations.of(this.distribution).acknowledge({ id: rule, reason });
  }
}
