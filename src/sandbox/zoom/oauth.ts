import { createHash } from 'node:crypto';
import type { SandboxClock } from '../microsoft/clock.js';
import { opaque, type Accounts, type ZoomApp, type ZoomUser } from './accounts.js';

/** Authorization codes live 5 minutes and work once. */
export const CODE_LIFETIME_MS = 5 * 60_000;
export const ACCESS_TOKEN_SECONDS = 3599;
/** Refresh tokens expire after 90 days; each refresh returns a new one and the old one stops working. */
export const REFRESH_LIFETIME_MS = 90 * 24 * 3600_000;
const PENDING_LIFETIME_MS = 30 * 60_000;

/** An OAuth error as Zoom's token endpoint reports it: `{ reason, error }` with a status. */
export class ZoomOAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(reason);
  }
  body(): { reason: string; error: string } {
    return { reason: this.reason, error: this.error };
  }
}

/** A Zoom API error: `{ code, message }` with an HTTP status (124 = bad access token, 4711 = missing scope…). */
export class ZoomApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
  body(): { code: number; message: string } {
    return { code: this.code, message: this.message };
  }
}

export interface PendingAuthorization {
  id: string;
  app: ZoomApp;
  redirectUri: string;
  state?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  createdAt: number;
}

export type AuthorizeOutcome =
  | { kind: 'error-page'; status: number; message: string }
  | { kind: 'consent'; pending: PendingAuthorization; error?: string }
  | { kind: 'redirect'; location: string };

interface Code {
  clientId: string;
  userId: string;
  redirectUri: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  issuedAt: number;
  redeemed: boolean;
}

interface Token {
  clientId: string;
  userId: string;
  scopes: string[];
  expiresAt: number;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  refresh_token: string;
  expires_in: number;
  scope: string;
  api_url: string;
}

export type ClientCredentials = { id: string; secret: string } | undefined;

/**
 * Zoom's user-managed OAuth (authorization code, optionally PKCE) without HTTP: the authorize
 * page, the browser-less approval of the control API and the token endpoint all go through here.
 */
export class ZoomOAuth {
  private readonly pending = new Map<string, PendingAuthorization>();
  private readonly codes = new Map<string, Code>();
  private readonly access = new Map<string, Token>();
  private readonly refresh = new Map<string, Token>();
  /** Token requests seen (for tests that check the client authenticated with Basic). */
  readonly tokenRequests: { grantType: string; basic: boolean }[] = [];

  constructor(
    private readonly clock: SandboxClock,
    private readonly accounts: Accounts,
    private readonly apiUrl: () => string,
  ) {}

