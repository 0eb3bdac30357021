import { TokenEndpointError, type TokenErrorBody } from './errors.js';
import { tokenEndpoint, type MicrosoftUrls } from './endpoints.js';

/** The token part of a grant's sealed credentials. */
export interface TokenFields {
  access_token: string;
  refresh_token: string | null;
  /** Unix ms when the access token expires. */
  expires_at: number;
  /** Unix ms of the last successful refresh (or of the code exchange). */
  refreshed_at: number;
  scope: string[];
}

/** What a grant's sealed credentials hold for Microsoft. `subscription` is owned by watch.ts. */
export interface MicrosoftCredentials extends TokenFields {
  subscription?: StoredSubscription;
  [key: string]: unknown;
}

export interface StoredSubscription {
  id: string;
  clientState: string;
  /** ISO date-time. */
  expiresAt: string;
}

export interface TokenClient {
  fetch: typeof fetch;
  now: () => Date;
  urls: MicrosoftUrls;
  tenant: string;
  clientId: string;
  clientSecret: string;
}

export interface TokenResponse {
  credentials: TokenFields;
  idToken: string | null;
}

function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  if (!v) return undefined;
  const s = Number(v);
  return Number.isFinite(s) ? s * 1000 : undefined;
}

/** POSTs a grant to the v2 token endpoint; throws TokenEndpointError with the classified body. */
async function tokenCall(c: TokenClient, form: Record<string, string>): Promise<TokenResponse> {
  const res = await c.fetch(tokenEndpoint(c.urls, c.tenant), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ client_id: c.clientId, client_secret: c.clientSecret, ...form }).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // A proxy's HTML error page: classify by status only.
  }
  if (!res.ok || typeof body.access_token !== 'string') {
    const errBody: TokenErrorBody = {
      ...(typeof body.error === 'string' ? { error: body.error } : res.status >= 500 || res.status === 429 ? { error: 'temporarily_unavailable' } : {}),
      ...(typeof body.error_description === 'string' ? { error_description: body.error_description.split('\n')[0]!.slice(0, 300) } : {}),
      ...(Array.isArray(body.error_codes) ? { error_codes: body.error_codes.filter((x): x is number => typeof x === 'number') } : {}),
    };
    throw new TokenEndpointError(res.status, errBody, retryAfterMs(res));
  }
  const now = c.now().getTime();
  const expiresIn = Number(body.expires_in ?? 3600);
  return {
    credentials: {
      access_token: body.access_token,
      refresh_token: typeof body.refresh_token === 'string' ? body.refresh_token : (form.refresh_token ?? null),
      expires_at: now + (Number.isFinite(expiresIn) ? expiresIn : 3600) * 1000,
      refreshed_at: now,
      scope: typeof body.scope === 'string' ? body.scope.split(' ').filter(Boolean) : [],
    },
    idToken: typeof body.id_token === 'string' ? body.id_token : null,
  };
}

export function exchangeCode(c: TokenClient, a: { code: string; redirectUri: string; codeVerifier: string; scope: string[] }): Promise<TokenResponse> {
  return tokenCall(c, { grant_type: 'authorization_code', code: a.code, redirect_uri: a.redirectUri, code_verifier: a.codeVerifier, scope: a.scope.join(' ') });
}

/** Refreshes; the response's new refresh token (they rotate) must be saved at once by the caller. */
export function refreshTokens(c: TokenClient, refreshToken: string, scope: string[]): Promise<TokenResponse> {
  return tokenCall(c, { grant_type: 'refresh_token', refresh_token: refreshToken, scope: scope.join(' ') });
}
