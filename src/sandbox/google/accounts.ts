import { createHash, randomBytes, randomInt } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';

/**
 * Google's OAuth 2.0 / OpenID Connect side, in memory: OAuth clients, users, single-use
 * authorization codes (10 minutes), access tokens (1 hour), refresh tokens (issued with
 * access_type=offline on consent; not rotated; dead once revoked), and RS256 ID tokens.
 */
export interface SandboxUser {
  sub: string;
  email: string;
  name: string;
  emailVerified: boolean;
}

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  sub: string;
  scope: string[];
  nonce: string | null;
  challenge: string | null;
  method: string | null;
  offline: boolean;
  expiresAt: number;
}

export interface AccessGrant {
  sub: string;
  clientId: string;
  scope: string[];
  expiresAt: number;
}

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

const b64url = (b: Buffer) => b.toString('base64url');

export class Accounts {
  readonly users = new Map<string, SandboxUser>();
  private readonly byEmail = new Map<string, string>();
  readonly clients = new Map<string, OAuthClient>();
  private readonly codes = new Map<string, PendingCode>();
  private readonly access = new Map<string, AccessGrant>();
  private readonly refresh = new Map<string, { sub: string; clientId: string; scope: string[] }>();
  private key!: { privateKey: CryptoKey; jwk: JWK };

  constructor(
    private readonly now: () => number,
    readonly issuer: () => string,
  ) {}

