import { timingSafeEqual } from 'node:crypto';
import { aadTime, type SandboxClock } from '../clock.js';
import type { AppRegistration, Directory, User } from '../directory.js';
import { sha256url } from '../ids.js';
import { parseScopes } from '../scopes.js';
import { aad } from './aad-errors.js';
import { checkAppForPath, checkUserForPath, resolveTenantPath, type TenantPath } from './tenants.js';
import { CODE_LIFETIME_MS, REFRESH_INACTIVITY_MS, type TokenResponse, type TokenStore } from './tokens.js';

export type TokenRequest = Record<string, string | undefined>;

/**
 * `POST /{tenant}/oauth2/v2.0/token` for confidential web apps: `authorization_code` and
 * `refresh_token` grants, client secret in the body or HTTP Basic. Throws AadError with the
 * status and AADSTS code the real endpoint answers with.
 */
export class TokenEndpoint {
  constructor(
    private readonly clock: SandboxClock,
    private readonly directory: Directory,
    private readonly tokens: TokenStore,
  ) {}

  async handle(tenantKey: string, body: TokenRequest, basicAuth?: { id: string; secret: string }): Promise<TokenResponse> {
    const path = resolveTenantPath(this.directory, tenantKey);
    const clientId = body.client_id ?? basicAuth?.id;
    if (!body.grant_type) throw aad('missingParameter', 400, 'grant_type');
    if (!clientId) throw aad('missingParameter', 400, 'client_id');
    const app = this.directory.apps.get(clientId);
    if (!app) throw aad('appNotFound', 400, clientId, path.key);
    checkAppForPath(app, path);
    this.authenticateClient(app, body.client_secret ?? basicAuth?.secret);
    if (body.grant_type === 'authorization_code') return this.redeemCode(app, path, body);
    if (body.grant_type === 'refresh_token') return this.refresh(app, path, body);
    throw aad('unsupportedGrantType', 400);
  }

  private authenticateClient(app: AppRegistration, secret: string | undefined): void {
    if (!secret) throw aad('missingSecret', 401);
    const match = app.secrets.find((s) => safeEqual(s.value, secret));
    if (!match) throw aad('badSecret', 401, app.clientId);
    if (match.expiresAt <= this.clock.now()) throw aad('expiredSecret', 401, app.clientId);
  }

  private async redeemCode(app: AppRegistration, path: TenantPath, body: TokenRequest): Promise<TokenResponse> {
    if (!body.code) throw aad('missingParameter', 400, 'code');
    if (!body.redirect_uri) throw aad('missingParameter', 400, 'redirect_uri');
    const code = this.tokens.codes.get(body.code);
    if (!code || code.clientId !== app.clientId) throw aad('invalidGrant', 400, 'code');
    if (code.redeemed) throw aad('codeRedeemed', 400);
    if (this.clock.now() - code.issuedAt > CODE_LIFETIME_MS) throw aad('codeExpired', 400);
    if (body.redirect_uri !== code.redirectUri) throw aad('replyMismatch', 400, body.redirect_uri, code.redirectUri);
    if (code.codeChallenge !== undefined) {
      const verifier = body.code_verifier ?? '';
      const expected = code.codeChallengeMethod === 'S256' ? sha256url(verifier) : verifier;
      if (!safeEqual(expected, code.codeChallenge)) throw aad('pkceMismatch', 400);
    }
    // Single use: a second redemption fails even if the first one's response was lost.
    code.redeemed = true;
    const user = this.liveUser(code.userId, code.issuedAt);
    checkUserForPath(app, path, user);
    return this.tokens.issueTokens(app, user, code.scopes, code.authTime, code.nonce);
  }

  private async refresh(app: AppRegistration, path: TenantPath, body: TokenRequest): Promise<TokenResponse> {
    if (!body.refresh_token) throw aad('missingParameter', 400, 'refresh_token');
    const rt = this.tokens.refreshTokens.get(body.refresh_token);
    if (!rt || rt.clientId !== app.clientId) throw aad('invalidGrant', 400, 'refresh_token');
    const now = this.clock.now();
    if (now - rt.issuedAt > REFRESH_INACTIVITY_MS) {
      const days = ((now - rt.issuedAt) / 86_400_000).toFixed(2);
      throw aad('refreshInactive', 400, aadTime(rt.issuedAt), `${Math.floor(Number(days))}.00:00:00`);
    }
    const user = this.liveUser(rt.userId, rt.issuedAt);
    checkUserForPath(app, path, user);
    const consented = this.directory.consentedScopes(app.clientId, user.id);
    let scopes = rt.scopes;
    if (body.scope) {
      const requested = parseScopes(body.scope);
      if (requested.invalid) throw aad('invalidScope', 400, requested.invalid);
      scopes = requested.all;
      // offline_access travels with the refresh token; asking again is not required.
      if (rt.scopes.has('offline_access')) scopes.add('offline_access');
    }
    if (![...scopes].every((s) => consented.has(s))) throw aad('consentRequired', 400, app.clientId, app.displayName);
    // The old refresh token stays valid (the identity platform does not revoke it on use); the
    // response carries a new one that the client is expected to store.
    return this.tokens.issueTokens(app, user, scopes, rt.authTime);
  }

  private liveUser(userId: string, grantIssuedAt: number): User {
    const user = this.directory.users.get(userId);
    if (!user) throw aad('invalidGrant', 400, 'grant');
    if (user.disabled) throw aad('userDisabled', 400);
    if (grantIssuedAt < user.tokensValidFrom) throw aad('grantRevoked', 400, aadTime(grantIssuedAt), aadTime(user.tokensValidFrom));
    return user;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
