import { describe, expect, it } from 'vitest';
import { constantTimeEqual, randomToken, s256, tokenHash, verifierMatches } from './secrets.js';

describe('hosted-auth secrets', () => {
  it('S256 matches RFC 7636 appendix B', () => {
    expect(s256('dBjftJeZ4CVP-mJ92K1uXPfWkeVQh_jKTQ7SYjy0sL3_vd7C-kjk3s0bLfLjfDplRh0')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
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
