import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dnsSuffixOf } from '../../functions/adapters/aws-dns-suffix.ts';

describe('dnsSuffixOf', () => {
  // Rows of CDK's region-info partition table (aws-cdk-lib/region-info), which the SDK's partitions agree with.
  const rows: Array<[string, string]> = [
    ['eu-west-1', 'amazonaws.com'],
    ['us-gov-west-1', 'amazonaws.com'],
    ['cn-north-1', 'amazonaws.com.cn'],
    ['cn-northwest-1', 'amazonaws.com.cn'],
    ['us-iso-east-1', 'c2s.ic.gov'],
    ['us-isob-east-1', 'sc2s.sgov.gov'],
    ['us-isof-south-1', 'csp.hci.ic.gov'],
    ['eu-isoe-west-1', 'cloud.adc-e.uk'],
    ['eusc-de-east-1', 'amazonaws.eu'],
  ];
  for (const [region, suffix] of rows) {
    it(`${region} → ${suffix}`, () => assert.equal(dnsSuffixOf(region), suffix));
  }
});
