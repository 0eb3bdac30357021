import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { IdentitySpec } from '../providers/registry.js';

/**
 * ID-token validation (OpenID Connect Core §3.1.3.7): signature from the provider's JWKS (found
 * through its discovery document), issuer (the provider's rule: a fixed issuer, or a template
 * filled from the token's own claims), audience = our client id, nonce = the one we sent, expiry
 * and not-before with a small clock tolerance, then the provider's own claims check.
 */
export class IdTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdTokenError';
  }
}

interface Discovery {
  issuer: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
  fetchedAt: number;
}

const DISCOVERY_TTL_MS = 3600_000;
const discoveries = new Map<string, Discovery>();

async function discover(url: string, fetchFn: typeof fetch): Promise<Discovery> {
  const cached = discoveries.get(url);
  if (cached && Date.now() - cached.fetchedAt < DISCOVERY_TTL_MS) return cached;
  const res = await fetchFn(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new IdTokenError(`the provider's OpenID discovery document answered ${res.status}`);
  const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (typeof doc.issuer !== 'string' || typeof doc.jwks_uri !== 'string') throw new IdTokenError('the OpenID discovery document lacks issuer or jwks_uri');
  const d: Discovery = { issuer: doc.issuer, jwks: createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: 15_000 }), fetchedAt: Date.now() };
  discoveries.set(url, d);
  return d;
}

export async function validateIdToken(
  idToken: string,
  a: { identity: Extract<IdentitySpec, { kind: 'id_token' }>; discoveryUrl: string; clientId: string; nonce: string; now: Date; fetch: typeof fetch },
): Promise<JWTPayload> {
  const d = await discover(a.discoveryUrl, a.fetch);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, d.jwks, { audience: a.clientId, currentDate: a.now, clockTolerance: 300, algorithms: ['RS256'], requiredClaims: ['iss', 'exp', 'iat'] }));
  } catch (err) {
    throw new IdTokenError(`ID token rejected: ${err instanceof Error ? err.message : String(err)}`);
  }
  const issuer = a.identity.expectedIssuer(d.issuer, payload);
  if (!issuer || payload.iss !== issuer) throw new IdTokenError(`ID token issuer ${String(payload.iss)} does not match the expected issuer`);
  if (payload.nonce !== a.nonce) throw new IdTokenError('ID token nonce does not match this sign-in');
  const problem = a.identity.checkClaims?.(payload);
  if (problem) throw new IdTokenError(`ID token rejected: ${problem}`);
  return payload;
}
