import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Lets a function read one Secrets Manager secret: GetSecretValue on that secret and, when the secret is encrypted
 * under a customer-managed KMS key, kms:Decrypt on that key only through Secrets Manager in this region (without it
 * every read fails with AccessDenied from KMS). `sid` names the statements (`Read<sid>`, `Decrypt<sid>`).
 */
export function grantSecretRead(grantee: iam.IGrantable, sid: string, secretArn: string, kmsKeyArn?: string): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ sid: `Read${sid}`, actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] }),
  );
  if (kmsKeyArn === undefined) return;
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: `Decrypt${sid}`,
      actions: ['kms:Decrypt'],
      resources: [kmsKeyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.${Aws.URL_SUFFIX}` } },
    }),
  );
}
