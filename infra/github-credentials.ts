import { SecretValue, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';

/**
 * What a secret the stack creates holds until someone fills it: the functions read it as "not filled in yet". Keep it
 * as it is: CloudFormation writes SecretString again only when the template's value changes, and would then overwrite
 * the credentials filled in by hand.
 */
export const emptyGithubCredentials = '{}';

/**
 * The Secrets Manager secret with the bridge's GitHub token or App key: the one given (complete ARN), or one created
 * holding `{}`, so the stack deploys before anyone has a token and reporting starts when the secret is filled
 * (the functions read it again within minutes; no redeploy).
 */
export function githubCredentialsSecret(scope: Construct, id: string, options: { name: string; secretArn?: string }): secretsmanager.ISecret {
  if (options.secretArn !== undefined) return secretsmanager.Secret.fromSecretCompleteArn(scope, id, options.secretArn);
  const created = new secretsmanager.Secret(scope, id, {
    description: `GitHub credentials of ${options.name}: {"token": "…"} or {"appId": "…", "privateKey": "…"}; {} reports nothing`,
    // Not a secret: the placeholder the functions recognise as empty. The real value is put by hand, never by the stack.
    secretStringValue: SecretValue.unsafePlainText(emptyGithubCredentials),
  });
  Validations.of(created).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'A GitHub token or App private key is issued by GitHub and can only be rotated there (a new token or key, then put-secret-value); the functions read the secret again within five minutes, so a rotation needs no deploy.',
  });
  return created;
}
