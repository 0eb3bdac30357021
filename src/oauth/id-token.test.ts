import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOAuthProvider } from '../providers/registry.js';
import { validateIdToken } from './id-token.js';

const TID = '11111111-2222-3333-4444-555555555555';
const auth = getOAuthProvider('microsoft')!.auth;
if (auth.identity.kind !== 'id_token') throw new Error('microsoft identifies users by ID token');
const spec = auth.identity;

describe('ID token validation', () => {
  let server: Server;
  let base = '';
  let key: CryptoKey;
  let otherKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    key = pair.privateKey;
    ({ privateKey: otherKey } = await generateKeyPair('RS256'));
    const publicKey = await exportJWK(pair.publicKey);
    server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.endsWith('/openid-configuration')) res.end(JSON.stringify({ issuer: 'https://login.microsoftonline.com/{tenantid}/v2.0', jwks_uri: `${base}/keys` }));
      else res.end(JSON.stringify({ keys: [{ ...publicKey, kid: 'k1', alg: 'RS256', use: 'sig' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const sign = (claims: { iss?: string; aud?: string }, k: CryptoKey = key, expSeconds = 3600) =>
    new SignJWT({ tid: TID, oid: 'o1', nonce: 'n1' })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(claims.iss ?? `https://login.microsoftonline.com/${TID}/v2.0`)
      .setAudience(claims.aud ?? 'client-1')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
      .sign(k);
  const check = (token: string, nonce = 'n1') => validateIdToken(token, { identity: spec, discoveryUrl: `${base}/common/v2.0/.well-known/openid-configuration`, clientId: 'client-1', nonce, now: new Date(), fetch });

  it('accepts a token signed by the tenant key, issued for its own tid', async () => {
    const claims = await check(await sign({}));
    expect(spec.providerUserId(claims as Record<string, unknown>)).toBe(`${TID}:o1`);
  });
  it('refuses a wrong nonce, a foreign issuer, another key, another audience and an expired token', async () => {
    await expect(check(await sign({}), 'other')).rejects.toThrow(/nonce/);
    await expect(check(await sign({ iss: 'https://login.microsoftonline.com/99999999-2222-3333-4444-555555555555/v2.0' }))).rejects.toThrow(/issuer/);
    await expect(check(await sign({}, otherKey))).rejects.toThrow(/signature/);
    await expect(check(await sign({ aud: 'someone-else' }))).rejects.toThrow(/aud/);
    await expect(check(await sign({}, key, -600))).rejects.toThrow(/exp/);
  });
});

