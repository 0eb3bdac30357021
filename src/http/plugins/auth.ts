import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError } from '../../domain/errors.js';
import type { Principal } from '../types.js';

/**
 * Resolves the caller of a request. Authenticators are tried in order; the first that
 * recognises the request decides (a recognised but invalid credential is an error, not a fall
 * through). The dashboard adds a session authenticator beside the API-key one.
 */
export type Authenticator = (req: FastifyRequest) => Promise<Principal | null | undefined>;

export function bearerApiKey(ctx: AppContext): Authenticator {
  return async (req) => {
    const header = req.headers.authorization;
    if (!header) return undefined;
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw new AppError('unauthorized', 'Authorization header must be "Bearer <api key>"');
    const found = await ctx.repos.apiKeys.authenticate(m[1]!);
    if (!found) throw new AppError('unauthorized', 'API key is not valid (unknown or revoked)');
    return { applicationId: found.applicationId, via: 'api_key', keyId: found.keyId };
  };
}

export function registerAuth(app: FastifyInstance, authenticators: Authenticator[]): void {
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    if (req.routeOptions.config?.public || !req.routeOptions.url) return;
    for (const authenticate of authenticators) {
      const principal = await authenticate(req);
      if (principal) {
        req.principal = principal;
        return;
      }
    }
    throw new AppError('unauthorized', 'missing credentials: send "Authorization: Bearer <api key>"');
  });
}
