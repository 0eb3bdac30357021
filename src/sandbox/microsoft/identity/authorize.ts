import type { SandboxClock } from '../clock.js';
import type { AppRegistration, Directory, User } from '../directory.js';
import { guid, opaque } from '../ids.js';
import { parseScopes } from '../scopes.js';
import { AadError, aad } from './aad-errors.js';
import { checkAppForPath, checkUserForPath, resolveTenantPath, type TenantPath } from './tenants.js';
import type { TokenStore } from './tokens.js';

/** A validated authorization request waiting for the user's decision on the consent page. */
export interface PendingAuth {
  id: string;
  path: TenantPath;
  app: AppRegistration;
  redirectUri: string;
  responseMode: 'query' | 'fragment';
  state?: string;
  scopes: Set<string>;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: 'S256' | 'plain';
  loginHint?: string;
  prompt?: string;
  createdAt: number;
}

/** What the authorize endpoint does next. */
export type AuthorizeOutcome =
  /** No trustworthy redirect URI: show the error, never redirect (AADSTS50011, 700016…). */
  | { kind: 'error-page'; error: AadError }
  /** Show the sign-in and consent page. */
  | { kind: 'consent'; pending: PendingAuth; error?: AadError }
  /** Send the browser back to the app (a code or an OAuth error). */
  | { kind: 'redirect'; location: string };

const PENDING_LIFETIME_MS = 60 * 60 * 1000;
const PROMPTS = new Set(['login', 'none', 'consent', 'select_account']);

/**
 * The authorize endpoint's rules, without HTTP: the HTML page, the form post and the control
 * API's browser-less approval all go through here, so they cannot disagree.
 */
export class Authorizer {
  private readonly pending = new Map<string, PendingAuth>();
  /** Browser sessions (cookie value → user id), for `prompt=none`. */
  private readonly sessions = new Map<string, string>();

  constructor(
    private readonly clock: SandboxClock,
    private readonly directory: Directory,
    private readonly tokens: TokenStore,
  ) {}

  start(tenantKey: string, q: Record<string, string | undefined>, sessionId?: string): AuthorizeOutcome {
    let path: TenantPath;
    let app: AppRegistration;
    let redirectUri: string;
    try {
      path = resolveTenantPath(this.directory, tenantKey);
      if (!q.client_id) throw aad('missingParameter', 400, 'client_id');
      const found = this.directory.apps.get(q.client_id);
      if (!found) throw aad('appNotFound', 400, q.client_id, path.key);
      app = found;
      checkAppForPath(app, path);
      if (!q.redirect_uri) throw aad('missingParameter', 400, 'redirect_uri');
      // Exact, case-sensitive match against the registered URIs, as Entra does for Web platforms.
      if (!app.redirectUris.includes(q.redirect_uri)) throw aad('redirectMismatch', 400, q.redirect_uri, app.clientId);
      redirectUri = q.redirect_uri;
    } catch (e) {
      if (e instanceof AadError) return { kind: 'error-page', error: e };
      throw e;
    }
    const responseMode = q.response_mode ?? 'query';
    const fail = (e: AadError, mode: 'query' | 'fragment' = 'query'): AuthorizeOutcome => ({ kind: 'redirect', location: errorRedirect(redirectUri, mode, e, q.state) });
    if (responseMode !== 'query' && responseMode !== 'fragment') return fail(aad('unsupportedResponseMode', 400, responseMode));
    if (!q.response_type) return fail(aad('missingParameter', 400, 'response_type'), responseMode);
    if (q.response_type !== 'code') return fail(aad('unsupportedResponseType', 400), responseMode);
    if (!q.scope) return fail(aad('missingParameter', 400, 'scope'), responseMode);
    const scopes = parseScopes(q.scope);
    if (scopes.invalid) return fail(aad('invalidScope', 400, scopes.invalid), responseMode);
    let method: 'S256' | 'plain' | undefined;
    if (q.code_challenge !== undefined) {
      method = (q.code_challenge_method ?? 'plain') as 'S256' | 'plain';
      const len = q.code_challenge.length;
      if ((method !== 'S256' && method !== 'plain') || len < 43 || len > 128) return fail(aad('invalidCodeChallengeMethod', 400), responseMode);
    }
    if (q.prompt !== undefined && !PROMPTS.has(q.prompt)) return fail(aad('malformed', 400), responseMode);

    const pending: PendingAuth = { id: opaque(24), path, app, redirectUri, responseMode, scopes: scopes.all, createdAt: this.clock.now() };
    if (q.state !== undefined) pending.state = q.state;
    if (q.nonce !== undefined) pending.nonce = q.nonce;
    if (q.code_challenge !== undefined && method) {
      pending.codeChallenge = q.code_challenge;
      pending.codeChallengeMethod = method;
    }
    if (q.login_hint !== undefined) pending.loginHint = q.login_hint;
    if (q.prompt !== undefined) pending.prompt = q.prompt;

    if (q.prompt === 'none') return this.silent(pending, sessionId);
    this.prunePending();
    this.pending.set(pending.id, pending);
    return { kind: 'consent', pending };
  }

