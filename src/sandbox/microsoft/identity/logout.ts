import type { FastifyInstance, FastifyReply } from 'fastify';
import { guid } from '../ids.js';
import type { Directory } from '../directory.js';
import { aad } from './aad-errors.js';
import type { Authorizer } from './authorize.js';
import { errorPage, PAGE_CSP, signedOutPage } from './pages.js';

/**
 * `/{tenant}/oauth2/v2.0/logout` (the discovery document's end_session_endpoint, OpenID Connect
 * RP-Initiated Logout): ends the browser session, then sends the browser to
 * `post_logout_redirect_uri` (with `state`) when it is a redirect URI registered for the app,
 * else shows the signed-out page. Front-channel notification of other apps is not emulated.
 */
export function registerLogout(app: FastifyInstance, d: { directory: Directory; authorizer: Authorizer; sessionCookie: string; readCookie: (header: string | undefined) => string | undefined }): void {
  app.get<{ Params: { tenant: string }; Querystring: Record<string, string | undefined> }>('/:tenant/oauth2/v2.0/logout', async (req, reply: FastifyReply) => {
    reply.header('content-security-policy', PAGE_CSP).header('x-frame-options', 'DENY').header('cache-control', 'no-store');
    const target = req.query.post_logout_redirect_uri;
    if (target !== undefined) {
      const apps = req.query.client_id ? [d.directory.apps.get(req.query.client_id)].filter((a) => a !== undefined) : [...d.directory.apps.values()];
      if (!apps.some((a) => a.redirectUris.includes(target))) {
        return reply.code(400).type('text/html; charset=utf-8').send(errorPage(aad('redirectMismatch', 400, target, req.query.client_id ?? ''), guid()));
      }
    }
    d.authorizer.signOut(d.readCookie(req.headers.cookie));
    reply.header('set-cookie', `${d.sessionCookie}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
    if (target === undefined) return reply.type('text/html; charset=utf-8').send(signedOutPage());
    const back = new URL(target);
    if (req.query.state !== undefined) back.searchParams.set('state', req.query.state);
    return reply.redirect(back.toString(), 302);
  });
}
