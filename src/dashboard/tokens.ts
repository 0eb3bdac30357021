import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random bearer tokens (session cookies, setup links) are stored only as SHA-256 digests. */
export const newToken = (bytes = 32): string => randomBytes(bytes).toString('base64url');

export const digest = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Constant-time comparison of two strings (CSRF tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
