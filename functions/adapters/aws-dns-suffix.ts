/** Region prefix → the partition's DNS suffix, as AWS's partition tables (the SDK's, CDK's region-info) list them. */
const DNS_SUFFIXES: ReadonlyArray<readonly [prefix: string, suffix: string]> = [
  ['cn-', 'amazonaws.com.cn'],
  ['us-isob-', 'sc2s.sgov.gov'],
  ['us-isof-', 'csp.hci.ic.gov'],
  ['us-iso-', 'c2s.ic.gov'],
  ['eu-isoe-', 'cloud.adc-e.uk'],
  ['eusc-', 'amazonaws.eu'],
];

/** The DNS suffix of AWS endpoints in a region: `amazonaws.com`, or its partition's (China: `amazonaws.com.cn`). */
export function dnsSuffixOf(region: string): string {
  return DNS_SUFFIXES.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'amazonaws.com';
}
