import type { AppContext } from '../../context.js';
import { AppError } from '../../domain/errors.js';
import { ACCESS_TOKEN_PREFIX, authenticateAccessToken } from '../../oauth/access-tokens.js';
import type { Authenticator } from './auth.js';

/**
 * Grant-scoped access tokens (POST /v3/connect/token) as Bearer credentials. They stand for one
 * grant only, so they open just the routes marked `grantToken: true` (GET /v3/grants/me); an
 * application's management API needs an API key.
 */
export function bearerGrantToken(ctx: AppContext): Authenticator {
  return async (req) => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m || !m[1]!.startsWith(ACCESS_TOKEN_PREFIX)) return undefined;
    const found = await authenticateAccessToken(ctx, m[1]!);
    if (!found) throw new AppError('unauthorized', 'access token is not valid (unknown, expired or revoked): refresh it with POST /v3/connect/token');
    if (!req.routeOptions.config?.grantToken) throw new AppError('forbidden', 'an access token is scoped to one grant and opens only /v3/grants/me; use an API key for this endpoint');
    return { applicationId: found.applicationId, via: 'grant_token', grantId: found.grantId };
  };
}
