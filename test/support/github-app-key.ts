import { generateKeyPairSync } from 'node:crypto';

/** A GitHub App's key pair as GitHub hands it out: the private key in PKCS#1 PEM ("BEGIN RSA PRIVATE KEY"). */
export function githubAppKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
