import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { EksTokenError } from './adapter-errors.ts';
import { messageOf } from './error-message.ts';
import { dnsSuffixOf } from './aws-dns-suffix.ts';

/** A bearer token for an EKS cluster, and when a kubectl-style client should stop using it. */
export interface EksToken {
  token: string;
  /** RFC 3339 without fractions, as `aws eks get-token` prints it. */
  expirationTimestamp: string;
  signedAt: Date;
}

const TOKEN_PREFIX = 'k8s-aws-v1.';
// Ignored by STS, which accepts the URL for 15 minutes after X-Amz-Date; 60 is what every EKS client sends.
const PRESIGN_EXPIRES_SECONDS = 60;
// One minute short of the 15 minutes, as aws-iam-authenticator and `aws eks get-token` announce it.
const ANNOUNCED_LIFETIME_MS = 14 * 60_000;
const DEFAULT_REFRESH_AFTER_MS = 10 * 60_000;

/**
 * Makes the token `aws eks get-token` makes: a presigned STS GetCallerIdentity URL on the regional endpoint,
 * with the cluster name in the signed `x-k8s-aws-id` header, base64url-encoded without padding.
 */
export async function createEksToken(options: {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentity;
  signingDate: Date;
}): Promise<EksToken> {
  const { clusterName, region, credentials, signingDate } = options;
  const hostname = stsHostname(region);
  const signer = new SignatureV4({ service: 'sts', region, credentials, sha256: Hash.bind(null, 'sha256') });
  const unsigned = new HttpRequest({
    method: 'GET',
    protocol: 'https:',
    hostname,
    path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, 'x-k8s-aws-id': clusterName },
  });
  const presigned = await signer.presign(unsigned, {
    expiresIn: PRESIGN_EXPIRES_SECONDS,
    signingDate,
    unhoistableHeaders: new Set(['x-k8s-aws-id']),
  });
  const url = `https://${hostname}/?${queryInCliOrder(presigned.query ?? {})}`;
  return {
    token: TOKEN_PREFIX + Buffer.from(url, 'utf8').toString('base64url'),
    expirationTimestamp: formatTimestamp(new Date(signingDate.getTime() + ANNOUNCED_LIFETIME_MS)),
    signedAt: signingDate,
  };
}

/**
 * A token source for the bridge's Kubernetes client: signs once, reuses the token, and signs anew well before
 * the 15 minutes STS allows run out (or when asked to, after a 401).
 */
export function createEksTokenProvider(options: {
  clusterName: string;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  now?: () => number;
  refreshAfterMs?: number;
}): {
  getToken: (opts?: { forceRefresh?: boolean }) => Promise<string>;
  getCredential: (opts?: { forceRefresh?: boolean }) => Promise<EksToken>;
} {
  const { clusterName, region, credentials, now = Date.now, refreshAfterMs = DEFAULT_REFRESH_AFTER_MS } = options;
  let cached: { token: EksToken; reuseUntil: number } | undefined;
  let pending: Promise<EksToken> | undefined;

  const signAnew = async (): Promise<EksToken> => {
    let identity: AwsCredentialIdentity;
    try {
      identity = await credentials();
    } catch (error) {
      throw new EksTokenError(
        `could not get AWS credentials to sign an EKS token for cluster ${clusterName}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    const signedAt = now();
    const token = await createEksToken({ clusterName, region, credentials: identity, signingDate: new Date(signedAt) });
    // Temporary credentials that end sooner than our refresh would leave us holding a dead token.
    const credentialsEnd = identity.expiration ? identity.expiration.getTime() - 60_000 : Infinity;
    cached = { token, reuseUntil: Math.min(signedAt + refreshAfterMs, credentialsEnd) };
    return token;
  };

  const getCredential = async (opts?: { forceRefresh?: boolean }): Promise<EksToken> => {
    if (!opts?.forceRefresh && cached && now() < cached.reuseUntil) return cached.token;
    pending ??= signAnew().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  return {
    getCredential,
    getToken: async (opts) => (await getCredential(opts)).token,
  };
}

function stsHostname(region: string): string {
  const suffix = dnsSuffixOf(region);
  return `sts.${region}.${suffix}`;
}

// The signature does not depend on the order, but keeping the CLI's order makes our token byte-identical to its.
const CLI_QUERY_ORDER = [
  'Action',
  'Version',
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
];

function queryInCliOrder(query: Record<string, string | string[] | null>): string {
  const names = [...CLI_QUERY_ORDER, ...Object.keys(query).filter((name) => !CLI_QUERY_ORDER.includes(name))];
  const pairs: string[] = [];
  for (const name of names) {
    const value = query[name];
    if (typeof value === 'string') pairs.push(`${rfc3986(name)}=${rfc3986(value)}`);
  }
  return pairs.join('&');
}

function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function formatTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
