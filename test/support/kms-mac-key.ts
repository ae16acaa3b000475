import { createAwsJsonCall } from '../../functions/adapters/aws-json-call.ts';
import { MOTO_CLIENT_SETTINGS } from './moto-server.ts';

/** An HMAC_256 KMS key (GENERATE_VERIFY_MAC) on moto_server, as the CDK app makes the retry messages' key; its ARN. */
export async function createMacKey(endpoint: string): Promise<string> {
  const kms = createAwsJsonCall({ service: 'kms', targetPrefix: 'TrentService', title: 'KMS', endpoint, region: MOTO_CLIENT_SETTINGS.region, credentials: async () => MOTO_CLIENT_SETTINGS.credentials });
  const answer = await kms('CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Description: 'tekton-bridge retry messages' });
  return (answer.KeyMetadata as { Arn: string }).Arn;
}