  async init(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const jwk = await exportJWK(publicKey);
    this.key = { privateKey, jwk: { ...jwk, kid: b64url(randomBytes(10)), alg: 'RS256', use: 'sig' } };
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.key.jwk] };
  }

  /** An RS256 JWT signed with the sandbox's Google key (ID tokens and Pub/Sub push tokens). */
  sign(claims: Record<string, unknown>, lifetimeS = 3600): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: this.key.jwk.kid!, typ: 'JWT' })
      .setIssuer(this.issuer())
      .setIssuedAt(iat)
      .setExpirationTime(iat + lifetimeS)
      .sign(this.key.privateKey);
  }

  createClient(redirectUris: string[]): OAuthClient {
    const c = { clientId: `${randomInt(100_000_000_000, 999_999_999_999)}-${b64url(randomBytes(12)).toLowerCase()}.apps.googleusercontent.com`, clientSecret: `GOCSPX-${b64url(randomBytes(21))}`, redirectUris };
    this.clients.set(c.clientId, c);
    return c;
  }

  addUser(email: string, name = email.split('@')[0]!): SandboxUser {
    const existing = this.userByEmail(email);
    if (existing) return existing;
    const u = { sub: String(randomInt(100_000_000, 999_999_999)) + String(randomInt(100_000_000_000, 999_999_999_999)), email: email.toLowerCase(), name, emailVerified: true };
    this.users.set(u.sub, u);
    this.byEmail.set(u.email, u.sub);
    return u;
  }

  userByEmail(email: string): SandboxUser | undefined {
    const sub = this.byEmail.get(email.toLowerCase());
    return sub ? this.users.get(sub) : undefined;
  }

  issueCode(p: Omit<PendingCode, 'expiresAt'>): string {
    const code = `4/0${b64url(randomBytes(30))}`;
    this.codes.set(code, { ...p, expiresAt: this.now() + 600_000 });
    return code;
  }

  private authenticateClient(form: Record<string, string | undefined>, authorization: string | undefined): OAuthClient {
    let id = form.client_id;
    let secret = form.client_secret;
    if (authorization?.startsWith('Basic ')) {
      const [u, p] = Buffer.from(authorization.slice(6), 'base64').toString().split(':');
      id = decodeURIComponent(u ?? '');
      secret = decodeURIComponent(p ?? '');
    }
    const c = id ? this.clients.get(id) : undefined;
    if (!c) throw new OAuthError(401, 'invalid_client', 'The OAuth client was not found.');
    if (secret !== c.clientSecret) throw new OAuthError(401, 'invalid_client', 'Unauthorized');
    return c;
  }

  /** POST /token. */
  async token(form: Record<string, string | undefined>, authorization: string | undefined): Promise<Record<string, unknown>> {
    const client = this.authenticateClient(form, authorization);
    if (form.grant_type === 'authorization_code') {
      const code = form.code ? this.codes.get(form.code) : undefined;
      if (form.code) this.codes.delete(form.code);
      if (!code || code.expiresAt < this.now() || code.clientId !== client.clientId) throw new OAuthError(400, 'invalid_grant', 'Malformed auth code.');
      if (code.redirectUri !== form.redirect_uri) throw new OAuthError(400, 'redirect_uri_mismatch', 'Bad Request');
      if (code.challenge) {
        const v = form.code_verifier ?? '';
        const ok = code.method === 'S256' ? b64url(createHash('sha256').update(v).digest()) === code.challenge : v === code.challenge;
        if (!ok) throw new OAuthError(400, 'invalid_grant', 'Invalid code verifier.');
      }
      const user = this.users.get(code.sub)!;
      const out: Record<string, unknown> = { ...this.newAccess(code.sub, client.clientId, code.scope), scope: code.scope.join(' '), token_type: 'Bearer' };
      if (code.offline) {
        const rt = `1//0${b64url(randomBytes(40))}`;
        this.refresh.set(rt, { sub: code.sub, clientId: client.clientId, scope: code.scope });
        out.refresh_token = rt;
      }
      if (code.scope.includes('openid')) {
        out.id_token = await this.sign({
          aud: client.clientId,
          azp: client.clientId,
          sub: user.sub,
          ...(code.scope.includes('email') ? { email: user.email, email_verified: user.emailVerified } : {}),
          ...(code.scope.includes('profile') ? { name: user.name } : {}),
          ...(code.nonce ? { nonce: code.nonce } : {}),
          at_hash: b64url(createHash('sha256').update(String(out.access_token)).digest().subarray(0, 16)),
        });
      }
      return out;
    }
    if (form.grant_type === 'refresh_token') {
      const r = form.refresh_token ? this.refresh.get(form.refresh_token) : undefined;
      if (!r || r.clientId !== client.clientId) throw new OAuthError(400, 'invalid_grant', 'Token has been expired or revoked.');
      return { ...this.newAccess(r.sub, r.clientId, r.scope), scope: r.scope.join(' '), token_type: 'Bearer' };
    }
    throw new OAuthError(400, 'unsupported_grant_type', `Invalid grant_type: ${form.grant_type ?? ''}`);
  }

  private newAccess(sub: string, clientId: string, scope: string[]) {
    const token = `ya29.${b64url(randomBytes(48))}`;
    this.access.set(token, { sub, clientId, scope, expiresAt: this.now() + 3600_000 });
    return { access_token: token, expires_in: 3599 };
  }

  /** The grant behind a Bearer token, or null (expired, revoked, unknown). */
  accessOf(authorization: string | undefined): AccessGrant | null {
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : '';
    const g = this.access.get(token);
    return g && g.expiresAt > this.now() ? g : null;
  }

  /** Revokes every token of a user (the account removed the app's access): refreshes then fail with invalid_grant. */
  revokeUser(email: string): number {
    const sub = this.userByEmail(email)?.sub;
    let n = 0;
    for (const [t, r] of this.refresh) {
      if (r.sub !== sub) continue;
      this.refresh.delete(t);
      n++;
    }
    for (const [t, a] of this.access) if (a.sub === sub) this.access.delete(t);
    return n;
  }

  /** POST /revoke?token=…: an access or refresh token. */
  revokeToken(token: string): boolean {
    const r = this.refresh.get(token);
    if (r) {
      this.refresh.delete(token);
      for (const [t, a] of this.access) if (a.sub === r.sub && a.clientId === r.clientId) this.access.delete(t);
      return true;
    }
    return this.access.delete(token);
  }

  /** Access tokens end now (a test of refresh). */
  expireAccessTokens(): void {
    for (const a of this.access.values()) a.expiresAt = 0;
  }
}
