import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxClock } from '../clock.js';
import type { Directory } from '../directory.js';
import { GraphError, graphErrorBody } from '../graph/errors.js';
import { guid, pairwiseSubject } from '../ids.js';
import type { TokenStore } from './tokens.js';

/**
 * The OpenID Connect UserInfo endpoint, which Microsoft serves on the Graph host
 * (`https://graph.microsoft.com/oidc/userinfo`): a Graph access token of a sign-in that asked
 * for `openid` returns the user's claims. `sub` is the same pairwise subject as in the app's ID
 * token, so OIDC clients can check that both describe one user. Errors are Graph errors.
 */
export interface UserInfoDeps {
  clock: SandboxClock;
  directory: Directory;
  tokens: TokenStore;
}

const WWW_AUTH = 'Bearer realm="", error="invalid_token"';

export function registerUserInfo(app: FastifyInstance, d: UserInfoDeps): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const fail = (status: number, code: string, message: string) =>
      reply.code(status).header('www-authenticate', WWW_AUTH).send(graphErrorBody(new GraphError(status, code, message), d.clock.now(), guid()));
    const raw = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (!raw) return fail(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    const token = d.tokens.accessTokens.get(raw);
    if (!token) return fail(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    if (token.expiresAt <= d.clock.now()) return fail(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
    const user = d.directory.users.get(token.userId);
    if (token.revoked || !user) return fail(401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    if (!token.scopes.has('openid')) return fail(403, 'Authorization_RequestDenied', 'The access token does not carry the openid scope.');
    const [given, ...family] = user.displayName.split(' ');
    return reply.header('cache-control', 'no-store').send({
      sub: pairwiseSubject(user.id, token.clientId),
      name: user.displayName,
      ...(family.length ? { given_name: given, family_name: family.join(' ') } : {}),
      ...(token.scopes.has('email') ? { email: user.mail } : {}),
      picture: 'https://graph.microsoft.com/v1.0/me/photo/$value',
    });
  };
  app.get('/oidc/userinfo', handler);
  app.post('/oidc/userinfo', handler);
}
