import { ProviderError, tokenFieldsOf, type TokenErrorClass } from '../provider.js';

/**
 * Zoom's token endpoint (`POST {zoom}/oauth/token`, client authentication by HTTP Basic) and
 * revocation, and the classification of its errors. Zoom answers errors as `{ reason, error }`.
 */
export interface ZoomCredentials {
  access_token: string;
  refresh_token: string | null;
  /** Unix ms. */
  expires_at: number;
  refreshed_at: number;
  scope: string[];
  /** The API base Zoom names in the token response (data residency); used when it is a Zoom host. */
  api_url: string | null;
  [k: string]: unknown;
}

export interface TokenClient {
  fetch: typeof fetch;
  now: () => Date;
  /** `{zoom}/oauth`. */
  oauthBase: string;
  clientId: string;
  clientSecret: string;
}

/** A failed call to the token endpoint. Holds Zoom's error and reason, never a token. */
export class ZoomTokenError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
  ) {
    super(`Zoom token endpoint answered ${status} ${error}: ${reason}`);
    this.name = 'ZoomTokenError';
  }
}

/** `error` → class. Unknown errors and 5xx are transient: an unknown error must never expire a grant. */
const BY_ERROR: Record<string, TokenErrorClass> = {
  invalid_grant: 'reauth',
  invalid_token: 'reauth',
  invalid_client: 'app_misconfigured',
  unauthorized_client: 'app_misconfigured',
  unsupported_grant_type: 'app_misconfigured',
};

export function classifyTokenError(err: unknown): TokenErrorClass {
  if (err instanceof ProviderError) return err.kind === 'reauth' || err.kind === 'app_misconfigured' ? err.kind : 'transient';
  if (err instanceof ZoomTokenError) return err.status >= 500 ? 'transient' : (BY_ERROR[err.error] ?? 'transient');
  return 'transient';
}

/**
 * As a ProviderError for the sync engine. `invalid_grant` on a refresh is unambiguous at Zoom:
 * a refresh token works once (a second use is refused), expires after 90 days, and dies when
 * the user removes the app — in every case the user must authorize again.
 */
export function tokenFailure(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const kind = classifyTokenError(err);
  const message = err instanceof Error ? err.message : String(err);
  if (kind === 'reauth') return new ProviderError('reauth', `${message}; the Zoom user must authorize the app again`, undefined, true);
  if (kind === 'app_misconfigured') return new ProviderError('app_misconfigured', `${message}; check the Zoom integration's client id and secret`);
  return new ProviderError('transient', message);
}

async function post(c: TokenClient, path: string, form: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await c.fetch(`${c.oauthBase}/${path}`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.clientId}:${c.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    },
    body: new URLSearchParams(form),
    redirect: 'error',
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new ZoomTokenError(res.status, typeof body.error === 'string' ? body.error : `http_${res.status}`, typeof body.reason === 'string' ? body.reason : (typeof body.error_description === 'string' ? body.error_description : res.statusText));
  return body;
}

function toCredentials(body: Record<string, unknown>, now: number, previous?: ZoomCredentials): ZoomCredentials {
  if (typeof body.access_token !== 'string' || !body.access_token) throw new ZoomTokenError(502, 'invalid_response', 'the token response has no access_token');
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
  return {
    ...(previous ?? {}),
    access_token: body.access_token,
    refresh_token: typeof body.refresh_token === 'string' ? body.refresh_token : (previous?.refresh_token ?? null),
    expires_at: now + expiresIn * 1000,
    refreshed_at: now,
    scope: typeof body.scope === 'string' ? body.scope.split(/[\s,]+/).filter(Boolean) : (previous?.scope ?? []),
    api_url: typeof body.api_url === 'string' ? body.api_url : (previous?.api_url ?? null),
  };
}

export async function exchangeCode(c: TokenClient, a: { code: string; redirectUri: string; codeVerifier: string }): Promise<ZoomCredentials> {
  const body = await post(c, 'token', { grant_type: 'authorization_code', code: a.code, redirect_uri: a.redirectUri, code_verifier: a.codeVerifier });
  return toCredentials(body, c.now().getTime());
}

/** One refresh. Zoom rotates the refresh token: the caller must save the result before anything else. */
export async function refreshTokens(c: TokenClient, creds: ZoomCredentials): Promise<ZoomCredentials> {
  if (!creds.refresh_token) throw new ProviderError('reauth', 'the grant holds no Zoom refresh token', undefined, true);
  const body = await post(c, 'token', { grant_type: 'refresh_token', refresh_token: creds.refresh_token });
  return toCredentials(body, c.now().getTime(), creds);
}

/** `POST /oauth/revoke`: ends the authorization (the app is removed from the user's account). */
export async function revokeToken(c: TokenClient, token: string): Promise<void> {
  await post(c, 'revoke', { token });
}

export function credentialsOf(raw: Record<string, unknown>): ZoomCredentials {
  return { ...tokenFieldsOf(raw, 'Zoom'), api_url: typeof raw.api_url === 'string' ? raw.api_url : null };
}

/**
 * A grant's tokens inside one session: an access token refreshed shortly before it expires,
 * one refresh at a time, every rotated refresh token saved before the new access token is used.
 */
export class ZoomTokens {
  private pending: Promise<string> | null = null;

  constructor(
    private creds: ZoomCredentials,
    private readonly client: TokenClient,
    private readonly save: (c: ZoomCredentials) => Promise<void>,
  ) {}

  get current(): ZoomCredentials {
    return this.creds;
  }

  async accessToken(): Promise<string> {
    if (this.pending) return this.pending;
    const left = this.creds.expires_at - this.client.now().getTime();
    return left > 5 * 60_000 ? this.creds.access_token : this.refresh();
  }

  /**
   * Zoom said the user removed the app: remember it with the credentials (it survives the
   * session being reopened after a failed pass), so every pass proves the tokens by refreshing
   * until Zoom refuses (the grant then expires) or accepts (the notice was not for these tokens).
   */
  async markDeauthorized(at: number): Promise<void> {
    if (this.creds.deauthorized_at) return;
    const next = { ...this.creds, deauthorized_at: at };
    await this.save(next);
    this.creds = next;
  }

  /** Refresh now (after a 401), joining one under way. */
  refresh(): Promise<string> {
    this.pending ??= (async () => {
      let next: ZoomCredentials;
      try {
        next = await refreshTokens(this.client, this.creds);
      } catch (err) {
        throw tokenFailure(err);
      }
      // A refresh that works disproves an earlier deauthorization notice.
      delete next.deauthorized_at;
      await this.save(next);
      this.creds = next;
      return next.access_token;
    })().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }
}
