import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import { opaque } from '../ids.js';

/**
 * The signing key of this sandbox instance. Like the real service, one key set serves every
 * tenant (the JWKS is the same under `/common`, `/organizations` and each tenant), and the
 * `kid` in a token header names the key to verify it with.
 */
export class SigningKeys {
  private constructor(
    private readonly privateKey: CryptoKey,
    readonly kid: string,
    private readonly publicJwk: JWK,
  ) {}

  static async create(): Promise<SigningKeys> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = opaque(20);
    const jwk = await exportJWK(publicKey);
    return new SigningKeys(privateKey, kid, { kty: 'RSA', use: 'sig', kid, x5t: kid, n: jwk.n, e: jwk.e, alg: 'RS256' } as JWK);
  }

  jwks(issuer: string): { keys: (JWK & { issuer: string })[] } {
    return { keys: [{ ...this.publicJwk, issuer }] };
  }

  sign(claims: JWTPayload): Promise<string> {
    return new SignJWT(claims).setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.kid }).sign(this.privateKey);
  }
}
