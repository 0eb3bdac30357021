import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 random bits, URL-safe: states, nonces, PKCE verifiers, one-time codes, link tokens. */
export const randomToken = () => randomBytes(32).toString('base64url');

/** Lookup key of a bearer-like token: the database never holds a usable state, code or link. */
export const tokenHash = (token: string) => createHash('sha256').update(token).digest('base64url');

/** RFC 7636 S256 code challenge. */
export const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** Equality that takes the same time wherever the strings differ (compares fixed-length digests). */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}
