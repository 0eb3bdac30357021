import { randomInt } from 'node:crypto';
import type { SandboxClock } from '../clock.js';
import type { AppRegistration, Directory, User } from '../directory.js';
import { opaque, pairwiseSubject } from '../ids.js';
import { graphPermissions, scopeString } from '../scopes.js';
import type { SigningKeys } from './keys.js';

export const CODE_LIFETIME_MS = 10 * 60 * 1000;
/** Refresh tokens of confidential web apps expire after 90 days without use (AADSTS700082). */
export const REFRESH_INACTIVITY_MS = 90 * 24 * 3600 * 1000;
/** Graph's application id, the `aud` of its access tokens. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface AuthCode {
  clientId: string;
  userId: string;
  scopes: Set<string>;
  redirectUri: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  nonce?: string;
  issuedAt: number;
  authTime: number;
  redeemed: boolean;
}

export interface RefreshToken {
  clientId: string;
  userId: string;
  scopes: Set<string>;
  issuedAt: number;
  authTime: number;
}

export interface AccessToken {
  clientId: string;
  userId: string;
  tenantId: string;
  scopes: Set<string>;
  issuedAt: number;
  expiresAt: number;
  /** Set by a CAE-style revocation: the token is refused before it expires. */
  revoked: boolean;
}

export interface TokenResponse {
  token_type: 'Bearer';
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

/**
 * Codes, refresh tokens and access tokens the sandbox has issued. Everything is in memory;
 * the strings handed out are opaque (codes, refresh tokens) or signed JWTs (ID and access
 * tokens), and every check looks the string up here.
 */
export class TokenStore {
  readonly codes = new Map<string, AuthCode>();
  readonly refreshTokens = new Map<string, RefreshToken>();
  readonly accessTokens = new Map<string, AccessToken>();
  private issued = 0;

  constructor(
    private readonly clock: SandboxClock,
    private readonly directory: Directory,
    private readonly keys: SigningKeys,
    private readonly accessTokenLifetimeS: number | undefined,
  ) {}

  issueCode(c: Omit<AuthCode, 'issuedAt' | 'redeemed' | 'authTime'>): string {
    const code = '1.' + opaque(48);
    const now = this.clock.now();
    this.codes.set(code, { ...c, issuedAt: now, authTime: now, redeemed: false });
    return code;
  }

  /** Tokens for a user and app: always an access token; a refresh token with offline_access; an ID token with openid. */
  async issueTokens(app: AppRegistration, user: User, scopes: Set<string>, authTime: number, nonce?: string): Promise<TokenResponse> {
    const now = this.clock.now();
    if (++this.issued % 500 === 0) this.prune(now);
    // The real service varies access-token lifetime between 60 and 90 minutes.
    const lifetime = this.accessTokenLifetimeS ?? randomInt(3599, 5400);
    const iat = Math.floor(now / 1000);
    const permissions = graphPermissions(scopes);
    const accessToken = await this.keys.sign({
      aud: GRAPH_APP_ID,
      iss: `https://sts.windows.net/${user.tenantId}/`,
      iat,
      nbf: iat,
      exp: iat + lifetime,
      appid: app.clientId,
      app_displayname: app.displayName,
      name: user.displayName,
      oid: user.id,
      scp: scopeString(permissions).split(' ').filter(Boolean).join(' '),
      sub: pairwiseSubject(user.id, GRAPH_APP_ID),
      tid: user.tenantId,
      upn: user.userPrincipalName,
      uti: opaque(16),
      ver: '1.0',
    });
    this.accessTokens.set(accessToken, { clientId: app.clientId, userId: user.id, tenantId: user.tenantId, scopes, issuedAt: now, expiresAt: now + lifetime * 1000, revoked: false });
    const response: TokenResponse = { token_type: 'Bearer', scope: scopeString(scopes), expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken };
    if (scopes.has('offline_access')) {
      const rt = '1.' + opaque(96);
      this.refreshTokens.set(rt, { clientId: app.clientId, userId: user.id, scopes, issuedAt: now, authTime });
      response.refresh_token = rt;
    }
    if (scopes.has('openid')) response.id_token = await this.idToken(app, user, scopes, authTime, nonce);
    return response;
  }

  private idToken(app: AppRegistration, user: User, scopes: Set<string>, authTime: number, nonce?: string): Promise<string> {
    const iat = Math.floor(this.clock.now() / 1000);
    const claims: Record<string, unknown> = {
      ver: '2.0',
      iss: `https://login.microsoftonline.com/${user.tenantId}/v2.0`,
      sub: pairwiseSubject(user.id, app.clientId),
      aud: app.clientId,
      exp: iat + 3600,
      iat,
      nbf: iat,
      auth_time: Math.floor(authTime / 1000),
      tid: user.tenantId,
      oid: user.id,
      uti: opaque(16),
      rh: '0.' + opaque(24),
    };
    if (nonce !== undefined) claims.nonce = nonce;
    if (scopes.has('profile')) {
      claims.name = user.displayName;
      claims.preferred_username = user.userPrincipalName;
    }
    if (scopes.has('email')) claims.email = user.mail;
    return this.keys.sign(claims);
  }

  /** Revoke every refresh token (and, for CAE-style revocation, access token) issued to a user so far. */
  revokeUser(userId: string, accessTokensToo: boolean): void {
    const user = this.directory.users.get(userId);
    if (!user) return;
    // TokensValidFrom is whole seconds in Entra; a token issued in the same millisecond must still die.
    user.tokensValidFrom = this.clock.now() + 1;
    if (accessTokensToo) for (const at of this.accessTokens.values()) if (at.userId === userId) at.revoked = true;
  }

  /** Drop what can no longer be used, so a long-running sandbox (demo, benchmarks) stays small. */
  private prune(now: number): void {
    for (const [k, c] of this.codes) if (now - c.issuedAt > CODE_LIFETIME_MS * 2) this.codes.delete(k);
    for (const [k, t] of this.accessTokens) if (t.expiresAt < now - 3600_000) this.accessTokens.delete(k);
  }
}

