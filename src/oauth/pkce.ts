import { createHash } from 'node:crypto';
import { constantTimeEqual, s256 } from './secrets.js';

/**
 * The calling application's PKCE (RFC 7636) at /v3/connect/auth and /v3/connect/token.
 *
 * Two encodings of an S256 challenge are in use and both are accepted:
 * - RFC 7636: base64url (no padding) of the SHA-256 digest of the verifier;
 * - the official Nylas SDKs: standard base64 (padding stripped) of the *hex* SHA-256 of the
 *   verifier, with a UUID as the verifier and `s256` in lower case.
 * The method is matched case-insensitively; verifiers are RFC 7636 ones (43–128 unreserved
 * characters) or the SDKs' 36-character UUIDs (122 random bits).
 */
export type ChallengeMethod = 'S256' | 'plain';

/** RFC 7636 challenges are unreserved characters; the SDK's standard base64 adds `+` and `/`. */
const CHALLENGE = /^[A-Za-z0-9._~+/-]{43,128}$/;
const RFC_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const UUID_VERIFIER = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `S256`/`s256`/`plain` (any case) → the method; undefined → plain (RFC 7636 §4.3); null when unknown. */
export function challengeMethod(given: string | undefined): ChallengeMethod | null {
  if (given === undefined) return 'plain';
  const m = given.toLowerCase();
  return m === 's256' ? 'S256' : m === 'plain' ? 'plain' : null;
}

export const challengeError = (challenge: string): string | null =>
  CHALLENGE.test(challenge) ? null : 'code_challenge must be 43–128 characters of [A-Za-z0-9._~+/-] (RFC 7636 base64url, or the base64 the Nylas SDKs send)';

export const verifierError = (verifier: string): string | null =>
  RFC_VERIFIER.test(verifier) || UUID_VERIFIER.test(verifier) ? null : 'code_verifier must be 43–128 characters of [A-Za-z0-9._~-] (RFC 7636) or a UUID';

/** The Nylas SDKs' S256 encoding: base64 of the hex digest, without padding. */
export const nylasS256 = (verifier: string) => Buffer.from(createHash('sha256').update(verifier).digest('hex')).toString('base64').replace(/=+$/, '');

/** Checks a verifier against the stored challenge (constant time; the method stored is normalized). */
export function verifierMatches(challenge: string, method: string | null, verifier: string): boolean {
  if (verifierError(verifier)) return false;
  if (challengeMethod(method ?? undefined) !== 'S256') return constantTimeEqual(challenge, verifier);
  // Both comparisons always run, so the time taken does not tell which encoding matched.
  const rfc = constantTimeEqual(challenge, s256(verifier));
  const nylas = constantTimeEqual(challenge, nylasS256(verifier));
  return rfc || nylas;
}
