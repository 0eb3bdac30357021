import type { AppContext } from '../context.js';
import { issueGrantTokens, rotateRefreshToken, type IssuedTokens } from './access-tokens.js';
import { verifierError, verifierMatches } from './pkce.js';
import { redeemCode } from './store.js';

/**
 * POST /v3/connect/token (RFC 6749 §4.1.3 and §6, as Nylas v3 has it): `authorization_code` turns
 * the one-time code of hosted authentication into the grant plus grant-scoped tokens;
 * `refresh_token` rotates those tokens. The client authenticates with its application id and an
 * API key of that application as `client_secret`.
 */
type Ctx = Pick<AppContext, 'store' | 'repos' | 'sealer' | 'now'>;

/** Stable numbers for each OAuth error (`error_code`), so clients can branch without parsing text. */
export const OAUTH_ERROR_CODES = {
  invalid_request: 1001,
  invalid_client: 1002,
  invalid_grant: 1003,
  unauthorized_client: 1004,
  unsupported_grant_type: 1005,
  server_error: 1100,
} as const;
export type OAuthErrorName = keyof typeof OAUTH_ERROR_CODES;

/** An OAuth error of the token endpoint (RFC 6749 §5.2). */
export class OAuthTokenError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: OAuthErrorName,
    message: string,
  ) {
    super(message);
    this.name = 'OAuthTokenError';
  }

  body(requestId: string) {
    return { request_id: requestId, error: this.error, error_description: this.message, error_code: OAUTH_ERROR_CODES[this.error] };
  }
}

export interface TokenRequest {
  grant_type: string;
  client_id: string;
  client_secret?: string | undefined;
  code?: string | undefined;
  redirect_uri?: string | undefined;
  code_verifier?: string | undefined;
  refresh_token?: string | undefined;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
  id_token?: string;
  grant_id: string;
  email: string;
  provider: string;
}

const invalidGrant = (message: string) => new OAuthTokenError(400, 'invalid_grant', message);
const required = (value: string | undefined, name: string): string => {
  if (!value) throw new OAuthTokenError(400, 'invalid_request', `${name} is required for this grant_type`);
  return value;
};

async function authenticateClient(ctx: Ctx, r: TokenRequest): Promise<void> {
  const key = r.client_secret ? await ctx.repos.apiKeys.authenticate(r.client_secret) : null;
  if (!key || key.applicationId !== r.client_id) {
    throw new OAuthTokenError(401, 'invalid_client', 'client_id and client_secret (an API key of that application) do not match');
  }
}

async function liveGrant(ctx: Ctx, applicationId: string, grantId: string) {
  const grant = await ctx.repos.grants.get(applicationId, grantId);
  if (!grant) throw invalidGrant('the grant was deleted');
  if (grant.status === 'revoked') throw invalidGrant('the grant was revoked; the user must connect again');
  return grant;
}

function tokenResponse(grant: { id: string; email: string; provider: string; scope: string[] }, tokens: IssuedTokens, idToken: string | null): TokenResponse {
  return {
    access_token: tokens.accessToken,
    token_type: 'Bearer',
    expires_in: tokens.expiresIn,
    refresh_token: tokens.refreshToken,
    scope: grant.scope.join(' '),
    ...(idToken ? { id_token: idToken } : {}),
    grant_id: grant.id,
    email: grant.email,
    provider: grant.provider,
  };
}

async function fromCode(ctx: Ctx, r: TokenRequest): Promise<TokenResponse> {
  const codeValue = required(r.code, 'code');
  const redirectUri = required(r.redirect_uri, 'redirect_uri');
  if (r.code_verifier !== undefined) {
    const problem = verifierError(r.code_verifier);
    if (problem) throw new OAuthTokenError(400, 'invalid_request', problem);
  }
  // Scoped to the calling application: another application's code is left untouched.
  const code = await redeemCode(ctx, codeValue, r.client_id);
  if (code === 'invalid') throw invalidGrant('the code is unknown, expired or already used; start the sign-in again');
  if (code.redirectUri !== redirectUri) throw invalidGrant('redirect_uri differs from the one used to start the sign-in');
  if (code.codeChallenge !== null) {
    if (!r.code_verifier) throw invalidGrant('code_verifier is required: the sign-in was started with a code_challenge');
    if (!verifierMatches(code.codeChallenge, code.challengeMethod, r.code_verifier)) throw invalidGrant('code_verifier does not match the code_challenge');
  }
  const grant = await liveGrant(ctx, code.applicationId, code.grantId);
  const tokens = await issueGrantTokens(ctx, { applicationId: code.applicationId, grantId: grant.id });
  return tokenResponse(grant, tokens, code.idToken);
}

async function fromRefreshToken(ctx: Ctx, r: TokenRequest): Promise<TokenResponse> {
  const token = required(r.refresh_token, 'refresh_token');
  const rotated = await rotateRefreshToken(ctx, r.client_id, token);
  if (rotated.status === 'reused') throw invalidGrant('this refresh token was already used; every token issued with it is now revoked');
  if (rotated.status === 'invalid') throw invalidGrant('the refresh token is unknown or expired');
  // A revoked grant's new tokens would not authenticate anyway; the app is told why.
  return tokenResponse(await liveGrant(ctx, r.client_id, rotated.grantId), rotated.tokens, null);
}

export async function exchangeToken(ctx: Ctx, r: TokenRequest): Promise<TokenResponse> {
  if (r.grant_type !== 'authorization_code' && r.grant_type !== 'refresh_token') {
    throw new OAuthTokenError(400, 'unsupported_grant_type', 'grant_type must be "authorization_code" or "refresh_token"');
  }
  await authenticateClient(ctx, r);
  return r.grant_type === 'authorization_code' ? fromCode(ctx, r) : fromRefreshToken(ctx, r);
}
