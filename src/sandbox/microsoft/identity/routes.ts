import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxClock } from '../clock.js';
import type { Directory } from '../directory.js';
import { guid } from '../ids.js';
import { AadError, aadErrorBody } from './aad-errors.js';
import type { Authorizer, AuthorizeOutcome } from './authorize.js';
import { discoveryDocument, discoveryIssuer } from './discovery.js';
import type { SigningKeys } from './keys.js';
import { consentPage, errorPage, PAGE_CSP } from './pages.js';
import { resolveTenantPath } from './tenants.js';
import { registerLogout } from './logout.js';
import type { TokenEndpoint } from './token-endpoint.js';
import type { TokenStore } from './tokens.js';
import { registerUserInfo } from './userinfo.js';

export interface IdentityDeps {
  baseUrl: () => string;
  clock: SandboxClock;
  directory: Directory;
  keys: SigningKeys;
  authorizer: Authorizer;
  tokenEndpoint: TokenEndpoint;
  tokens: TokenStore;
}

/** Browser session cookie (the real service's is ESTSAUTH); only `prompt=none` reads it. */
const SESSION_COOKIE = 'sandbox_estsauth';

type Params = { tenant: string };
type Strings = Record<string, string | undefined>;

/** The identity platform's HTTP surface: discovery, JWKS, authorize (page + form post), token, userinfo and end_session. */
export function registerIdentityRoutes(app: FastifyInstance, d: IdentityDeps): void {
  const jsonError = (reply: FastifyReply, e: AadError) => reply.code(e.status).header('cache-control', 'no-store').send(aadErrorBody(e, d.clock.now()));

  app.get<{ Params: Params }>('/:tenant/v2.0/.well-known/openid-configuration', async (req, reply) => {
    try {
      return discoveryDocument(d.baseUrl(), resolveTenantPath(d.directory, req.params.tenant));
    } catch (e) {
      if (e instanceof AadError) return jsonError(reply, e);
      throw e;
    }
  });

  app.get<{ Params: Params }>('/:tenant/discovery/v2.0/keys', async (req, reply) => {
    try {
      return d.keys.jwks(discoveryIssuer(resolveTenantPath(d.directory, req.params.tenant)));
    } catch (e) {
      if (e instanceof AadError) return jsonError(reply, e);
      throw e;
    }
  });

  app.get<{ Params: Params; Querystring: Strings }>('/:tenant/oauth2/v2.0/authorize', async (req, reply) => {
    const outcome = d.authorizer.start(req.params.tenant, req.query, cookie(req, SESSION_COOKIE));
    return sendOutcome(reply, outcome);
  });

  app.post<{ Params: Params; Body: Strings }>('/:tenant/login', async (req, reply) => {
    const body = req.body ?? {};
    const outcome = d.authorizer.decide(body.ctx ?? '', body.username ?? '', body.action === 'accept');
    if (outcome.sessionId) reply.header('set-cookie', `${SESSION_COOKIE}=${outcome.sessionId}; Path=/; HttpOnly; SameSite=Lax`);
    return sendOutcome(reply, outcome);
  });

  app.post<{ Params: Params; Body: Strings }>('/:tenant/oauth2/v2.0/token', async (req, reply) => {
    const type = String(req.headers['content-type'] ?? '');
    // The endpoint only reads form bodies; anything else looks like a request without parameters.
    const body: Strings = type.startsWith('application/x-www-form-urlencoded') && req.body && typeof req.body === 'object' ? req.body : {};
    try {
      const tokens = await d.tokenEndpoint.handle(req.params.tenant, body, basic(req));
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(tokens);
    } catch (e) {
      if (e instanceof AadError) return jsonError(reply, e);
      throw e;
    }
  });

  registerUserInfo(app, { clock: d.clock, directory: d.directory, tokens: d.tokens });
  registerLogout(app, { directory: d.directory, authorizer: d.authorizer, sessionCookie: SESSION_COOKIE, readCookie: (header) => cookieOf(header, SESSION_COOKIE) });
}

export function sendOutcome(reply: FastifyReply, outcome: AuthorizeOutcome): FastifyReply {
  reply.header('content-security-policy', PAGE_CSP).header('x-frame-options', 'DENY').header('cache-control', 'no-store');
  if (outcome.kind === 'redirect') return reply.redirect(outcome.location, 302);
  if (outcome.kind === 'error-page') return reply.code(outcome.error.status).type('text/html; charset=utf-8').send(errorPage(outcome.error, guid()));
  return reply.code(outcome.error ? 400 : 200).type('text/html; charset=utf-8').send(consentPage(outcome.pending, outcome.error));
}

function cookie(req: FastifyRequest, name: string): string | undefined {
  return cookieOf(req.headers.cookie, name);
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

function basic(req: FastifyRequest): { id: string; secret: string } | undefined {
  const h = req.headers.authorization;
  if (!h?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return undefined;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before being joined.
  return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
}
