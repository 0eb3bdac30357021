import { ProviderError, tokenFieldsOf, type OAuthCallContext, type OAuthIntegration, type OAuthTokenFields, type TokenErrorClass } from '../provider.js';
import { googleUrls } from './endpoints.js';

/**
 * Google's token endpoint and its errors as data. `invalid_grant` means the refresh token no
 * longer works: revoked by the user, expired after 6 months unused, or — for apps whose consent
 * screen is still in "Testing" — after 7 days. Google does not rotate refresh tokens.
 */
export const TOKEN_ERRORS: { byError: Record<string, TokenErrorClass>; unambiguous: RegExp } = {
  byError: {
    invalid_grant: 'reauth',
    invalid_client: 'app_misconfigured',
    unauthorized_client: 'app_misconfigured',
    redirect_uri_mismatch: 'app_misconfigured',
    invalid_scope: 'app_misconfigured',
    temporarily_unavailable: 'transient',
    server_error: 'transient',
  },
  /** Descriptions of invalid_grant that leave no doubt: the token is dead for good. */
  unambiguous: /expired or revoked|has been revoked|account has been deleted/i,
};

export const TESTING_HINT =
  'the user revoked access, the token went unused for 6 months, or the app’s OAuth consent screen is in "Testing" (Google then expires refresh tokens after 7 days: publish the app); the account must sign in again';

export interface GoogleCredentials extends OAuthTokenFields {
  /** Gmail watch state (watch.ts). */
  watch?: { topicName: string; expiration: number; renewedAt: number };
  [key: string]: unknown;
}

export class GoogleTokenError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly retryAfterMs?: number,
  ) {
    super(`Google token endpoint answered ${status}: ${error}${description ? ` (${description})` : ''}`);
    this.name = 'GoogleTokenError';
  }
}

export function classifyTokenError(err: unknown): TokenErrorClass {
  if (err instanceof ProviderError) return err.kind === 'reauth' || err.kind === 'app_misconfigured' ? err.kind : 'transient';
  if (err instanceof GoogleTokenError) return TOKEN_ERRORS.byError[err.error] ?? 'transient';
  return 'transient';
}

/** The ProviderError the engines classify, with a reason that says what to do. */
export function tokenFailure(err: unknown): ProviderError {
  const kind = classifyTokenError(err);
  if (!(err instanceof GoogleTokenError)) return new ProviderError(kind, err instanceof Error ? err.message : String(err));
  if (kind === 'reauth') return new ProviderError('reauth', `Google refused the refresh token (${err.error}: ${err.description || 'no description'}): ${TESTING_HINT}`, undefined, TOKEN_ERRORS.unambiguous.test(err.description));
  if (kind === 'app_misconfigured') return new ProviderError(kind, `the Google OAuth client was refused (${err.error}: ${err.description}); check the client id and secret of the integration`);
  return new ProviderError(kind, err.message, err.retryAfterMs);
}

async function tokenCall(integration: OAuthIntegration, c: OAuthCallContext, form: Record<string, string>, previous: string | null) {
  if (!integration.clientId || !integration.clientSecret) throw new ProviderError('app_misconfigured', 'the google integration has no client_id or client_secret');
  const res = await c.fetch(googleUrls(c.urls).token, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ client_id: integration.clientId, client_secret: integration.clientSecret, ...form }).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok || typeof body.access_token !== 'string') {
    const retry = Number(res.headers.get('retry-after'));
    throw new GoogleTokenError(
      res.status,
      typeof body.error === 'string' ? body.error : res.status >= 500 || res.status === 429 ? 'temporarily_unavailable' : 'invalid_response',
      typeof body.error_description === 'string' ? body.error_description.slice(0, 300) : '',
      Number.isFinite(retry) && retry > 0 ? retry * 1000 : undefined,
    );
  }
  const now = c.now().getTime();
  const expiresIn = Number(body.expires_in ?? 3600);
  const credentials: GoogleCredentials = {
    access_token: body.access_token,
    refresh_token: typeof body.refresh_token === 'string' ? body.refresh_token : previous,
    expires_at: now + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000,
    refreshed_at: now,
    scope: typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : [],
  };
  return { credentials, idToken: typeof body.id_token === 'string' ? body.id_token : null };
}

export function exchangeCode(a: { code: string; redirectUri: string; codeVerifier: string; integration: OAuthIntegration }, c: OAuthCallContext) {
  return tokenCall(a.integration, c, { grant_type: 'authorization_code', code: a.code, redirect_uri: a.redirectUri, code_verifier: a.codeVerifier }, null);
}

export function refreshTokens(refreshToken: string, integration: OAuthIntegration, c: OAuthCallContext) {
  return tokenCall(integration, c, { grant_type: 'refresh_token', refresh_token: refreshToken }, refreshToken);
}

export const credentialsOf = (raw: Record<string, unknown>): GoogleCredentials => tokenFieldsOf(raw, 'Google');

/**
 * A grant's tokens inside one session: an access token refreshed a minute before it expires (and
 * at least daily), one refresh at a time, every change saved before it is used.
 */
export class GoogleTokens {
  private inflight: Promise<string> | null = null;

  constructor(
    private creds: GoogleCredentials,
    private readonly integration: OAuthIntegration,
    private readonly c: OAuthCallContext,
    private readonly save: (c: GoogleCredentials) => Promise<void>,
  ) {}

  get credentials(): GoogleCredentials {
    return this.creds;
  }

  async accessToken(force = false): Promise<string> {
    const now = this.c.now().getTime();
    if (!force && this.creds.expires_at - 60_000 > now && now - this.creds.refreshed_at < 24 * 3600_000) return this.creds.access_token;
    this.inflight ??= this.refresh().finally(() => (this.inflight = null));
    return this.inflight;
  }

  async refresh(): Promise<string> {
    if (!this.creds.refresh_token) throw new ProviderError('reauth', 'the grant has no Google refresh token (sign in again; hosted auth asks for access_type=offline and prompt=consent)', undefined, true);
    try {
      const { credentials } = await refreshTokens(this.creds.refresh_token, this.integration, this.c);
      await this.update({ ...credentials, scope: credentials.scope.length ? credentials.scope : this.creds.scope });
      return this.creds.access_token;
    } catch (err) {
      throw err instanceof ProviderError ? err : tokenFailure(err);
    }
  }

  async update(patch: Partial<GoogleCredentials>): Promise<void> {
    const next = { ...this.creds, ...patch };
    await this.save(next);
    this.creds = next;
  }
}
