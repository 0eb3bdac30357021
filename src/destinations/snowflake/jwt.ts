import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { FatalError } from '../destination.js';

/**
 * Key-pair authentication of Snowflake's SQL API: an RS256 JWT with
 * `iss = ACCOUNT.USER.SHA256:<base64 SHA-256 of the public key's DER>` and `sub = ACCOUNT.USER`,
 * at most an hour long. The account part is the account identifier without region or cloud
 * (`xy12345` of `xy12345.us-east-1`; `ORG-ACCOUNT` as is), upper-cased like the user.
 */
export function jwtAccount(account: string): string {
  const base = account.includes('.global') ? account.split('-')[0]! : account.split('.')[0]!;
  return base.toUpperCase();
}

export interface KeyPair {
  privateKey: KeyObject;
  fingerprint: string;
}

export function loadKeyPair(pem: string, passphrase?: string): KeyPair {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: 'pem', ...(passphrase ? { passphrase } : {}) });
  } catch (err) {
    const encrypted = /ENCRYPTED/.test(pem);
    throw new FatalError(
      `snowflake destination: the private key cannot be read (${encrypted && !passphrase ? 'it is encrypted: set private_key_passphrase' : (err as Error).message.replace(/\s+/g, ' ')}); paste the PEM created by openssl genrsa/pkcs8`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new FatalError('snowflake destination: the private key must be an RSA key (Snowflake key-pair authentication is RSA)');
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return { privateKey, fingerprint: `SHA256:${createHash('sha256').update(der).digest('base64')}` };
}

export async function signSnowflakeJwt(keys: KeyPair, account: string, user: string, nowMs: number, lifetimeSec = 3540): Promise<string> {
  const qualified = `${jwtAccount(account)}.${user.toUpperCase()}`;
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(`${qualified}.${keys.fingerprint}`)
    .setSubject(qualified)
    .setIssuedAt(iat)
    .setExpirationTime(iat + Math.min(lifetimeSec, 3600))
    .sign(keys.privateKey);
}