  /** The user's answer on the consent page (or the control API standing in for a browser). */
  decide(pendingId: string, username: string, accept: boolean): AuthorizeOutcome & { sessionId?: string } {
    const pending = this.pending.get(pendingId);
    if (!pending || this.clock.now() - pending.createdAt > PENDING_LIFETIME_MS) {
      return { kind: 'error-page', error: aad('malformed', 400) };
    }
    if (!accept) {
      this.pending.delete(pendingId);
      const location = errorRedirect(pending.redirectUri, pending.responseMode, aad('userDeclined', 400), pending.state, 'cancel');
      return { kind: 'redirect', location };
    }
    const user = this.directory.findUser(username.trim());
    const tenantLabel = pending.path.kind === 'tenant' ? pending.path.tenant.displayName : pending.path.key;
    if (!user) return { kind: 'consent', pending, error: aad('userNotFound', 400, username, tenantLabel) };
    try {
      checkUserForPath(pending.app, pending.path, user);
      if (user.disabled) throw aad('userDisabled', 400);
    } catch (e) {
      if (e instanceof AadError) return { kind: 'consent', pending, error: e };
      throw e;
    }
    this.pending.delete(pendingId);
    this.directory.grantConsent(pending.app.clientId, user.id, pending.scopes);
    const sessionId = opaque(24);
    this.sessions.set(sessionId, user.id);
    return { kind: 'redirect', location: this.codeRedirect(pending, user), sessionId };
  }

  /** Ends a browser session (the end_session endpoint): a later `prompt=none` needs a new sign-in. */
  signOut(sessionId: string | undefined): void {
    if (sessionId) this.sessions.delete(sessionId);
  }

  /** `prompt=none`: succeed only with a signed-in session that already consented to every scope. */
  private silent(p: PendingAuth, sessionId: string | undefined): AuthorizeOutcome {
    const userId = sessionId ? this.sessions.get(sessionId) : undefined;
    const user = userId ? this.directory.users.get(userId) : undefined;
    if (!user) return { kind: 'redirect', location: errorRedirect(p.redirectUri, p.responseMode, aad('loginRequired', 400), p.state) };
    const consented = this.directory.consentedScopes(p.app.clientId, user.id);
    if (![...p.scopes].every((s) => consented.has(s))) {
      const e = aad('consentRequired', 400, p.app.clientId, p.app.displayName);
      return { kind: 'redirect', location: errorRedirect(p.redirectUri, p.responseMode, e, p.state, undefined, 'consent_required') };
    }
    return { kind: 'redirect', location: this.codeRedirect(p, user) };
  }

  private codeRedirect(p: PendingAuth, user: User): string {
    const code = this.tokens.issueCode({
      clientId: p.app.clientId,
      userId: user.id,
      scopes: p.scopes,
      redirectUri: p.redirectUri,
      ...(p.codeChallenge !== undefined && p.codeChallengeMethod ? { codeChallenge: p.codeChallenge, codeChallengeMethod: p.codeChallengeMethod } : {}),
      ...(p.nonce !== undefined ? { nonce: p.nonce } : {}),
    });
    const params: Record<string, string> = { code };
    if (p.state !== undefined) params.state = p.state;
    params.session_state = guid();
    return withParams(p.redirectUri, p.responseMode, params);
  }

  private prunePending(): void {
    const now = this.clock.now();
    for (const [k, p] of this.pending) if (now - p.createdAt > PENDING_LIFETIME_MS) this.pending.delete(k);
  }
}

function errorRedirect(uri: string, mode: 'query' | 'fragment', e: AadError, state: string | undefined, subcode?: string, errorOverride?: string): string {
  const params: Record<string, string> = { error: errorOverride ?? e.error };
  if (subcode) params.error_subcode = subcode;
  params.error_description = e.description;
  if (state !== undefined) params.state = state;
  return withParams(uri, mode, params);
}

function withParams(uri: string, mode: 'query' | 'fragment', params: Record<string, string>): string {
  const url = new URL(uri);
  if (mode === 'fragment') {
    url.hash = new URLSearchParams(params).toString();
    return url.toString();
  }
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}
