import { describe, expect, it } from 'vitest';
import { verifierMatches } from './pkce.js';
import { constantTimeEqual, randomToken, s256, tokenHash } from './secrets.js';

describe('hosted-auth secrets', () => {
  it('S256 is unpadded base64url of SHA-256 (checked against WebCrypto)', async () => {
    const v = randomToken();
    const digest = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(v)));
    expect(s256(v)).toBe(digest.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  });
  it('checks app verifiers for S256 and plain challenges', () => {
    const v = randomToken();
    expect(verifierMatches(s256(v), 'S256', v)).toBe(true);
    expect(verifierMatches(s256(v), 'S256', `${v}x`)).toBe(false);
    expect(verifierMatches(v, 'plain', v)).toBe(true);
    expect(verifierMatches(v, null, 'other')).toBe(false);
  });
  it('compares strings of different lengths without throwing', () => {
    expect(constantTimeEqual('a', 'abc')).toBe(false);
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
  });
  it('stores hashes, never the token', () => {
    const t = randomToken();
    expect(t).toHaveLength(43);
    expect(tokenHash(t)).not.toContain(t);
  });
});
