import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API keys are high-entropy random strings, so a SHA-256 digest is a safe verifier (no slow
 * hash needed). Only the digest and a short display prefix are stored; the key is shown once.
 */
export const API_KEY_PREFIX_LENGTH = 12;

export function generateApiKey(): string {
  return `trb_${randomBytes(30).toString('base64url')}`;
}

export function apiKeyPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX_LENGTH);
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function apiKeyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashApiKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
