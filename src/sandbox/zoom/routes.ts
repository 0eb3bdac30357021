import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Accounts } from './accounts.js';
import { ZoomApiError, ZoomOAuthError, type AuthorizeOutcome, type ClientCredentials, type PendingAuthorization, type ZoomOAuth } from './oauth.js';
import type { Recordings } from './recordings.js';

export interface RouteDeps {
  baseUrl: () => string;
  accounts: Accounts;
  oauth: ZoomOAuth;
  recordings: Recordings;
  latencyMs: () => number;
}

type Strings = Record<string, string | undefined>;

const USER_SCOPES = ['user:read', 'user:read:user', 'user:read:admin'];
const LIST_SCOPES = ['recording:read', 'cloud_recording:read:list_user_recordings', 'recording:read:admin'];
const DOWNLOAD_SCOPES = ['recording:read', 'cloud_recording:read:recording', 'cloud_recording:read:list_user_recordings', 'recording:read:admin'];

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const STYLE = 'body{font-family:Helvetica,Arial,sans-serif;background:#f7f7fa;margin:0}main{max-width:460px;margin:48px auto;background:#fff;padding:40px;border-radius:12px}h1{font-size:22px}.err{color:#b00}label{display:block;margin:16px 0 4px}input[type=email]{width:100%;padding:6px;box-sizing:border-box}.buttons{margin-top:24px;display:flex;gap:8px;justify-content:flex-end}button{padding:8px 20px}.primary{background:#0b5cff;color:#fff;border:none;border-radius:6px}';

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

function consentPage(p: PendingAuthorization, error?: string): string {
  const scopes = p.app.scopes.map((s) => `<li data-scope="${esc(s)}">${esc(s)}</li>`).join('');
  return page(
    'Authorize app',
    `<h1><span id="app-name">${esc(p.app.name)}</span> would like to access your Zoom account</h1>
<ul id="scopes">${scopes}</ul>${error ? `<p class="err" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/oauth/authorize/decide">
<input type="hidden" name="ctx" value="${esc(p.id)}">
<label for="email">Zoom account</label>
<input type="email" id="email" name="email" autocomplete="username" required>
<div class="buttons"><button type="submit" name="action" value="cancel" formnovalidate>Decline</button>
<button type="submit" name="action" value="accept" class="primary">Allow</button></div>
</form><p>Zoom sandbox: no password is asked for.</p>`,
  );
}

function sendOutcome(reply: FastifyReply, o: AuthorizeOutcome): FastifyReply {
  reply.header('content-security-policy', PAGE_CSP).header('x-frame-options', 'DENY').header('cache-control', 'no-store');
  if (o.kind === 'redirect') return reply.redirect(o.location, 302);
  if (o.kind === 'error-page') return reply.code(o.status).type('text/html; charset=utf-8').send(page('Error', `<h1>Something went wrong</h1><p class="err" id="error">${esc(o.message)}</p>`));
  return reply.code(o.error ? 400 : 200).type('text/html; charset=utf-8').send(consentPage(o.pending, o.error));
}

function basic(req: FastifyRequest): ClientCredentials {
  const h = req.headers.authorization;
  if (!h?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { id: decoded.slice(0, i), secret: decoded.slice(i + 1) };
}

function formBody(req: FastifyRequest): Strings {
  const type = String(req.headers['content-type'] ?? '');
  return type.startsWith('application/x-www-form-urlencoded') && req.body && typeof req.body === 'object' ? (req.body as Strings) : {};
}

/** Zoom's OAuth (zoom.us/oauth/…), REST API (/v2/…), recording downloads (/rec/download) and file host (/file). */
export function registerZoomRoutes(app: FastifyInstance, d: RouteDeps): void {
  const apiError = (reply: FastifyReply, e: ZoomApiError) => reply.code(e.status).send(e.body());
  const oauthError = (reply: FastifyReply, e: ZoomOAuthError) => reply.code(e.status).header('cache-control', 'no-store').send(e.body());
  const api = async <T>(reply: FastifyReply, fn: () => T): Promise<T | FastifyReply> => {
    const ms = d.latencyMs();
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    try {
      return fn();
    } catch (e) {
      if (e instanceof ZoomApiError) return apiError(reply, e);
      throw e;
    }
  };

  app.get<{ Querystring: Strings }>('/oauth/authorize', async (req, reply) => sendOutcome(reply, d.oauth.start(req.query)));
  app.post<{ Body: Strings }>('/oauth/authorize/decide', async (req, reply) => {
    const b = formBody(req);
    return sendOutcome(reply, d.oauth.decide(b.ctx ?? '', b.email ?? '', b.action === 'accept'));
  });

  app.post('/oauth/token', async (req, reply) => {
    // Zoom stopped reading tokens from the query string (2023): parameters travel in the form body.
    try {
      return reply.header('cache-control', 'no-store').send(d.oauth.token(formBody(req), basic(req)));
    } catch (e) {
      if (e instanceof ZoomOAuthError) return oauthError(reply, e);
      throw e;
    }
  });

  app.post('/oauth/revoke', async (req, reply) => {
    try {
      return reply.send(d.oauth.revoke(formBody(req).token, basic(req)));
    } catch (e) {
      if (e instanceof ZoomOAuthError) return oauthError(reply, e);
      throw e;
    }
  });

  app.get('/v2/users/me', async (req, reply) =>
    api(reply, () => {
      const { user } = d.oauth.authenticate(req.headers.authorization, USER_SCOPES);
      return {
        id: user.id,
        first_name: user.firstName,
        last_name: user.lastName,
        display_name: `${user.firstName} ${user.lastName}`.trim(),
        email: user.email,
        type: 2,
        pmi: user.pmi,
        timezone: user.timezone,
        verified: 1,
        account_id: user.accountId,
        status: 'active',
        role_name: 'Owner',
      };
    }),
  );

  app.get<{ Params: { userId: string }; Querystring: Strings }>('/v2/users/:userId/recordings', async (req, reply) =>
    api(reply, () => {
      const { user } = d.oauth.authenticate(req.headers.authorization, LIST_SCOPES);
      const target = req.params.userId;
      if (target !== 'me' && target !== user.id && target.toLowerCase() !== user.email) throw new ZoomApiError(400, 1001, 'User does not exist or does not belong to this account.');
      return d.recordings.list(user, req.query, d.baseUrl());
    }),
  );

  app.get<{ Params: { fileId: string }; Querystring: Strings }>('/rec/download/:fileId', async (req, reply) =>
    api(reply, () => {
      if (req.query.access_token !== undefined) throw new ZoomApiError(401, 124, 'Invalid access token, this access token is not supported as query parameter string.');
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const oauthUser = bearer && d.oauth.isAccessToken(bearer) ? d.oauth.authenticate(req.headers.authorization, DOWNLOAD_SCOPES).user : null;
      return reply.redirect(d.recordings.authorizeDownload(req.params.fileId, bearer, oauthUser, d.baseUrl()), 302);
    }),
  );

  app.get<{ Params: { fileId: string }; Querystring: Strings }>('/file/:fileId', async (req, reply) =>
    api(reply, () => {
      const file = d.recordings.serveFile(req.params.fileId, req.query);
      const type = file.fileType === 'TRANSCRIPT' ? 'text/vtt; charset=utf-8' : 'application/octet-stream';
      return reply.type(type).header('content-disposition', `attachment; filename="${file.id}.${file.extension.toLowerCase()}"`).send(file.content);
    }),
  );
}
