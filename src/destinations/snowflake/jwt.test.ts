import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { jwtAccount, loadKeyPair, signSnowflakeJwt } from './jwt.js';

describe('snowflake key-pair JWT', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  it('names account and user upper-cased, with the public key fingerprint, for at most an hour', async () => {
    const keys = loadKeyPair(pem);
    expect(keys.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}=$/);
    const claims = decodeJwt(await signSnowflakeJwt(keys, 'xy12345.us-east-1', 'tributary_user', 1_764_000_000_000));
    expect(claims).toMatchObject({ iss: `XY12345.TRIBUTARY_USER.${keys.fingerprint}`, sub: 'XY12345.TRIBUTARY_USER', iat: 1_764_000_000 });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(3600);
    expect(jwtAccount('myorg-myaccount')).toBe('MYORG-MYACCOUNT');
  });

  it('an encrypted key without passphrase, or junk, is a fatal error that says what to do', () => {
    const encrypted = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }).toString();
    expect(() => loadKeyPair(encrypted)).toThrow(/set private_key_passphrase/);
    expect(loadKeyPair(encrypted, 'pw').fingerprint).toBe(loadKeyPair(pem).fingerprint);
    expect(() => loadKeyPair('not a key')).toThrow(/cannot be read/);
  });
});
