import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { challengeError, challengeMethod, nylasS256, verifierError, verifierMatches } from './pkce.js';
import { s256 } from './secrets.js';

describe('PKCE of the calling application', () => {
  it('reads the method case-insensitively and defaults to plain', () => {
    expect(challengeMethod('s256')).toBe('S256');
    expect(challengeMethod('S256')).toBe('S256');
    expect(challengeMethod('PLAIN')).toBe('plain');
    expect(challengeMethod(undefined)).toBe('plain');
    expect(challengeMethod('S512')).toBeNull();
  });

  it('verifies the RFC 7636 encoding', () => {
    const verifier = 'a'.repeat(20) + 'B'.repeat(23) + '-._~';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    expect(challengeError(challenge)).toBeNull();
    expect(verifierMatches(challenge, 'S256', verifier)).toBe(true);
    expect(verifierMatches(challenge, 'S256', verifier.replace('a', 'c'))).toBe(false);
  });

  it("verifies the Nylas SDK's UUID verifier and base64-of-hex challenge", () => {
    const verifier = randomUUID();
    // As the SDK computes it: base64 of the hex digest, padding stripped.
    const challenge = Buffer.from(createHash('sha256').update(verifier).digest('hex')).toString('base64').replace(/=+$/, '');
    expect(nylasS256(verifier)).toBe(challenge);
    expect(challenge).toHaveLength(86);
    expect(challengeError(challenge)).toBeNull();
    expect(verifierError(verifier)).toBeNull();
    expect(verifierMatches(challenge, 's256', verifier)).toBe(true);
    expect(verifierMatches(challenge, 'S256', randomUUID())).toBe(false);
    // The RFC encoding of the same verifier is accepted as well.
    expect(verifierMatches(s256(verifier), 'S256', verifier)).toBe(true);
  });

  it('refuses malformed verifiers and challenges, and compares plain challenges exactly', () => {
    expect(verifierError('short')).toMatch(/code_verifier/);
    expect(verifierError('x'.repeat(129))).toMatch(/code_verifier/);
    expect(challengeError('has spaces '.repeat(5))).toMatch(/code_challenge/);
    const plain = 'p'.repeat(43);
    expect(verifierMatches(plain, 'plain', plain)).toBe(true);
    expect(verifierMatches(plain, null, plain)).toBe(true);
    expect(verifierMatches(plain, 'plain', 'q'.repeat(43))).toBe(false);
  });
});