  start(q: Record<string, string | undefined>): AuthorizeOutcome {
    const app = q.client_id ? this.accounts.apps.get(q.client_id) : undefined;
    if (!app) return { kind: 'error-page', status: 400, message: 'Invalid client_id: the app does not exist or is not published for this account.' };
    if (!q.redirect_uri || !app.redirectUris.includes(q.redirect_uri)) {
      return { kind: 'error-page', status: 400, message: `Invalid redirect: ${q.redirect_uri ?? '(missing)'} is not on the app's OAuth allow list.` };
    }
    const fail = (error: string, description: string): AuthorizeOutcome => ({ kind: 'redirect', location: withParams(q.redirect_uri!, { error, error_description: description, ...(q.state !== undefined ? { state: q.state } : {}) }) });
    if (q.response_type !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    let method: 'S256' | 'plain' | undefined;
    if (q.code_challenge !== undefined) {
      method = (q.code_challenge_method ?? 'plain') as 'S256' | 'plain';
      if ((method !== 'S256' && method !== 'plain') || !/^[A-Za-z0-9._~-]{43,128}$/.test(q.code_challenge)) return fail('invalid_request', 'Invalid code_challenge or code_challenge_method');
    }
    const pending: PendingAuthorization = { id: opaque(18), app, redirectUri: q.redirect_uri, createdAt: this.clock.now() };
    if (q.state !== undefined) pending.state = q.state;
    if (q.code_challenge !== undefined && method) {
      pending.codeChallenge = q.code_challenge;
      pending.codeChallengeMethod = method;
    }
    for (const [k, p] of this.pending) if (this.clock.now() - p.createdAt > PENDING_LIFETIME_MS) this.pending.delete(k);
    this.pending.set(pending.id, pending);
    return { kind: 'consent', pending };
  }

  /** The user's answer on the consent page: Allow as `email`, or Decline. */
  decide(pendingId: string, email: string, accept: boolean): AuthorizeOutcome {
    const p = this.pending.get(pendingId);
    if (!p || this.clock.now() - p.createdAt > PENDING_LIFETIME_MS) return { kind: 'error-page', status: 400, message: 'This authorization request has expired. Start again from the app.' };
    const state = p.state !== undefined ? { state: p.state } : {};
    if (!accept) {
      this.pending.delete(pendingId);
      return { kind: 'redirect', location: withParams(p.redirectUri, { error: 'access_denied', error_description: 'The user declined to authorize the app', ...state }) };
    }
    const user = this.accounts.findUser(email);
    if (!user) return { kind: 'consent', pending: p, error: `No Zoom account for ${email}` };
    this.pending.delete(pendingId);
    this.accounts.install(p.app.clientId, user.id);
    const code = opaque(24);
    this.codes.set(code, {
      clientId: p.app.clientId,
      userId: user.id,
      redirectUri: p.redirectUri,
      issuedAt: this.clock.now(),
      redeemed: false,
      ...(p.codeChallenge !== undefined && p.codeChallengeMethod ? { codeChallenge: p.codeChallenge, codeChallengeMethod: p.codeChallengeMethod } : {}),
    });
    return { kind: 'redirect', location: withParams(p.redirectUri, { code, ...state }) };
  }

  /** `POST /oauth/token`. Client credentials from HTTP Basic (or, as Zoom also accepts, the form). */
  token(form: Record<string, string | undefined>, basic: ClientCredentials): TokenResponse {
    this.tokenRequests.push({ grantType: form.grant_type ?? '', basic: basic !== undefined });
    const id = basic?.id ?? form.client_id;
    const secret = basic?.secret ?? form.client_secret;
    if (!id || !secret) throw new ZoomOAuthError(401, 'invalid_client', 'Client ID or client secret is missing.');
    const app = this.accounts.apps.get(id);
    if (!app || app.clientSecret !== secret) throw new ZoomOAuthError(401, 'invalid_client', 'Invalid client_id or client_secret');
    if (form.grant_type === 'authorization_code') return this.redeemCode(app, form);
    if (form.grant_type === 'refresh_token') return this.rotate(app, form.refresh_token);
    throw new ZoomOAuthError(400, 'unsupported_grant_type', 'Unsupported grant type');
  }

  private redeemCode(app: ZoomApp, form: Record<string, string | undefined>): TokenResponse {
    const code = form.code ? this.codes.get(form.code) : undefined;
    if (!code || code.clientId !== app.clientId) throw new ZoomOAuthError(400, 'invalid_grant', 'Invalid authorization code');
    if (code.redeemed || this.clock.now() - code.issuedAt > CODE_LIFETIME_MS) throw new ZoomOAuthError(400, 'invalid_grant', 'Invalid authorization code');
    // Any attempt by the right client uses the code up, a failed one included (no verifier guessing).
    code.redeemed = true;
    if (form.redirect_uri !== code.redirectUri) throw new ZoomOAuthError(400, 'invalid_request', 'Redirect URI mismatch.');
    if (code.codeChallenge !== undefined) {
      const v = form.code_verifier ?? '';
      const computed = code.codeChallengeMethod === 'S256' ? createHash('sha256').update(v).digest('base64url') : v;
      if (!v || computed !== code.codeChallenge) throw new ZoomOAuthError(400, 'invalid_request', 'Invalid code_verifier');
    }
    if (!this.accounts.isInstalled(app.clientId, code.userId)) throw new ZoomOAuthError(400, 'invalid_grant', 'Invalid authorization code');
    return this.issue(app, code.userId);
  }

  private rotate(app: ZoomApp, refreshToken: string | undefined): TokenResponse {
    const t = refreshToken ? this.refresh.get(refreshToken) : undefined;
    if (!t || t.clientId !== app.clientId || t.expiresAt <= this.clock.now()) throw new ZoomOAuthError(400, 'invalid_grant', 'Invalid Token!');
    this.refresh.delete(refreshToken!);
    if (!this.accounts.isInstalled(app.clientId, t.userId)) throw new ZoomOAuthError(400, 'invalid_grant', 'Invalid Token!');
    return this.issue(app, t.userId);
  }

  private issue(app: ZoomApp, userId: string): TokenResponse {
    const now = this.clock.now();
    const access = opaque(40);
    const refresh = opaque(40);
    this.access.set(access, { clientId: app.clientId, userId, scopes: [...app.scopes], expiresAt: now + ACCESS_TOKEN_SECONDS * 1000 });
    this.refresh.set(refresh, { clientId: app.clientId, userId, scopes: [...app.scopes], expiresAt: now + REFRESH_LIFETIME_MS });
    return { access_token: access, token_type: 'bearer', refresh_token: refresh, expires_in: ACCESS_TOKEN_SECONDS, scope: app.scopes.join(' '), api_url: this.apiUrl() };
  }

  /** `POST /oauth/revoke`: the token (access or refresh) and every other token of that authorization stop working. */
  revoke(token: string | undefined, basic: ClientCredentials): { status: 'success' } {
    if (!basic) throw new ZoomOAuthError(401, 'invalid_client', 'Client ID or client secret is missing.');
    const app = this.accounts.apps.get(basic.id);
    if (!app || app.clientSecret !== basic.secret) throw new ZoomOAuthError(401, 'invalid_client', 'Invalid client_id or client_secret');
    const t = token ? (this.access.get(token) ?? this.refresh.get(token)) : undefined;
    if (!t || t.clientId !== app.clientId) throw new ZoomOAuthError(400, 'invalid_request', 'Invalid Token!');
    this.forget(app.clientId, t.userId);
    this.accounts.uninstall(app.clientId, t.userId);
    return { status: 'success' };
  }

  /** Drops every token of (app, user): after revocation or deauthorization. */
  forget(clientId: string, userId: string): void {
    for (const map of [this.access, this.refresh]) for (const [k, t] of map) if (t.clientId === clientId && t.userId === userId) map.delete(k);
  }

  /** The user behind a Bearer access token, if it carries one of `anyScope`; throws a ZoomApiError. */
  authenticate(authorization: string | undefined, anyScope: readonly string[]): { user: ZoomUser; token: Token } {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const t = m?.[1] ? this.access.get(m[1]) : undefined;
    if (!t) throw new ZoomApiError(401, 124, 'Invalid access token.');
    if (t.expiresAt <= this.clock.now()) throw new ZoomApiError(401, 124, 'Access token is expired.');
    const user = this.accounts.users.get(t.userId);
    if (!user) throw new ZoomApiError(401, 124, 'Invalid access token.');
    if (!anyScope.some((s) => t.scopes.includes(s))) throw new ZoomApiError(400, 4711, `Invalid access token, does not contain scopes:[${anyScope.join(', ')}].`);
    return { user, token: t };
  }

  /** Whether a Bearer value is a live access token (without scope checks). */
  isAccessToken(value: string): boolean {
    const t = this.access.get(value);
    return t !== undefined && t.expiresAt > this.clock.now();
  }
}

function withParams(uri: string, params: Record<string, string>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}
