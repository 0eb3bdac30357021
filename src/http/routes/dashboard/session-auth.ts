import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../../context.js';
import { readCookie, sessionCookieName } from '../../../dashboard/cookies.js';
import { resolveSession, type Session } from '../../../dashboard/sessions.js';
import { sameSecret } from '../../../dashboard/tokens.js';
import { AppError } from '../../../domain/errors.js';
import type { Authenticator } from '../../plugins/auth.js';

/** Requests that change state need the CSRF header and a same-origin Origin (ADR 0600). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';

const sessions = new WeakMap<FastifyRequest, Session>();

/** The dashboard session behind a request, when it was authenticated by one. */
export const sessionOf = (req: FastifyRequest): Session | undefined => sessions.get(req);

export function requireSession(req: FastifyRequest): Session {
  const s = sessions.get(req);
  if (!s) throw new AppError('forbidden', 'this endpoint belongs to the dashboard and needs a dashboard session, not an API key');
  return s;
}

/**
 * A cross-site request either names its origin (Origin, sent by browsers on every POST/PUT/
 * PATCH/DELETE) or at least says it is cross-site (Sec-Fetch-Site). Same-origin means the
 * public URL's origin or the origin the request was addressed to.
 */
export function crossOriginProblem(req: FastifyRequest, publicUrl: string): string | null {
  const origin = req.headers.origin;
  if (typeof origin === 'string') {
    const allowed = [new URL(publicUrl).origin, `${req.protocol}://${req.headers.host ?? ''}`];
    return allowed.includes(origin) ? null : `cross-origin request from ${origin.slice(0, 100)} refused`;
  }
  const site = req.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') return `${site} request refused`;
  return null;
}

/**
 * Accepts a dashboard session cookie in place of an API key. A request that carries an
 * Authorization header is left to the API-key authenticator, so scripts are unaffected by a
 * stray cookie. A session acts for the application selected in the dashboard's switcher.
 */
export function sessionAuthenticator(ctx: AppContext): Authenticator {
  const cookieName = sessionCookieName(ctx.config.publicUrl);
  return async (req) => {
    if (req.headers.authorization) return undefined;
    const token = readCookie(req.headers.cookie, cookieName);
    if (!token) return undefined;
    const session = await resolveSession(ctx.store.db, token, ctx.now());
    if (!session) throw new AppError('unauthorized', 'the dashboard session has ended (signed out, or idle too long); sign in again');
    if (!SAFE_METHODS.has(req.method)) {
      const problem = crossOriginProblem(req, ctx.config.publicUrl);
      if (problem) throw new AppError('forbidden', problem);
      const sent = req.headers[CSRF_HEADER];
      if (typeof sent !== 'string' || !sameSecret(sent, session.csrfToken)) {
        throw new AppError('forbidden', `missing or wrong ${CSRF_HEADER} header: state-changing requests made with a dashboard session must send the session's CSRF token`);
      }
    }
    const applicationId = session.applicationId ?? (await ctx.repos.applications.getDefault())?.id;
    if (!applicationId) throw new AppError('unauthorized', 'no application exists; restart the server to create the default application');
    sessions.set(req, session);
    return { applicationId, via: 'session', userId: session.userId };
  };
}
