import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Accounts, OAuthError } from './accounts.js';
import { parseBatch, renderBatch } from './batch.js';
import { fullMessageJson, Mailbox, messageResource, SYSTEM_LABELS, type MailInput } from './gmail.js';
import { PushSender, type PushSubscription } from './pubsub.js';
import { Quota, quotaError } from './quota.js';

export interface GoogleSandboxOptions {
  port?: number;
  host?: string;
  now?: () => number;
  /** Per-user quota units per second (Gmail: 250). */
  unitsPerSecond?: number;
}

export interface ApproveResult {
  /** Where the browser is sent back to (the client's redirect URI with code or error). */
  redirect: string;
}

/** Test and demo powers; none of them exists on the real service. */
export interface GoogleSandboxControl {
  createClient(redirectUris: string[]): { clientId: string; clientSecret: string };
  addUser(email: string, name?: string): { sub: string; email: string };
  /** Completes an authorize URL without a browser: the consent page's Accept or Cancel. */
  approve(authorizeUrl: string, a: { email: string; action?: 'accept' | 'cancel' }): Promise<ApproveResult>;
  deliverMail(email: string, mail: MailInput): { id: string; threadId: string; historyId: string };
  revoke(email: string): number;
  expireHistory(email: string): void;
  expireAccessTokens(): void;
  /** The next `count` Gmail calls of this user fail with 429 (or 403 userRateLimitExceeded). */
  throttle(email: string, count: number, status?: 429 | 403, retryAfterS?: number): void;
  addPushSubscription(s: PushSubscription): void;
  dropPushes(n: number): void;
  duplicatePushes(n: number): void;
  pushLog(): { endpoint: string; emailAddress: string; historyId: string; status: number | 'dropped' | 'error' }[];
  watchOf(email: string): { topicName: string; labelIds: string[]; expiration: number } | null;
  /** Every accepted `users.stop`, oldest first (the mailbox's watch ended then). */
  stops(): { email: string; at: number }[];
  /** Sign a token with the sandbox's Google key (tests forge pushes with other keys). */
  sign(claims: Record<string, unknown>): Promise<string>;
  requests(): number;
  pushesIdle(): Promise<void>;
}

export interface GoogleSandbox {
  url: string;
  /** TRIBUTARY_GOOGLE_AUTH_URL */
  authorizeUrl: string;
  /** TRIBUTARY_GOOGLE_TOKEN_URL */
  tokenUrl: string;
  /** TRIBUTARY_GMAIL_URL */
  gmailUrl: string;
  control: GoogleSandboxControl;
  close(): Promise<void>;
}

const GMAIL = '/gmail/v1/users/:userId';

function gmailError(reply: FastifyReply, status: number, message: string, reason: string, statusText: string) {
  return reply.code(status).send({ error: { code: status, message, errors: [{ message, domain: 'global', reason }], status: statusText } });
}

/** Start the Google OAuth/OIDC + Gmail API + Pub/Sub push sandbox on loopback. State lives in memory. */
export async function startGoogleSandbox(options: GoogleSandboxOptions = {}): Promise<GoogleSandbox> {
  const now = options.now ?? Date.now;
  let base = '';
  const accounts = new Accounts(now, () => base);
  await accounts.init();
  const boxes = new Map<string, Mailbox>();
  const quota = new Quota(now, options.unitsPerSecond ?? 250);
  const pushes = new PushSender(accounts);
  const pendingConsent = new Map<string, URLSearchParams>();
  let requests = 0;
  const stops: { email: string; at: number }[] = [];

  const boxOf = (email: string) => {
    const key = email.toLowerCase();
    let b = boxes.get(key);
    if (!b) boxes.set(key, (b = new Mailbox(key)));
    return b;
  };

  function authorizeProblem(q: URLSearchParams): { status: number; text: string; back?: string } | null {
    const client = accounts.clients.get(q.get('client_id') ?? '');
    if (!client) return { status: 401, text: 'Error 401: invalid_client. The OAuth client was not found.' };
    const redirect = q.get('redirect_uri') ?? '';
    if (!client.redirectUris.includes(redirect)) return { status: 400, text: `Error 400: redirect_uri_mismatch. You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy (redirect_uri=${redirect}).` };
    const fail = (error: string) => ({ status: 302, text: error, back: `${redirect}${redirect.includes('?') ? '&' : '?'}${new URLSearchParams({ error, ...(q.get('state') ? { state: q.get('state')! } : {}) })}` });
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type');
    if (!(q.get('scope') ?? '').split(' ').includes('openid') && !(q.get('scope') ?? '').includes('googleapis.com')) return fail('invalid_scope');
    const method = q.get('code_challenge_method');
    if (q.get('code_challenge') && method && method !== 'S256' && method !== 'plain') return fail('invalid_request');
    return null;
  }

  function complete(q: URLSearchParams, email: string, action: 'accept' | 'cancel'): string {
    const redirect = q.get('redirect_uri')!;
    const sep = redirect.includes('?') ? '&' : '?';
    const state = q.get('state');
    if (action === 'cancel') return `${redirect}${sep}${new URLSearchParams({ error: 'access_denied', ...(state ? { state } : {}) })}`;
    const user = accounts.addUser(email);
    const scope = (q.get('scope') ?? '').split(/\s+/).filter(Boolean);
    const full = scope.map((s) => (s === 'email' ? 'https://www.googleapis.com/auth/userinfo.email' : s === 'profile' ? 'https://www.googleapis.com/auth/userinfo.profile' : s));
    const code = accounts.issueCode({
      clientId: q.get('client_id')!,
      redirectUri: redirect,
      sub: user.sub,
      scope: [...new Set([...scope, ...full])],
      nonce: q.get('nonce'),
      challenge: q.get('code_challenge'),
      method: q.get('code_challenge') ? (q.get('code_challenge_method') ?? 'plain') : null,
      offline: q.get('access_type') === 'offline',
    });
    return `${redirect}${sep}${new URLSearchParams({ ...(state ? { state } : {}), code, scope: full.join(' '), authuser: '0', prompt: 'consent' })}`;
  }

  const app: FastifyInstance = Fastify({ logger: false, bodyLimit: 8 * 1024 * 1024, forceCloseConnections: true });
  await app.register(formbody);
  app.addContentTypeParser(/^multipart\/mixed/, { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.addHook('onRequest', async () => {
    requests++;
  });

  // --- OAuth 2.0 / OpenID Connect ---------------------------------------------------------
  app.get('/.well-known/openid-configuration', async () => ({
    issuer: base,
    authorization_endpoint: `${base}/o/oauth2/v2/auth`,
    device_authorization_endpoint: `${base}/device/code`,
    token_endpoint: `${base}/token`,
    userinfo_endpoint: `${base}/v1/userinfo`,
    revocation_endpoint: `${base}/revoke`,
    jwks_uri: `${base}/oauth2/v3/certs`,
    response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
    code_challenge_methods_supported: ['plain', 'S256'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
  }));
  app.get('/oauth2/v3/certs', async (_req, reply) => reply.header('cache-control', 'public, max-age=20000').send(accounts.jwks()));

  app.get('/o/oauth2/v2/auth', async (req, reply) => {
    const q = new URLSearchParams(req.query as Record<string, string>);
    const problem = authorizeProblem(q);
    if (problem?.back) return reply.redirect(problem.back, 302);
    if (problem) return reply.code(problem.status).type('text/html').send(`<!doctype html><title>Error</title><h1>Access blocked</h1><p>${escapeHtml(problem.text)}</p>`);
    const id = Math.random().toString(36).slice(2);
    pendingConsent.set(id, q);
    const hint = q.get('login_hint') ?? '';
    return reply
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in - Google Accounts</title></head><body><main><h1>Sign in with Google</h1><form method="post" action="/o/oauth2/v2/auth/consent"><input type="hidden" name="consent_id" value="${id}"><label>Account <input name="email" type="email" value="${escapeHtml(hint)}"></label><h2>Tributary wants to access your Google Account</h2><ul>${(q.get('scope') ?? '').split(' ').map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul><button name="action" value="cancel">Cancel</button> <button name="action" value="accept">Continue</button></form></main></body></html>`,
      );
  });
  app.post('/o/oauth2/v2/auth/consent', async (req, reply) => {
    const b = req.body as Record<string, string | undefined>;
    const q = pendingConsent.get(b.consent_id ?? '');
    if (!q) return reply.code(400).type('text/html').send('<p>This sign-in request has expired. Go back and try again.</p>');
    pendingConsent.delete(b.consent_id!);
    if (b.action !== 'cancel' && !/^[^\s@]+@[^\s@]+$/.test(b.email ?? '')) return reply.code(400).type('text/html').send('<p>Enter an email address.</p>');
    return reply.redirect(complete(q, b.email ?? '', b.action === 'cancel' ? 'cancel' : 'accept'), 302);
  });

  app.post('/token', async (req, reply) => {
    try {
      return reply.header('cache-control', 'no-store').send(await accounts.token((req.body ?? {}) as Record<string, string | undefined>, req.headers.authorization));
    } catch (err) {
      if (err instanceof OAuthError) return reply.code(err.status).send({ error: err.error, error_description: err.description });
      throw err;
    }
  });
  app.post('/revoke', async (req, reply) => {
    const token = (req.query as Record<string, string | undefined>).token ?? ((req.body ?? {}) as Record<string, string | undefined>).token ?? '';
    return accounts.revokeToken(token) ? reply.send({}) : reply.code(400).send({ error: 'invalid_token', error_description: 'Token expired or revoked' });
  });
  app.get('/v1/userinfo', async (req, reply) => {
    const g = accounts.accessOf(req.headers.authorization);
    if (!g) return reply.code(401).send({ error: 'invalid_request', error_description: 'Invalid Credentials' });
    const u = accounts.users.get(g.sub)!;
    return { sub: u.sub, email: u.email, email_verified: u.emailVerified, name: u.name };
  });

  // --- Gmail API v1 ------------------------------------------------------------------------
  type Req = FastifyRequest<{ Params: { userId: string; id?: string }; Querystring: Record<string, string | string[] | undefined> }>;
  /** Authenticates, checks the scope and the quota; returns the mailbox or sends the error. */
  /** `json`: the body already serialised (a cached message), sent as is. */
  type Answer = { status: number; body: unknown; json?: string; headers?: Record<string, string> };
  const errorAnswer = (status: number, message: string, reason: string, statusText: string): Answer => ({ status, body: { error: { code: status, message, errors: [{ message, domain: 'global', reason }], status: statusText } } });
  /** Authentication, scope and quota of one Gmail call: the mailbox, or the error answer. */
  function authorizeCall(authorization: string | undefined, userId: string, method: string): Mailbox | Answer {
    const g = accounts.accessOf(authorization);
    if (!g) return errorAnswer(401, 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.', 'authError', 'UNAUTHENTICATED');
    const user = accounts.users.get(g.sub)!;
    if (userId !== 'me' && userId.toLowerCase() !== user.email) return errorAnswer(403, 'Delegation denied for ' + user.email, 'forbidden', 'PERMISSION_DENIED');
    if (!g.scope.some((s) => s.startsWith('https://www.googleapis.com/auth/gmail.') || s === 'https://mail.google.com/')) return errorAnswer(403, 'Request had insufficient authentication scopes.', 'insufficientPermissions', 'PERMISSION_DENIED');
    const refused = quota.take(user.email, method);
    if (refused) return { status: refused.status, body: quotaError(refused.status), headers: { 'retry-after': String(refused.retryAfterS) } };
    return boxOf(user.email);
  }
  function gmailAuth(req: Req, reply: FastifyReply, method: string): Mailbox | null {
    const r = authorizeCall(req.headers.authorization, req.params.userId, method);
    if (r instanceof Mailbox) return r;
    reply.code(r.status).headers(r.headers ?? {}).send(r.body);
    return null;
  }
  /** users.messages.get, shared by the route and the batch endpoint. */
  function getMessage(authorization: string | undefined, userId: string, id: string, query: URLSearchParams): Answer {
    const b = authorizeCall(authorization, userId, 'messages.get');
    if (!(b instanceof Mailbox)) return b;
    const m = b.messages.get(id);
    if (!m) return errorAnswer(404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const format = query.get('format') ?? 'full';
    if (!['full', 'metadata', 'minimal', 'raw'].includes(format)) return errorAnswer(400, `Invalid value at 'format' (${format})`, 'invalidArgument', 'INVALID_ARGUMENT');
    if (format === 'full') return { status: 200, body: null, json: fullMessageJson(m, b.email) };
    return { status: 200, body: messageResource(m, b.email, format, query.getAll('metadataHeaders')) };
  }
  /** An answer's body as JSON text. */
  const jsonOf = (a: Answer) => a.json ?? JSON.stringify(a.body);
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const many = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

  const getProfile = (req: Req, reply: FastifyReply) => {
    const b = gmailAuth(req, reply, 'getProfile');
    if (!b) return reply;
    return reply.send({ emailAddress: b.email, messagesTotal: b.messages.size, threadsTotal: new Set([...b.messages.values()].map((m) => m.threadId)).size, historyId: String(b.historyId) });
  };
  const historyList = (req: Req, reply: FastifyReply) => {
    const b = gmailAuth(req, reply, 'history.list');
    if (!b) return reply;
    const start = Number(one(req.query.startHistoryId));
    if (!Number.isInteger(start) || start <= 0) return gmailError(reply, 400, 'Invalid startHistoryId', 'invalidArgument', 'INVALID_ARGUMENT');
    if (start < b.minHistoryId) return gmailError(reply, 404, 'Requested entity was not found.', 'notFound', 'NOT_FOUND');
    const types = many(req.query.historyTypes);
    const label = one(req.query.labelId);
    const max = Math.min(500, Math.max(1, Number(one(req.query.maxResults) ?? 100) || 100));
    const after = Number(one(req.query.pageToken) ?? start);
    const records = b.history.filter((h) => h.id > Math.max(start, after) && (!label || b.messages.get(h.messageId)?.labelIds.includes(label)));
    const page = records.slice(0, max);
    const history = page.map((h) => {
      const m = b.messages.get(h.messageId)!;
      const ref = { id: m.id, threadId: m.threadId, labelIds: m.labelIds };
      return { id: String(h.id), messages: [ref], ...(types.length === 0 || types.includes('messageAdded') ? { messagesAdded: [{ message: ref }] } : {}) };
    });
    const more = records.length > max;
    return reply.send({ ...(history.length ? { history } : {}), ...(more ? { nextPageToken: String(page[page.length - 1]!.id) } : {}), historyId: String(b.historyId) });
  };
  const messageGet = (req: Req, reply: FastifyReply) => {
    const q = new URLSearchParams(req.url.split('?')[1] ?? '');
    const a = getMessage(req.headers.authorization, req.params.userId, req.params.id ?? '', q);
    return reply.code(a.status).headers(a.headers ?? {}).type('application/json; charset=UTF-8').send(jsonOf(a));
  };
  app.get(`${GMAIL}/profile`, getProfile);
  app.get(`${GMAIL}/history`, historyList);
  app.get(`${GMAIL}/messages/:id`, messageGet);
  app.get(`${GMAIL}/messages`, async (req: Req, reply) => {
    const b = gmailAuth(req, reply, 'messages.list');
    if (!b) return reply;
    // The search operators Tributary uses: after:/before: (unix seconds); labelIds narrow further.
    const q = one(req.query.q) ?? '';
    const after = Number(/after:(\d+)/.exec(q)?.[1] ?? 0) * 1000;
    const before = Number(/before:(\d+)/.exec(q)?.[1] ?? 0) * 1000;
    const labels = many(req.query.labelIds);
    const max = Math.min(500, Math.max(1, Number(one(req.query.maxResults) ?? 100) || 100));
    const offset = Number(one(req.query.pageToken) ?? 0) || 0;
    const all = b.newestFirst().filter((m) => (!after || m.internalDate > after) && (!before || m.internalDate < before) && labels.every((l) => m.labelIds.includes(l)));
    const page = all.slice(offset, offset + max);
    return reply.send({ ...(page.length ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}), ...(offset + max < all.length ? { nextPageToken: String(offset + max) } : {}), resultSizeEstimate: all.length });
  });
  app.get(`${GMAIL}/labels`, async (req: Req, reply) => {
    const b = gmailAuth(req, reply, 'labels.list');
    if (!b) return reply;
    return reply.send({ labels: [...SYSTEM_LABELS.map((id) => ({ id, name: id, type: 'system' })), ...b.userLabels.map((l) => ({ ...l, type: 'user' }))] });
  });
  app.post(`${GMAIL}/watch`, async (req: Req, reply) => {
    const b = gmailAuth(req, reply, 'watch');
    if (!b) return reply;
    const body = (req.body ?? {}) as { topicName?: unknown; labelIds?: unknown };
    if (typeof body.topicName !== 'string' || !/^projects\/[^/]+\/topics\/[^/]+$/.test(body.topicName)) return gmailError(reply, 400, 'Invalid topicName does not match projects/SOME-PROJECT/topics/SOME-TOPIC', 'invalidArgument', 'INVALID_ARGUMENT');
    if (!pushes.subscriptions.some((s) => s.topic === body.topicName)) return gmailError(reply, 403, `Error sending test message to Cloud PubSub ${body.topicName} : User not authorized to perform this action.`, 'forbidden', 'PERMISSION_DENIED');
    b.watch = { topicName: body.topicName, labelIds: Array.isArray(body.labelIds) ? body.labelIds.map(String) : [], expiration: now() + 7 * 86_400_000 };
    return reply.send({ historyId: String(b.historyId), expiration: String(b.watch.expiration) });
  });
  app.post(`${GMAIL}/stop`, async (req: Req, reply) => {
    const b = gmailAuth(req, reply, 'stop');
    if (!b) return reply;
    b.watch = null;
    stops.push({ email: b.email, at: now() });
    return reply.code(204).send();
  });

  // The batch endpoint: each part is one Gmail call, authorized and metered on its own.
  app.post('/batch/gmail/v1', async (req, reply) => {
    const type = String(req.headers['content-type'] ?? '');
    const boundary = /boundary="?([^";]+)"?/.exec(type)?.[1];
    if (!type.startsWith('multipart/mixed') || !boundary) return reply.code(400).send({ error: { code: 400, message: 'Batch requests must be multipart/mixed with a boundary', status: 'INVALID_ARGUMENT' } });
    const parts = parseBatch(String(req.body ?? ''), boundary);
    if (parts.length > 100) return reply.code(400).send({ error: { code: 400, message: 'Too many requests in batch; the limit is 100', status: 'INVALID_ARGUMENT' } });
    const answers = [];
    const MESSAGE = /^\/gmail\/v1\/users\/([^/?]+)\/messages\/([^/?]+)(?:\?(.*))?$/;
    for (const p of parts) {
      const direct = p.method === 'GET' ? MESSAGE.exec(p.path) : null;
      if (direct) {
        // The common case, answered without a loopback round trip through the router.
        const a = getMessage(p.headers.authorization ?? req.headers.authorization, decodeURIComponent(direct[1]!), decodeURIComponent(direct[2]!), new URLSearchParams(direct[3] ?? ''));
        answers.push({ contentId: p.contentId, status: a.status, headers: { 'content-type': 'application/json; charset=UTF-8', ...a.headers }, body: jsonOf(a) });
        continue;
      }
      const res = await app.inject({ method: p.method as 'GET', url: p.path, headers: { authorization: p.headers.authorization ?? String(req.headers.authorization ?? '') } });
      answers.push({ contentId: p.contentId, status: res.statusCode, headers: { 'content-type': 'application/json; charset=UTF-8', ...(res.headers['retry-after'] ? { 'retry-after': String(res.headers['retry-after']) } : {}) }, body: res.body });
    }
    const out = renderBatch(answers);
    return reply.type(`multipart/mixed; boundary=${out.boundary}`).send(out.body);
  });

  // --- control API (not on the real service) ----------------------------------------------
  const control: GoogleSandboxControl = {
    createClient: (uris) => accounts.createClient(uris),
    addUser: (email, name) => accounts.addUser(email, name),
    async approve(url, a) {
      const u = new URL(url);
      const q = u.searchParams;
      const problem = authorizeProblem(q);
      if (problem?.back) return { redirect: problem.back };
      if (problem) throw new Error(problem.text);
      return { redirect: complete(q, a.email, a.action ?? 'accept') };
    },
    deliverMail(email, mail) {
      accounts.addUser(email);
      const b = boxOf(email);
      const m = b.deliver(mail, now());
      if (b.watch && b.watch.expiration > now() && (b.watch.labelIds.length === 0 || b.watch.labelIds.some((l) => m.labelIds.includes(l)))) pushes.publish(b.watch.topicName, b.email, b.historyId);
      return { id: m.id, threadId: m.threadId, historyId: String(m.historyId) };
    },
    revoke: (email) => accounts.revokeUser(email),
    expireHistory: (email) => boxOf(email).expireHistory(),
    expireAccessTokens: () => accounts.expireAccessTokens(),
    throttle: (email, count, status = 429, retryAfterS = 1) => quota.force(email, count, status, retryAfterS),
    addPushSubscription: (s) => pushes.add(s),
    dropPushes: (n) => pushes.dropNext(n),
    duplicatePushes: (n) => pushes.duplicateNext(n),
    pushLog: () => [...pushes.log],
    watchOf: (email) => boxOf(email).watch,
    stops: () => [...stops],
    sign: (claims) => accounts.sign(claims),
    requests: () => requests,
    pushesIdle: () => pushes.idle(),
  };
  app.post('/_control/mail', async (req) => {
    const b = (req.body ?? {}) as { email?: string } & MailInput;
    if (!b.email) throw Object.assign(new Error('email is required'), { statusCode: 400 });
    return control.deliverMail(b.email, b);
  });
  app.post('/_control/revoke', async (req) => ({ revoked: control.revoke(String((req.body as { email?: string } | undefined)?.email ?? '')) }));
  app.post('/_control/approve', async (req) => control.approve(String((req.body as { url?: string }).url ?? ''), { email: String((req.body as { email?: string }).email ?? ''), action: (req.body as { action?: 'accept' | 'cancel' }).action ?? 'accept' }));

  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  base = address;
  return {
    url: base,
    authorizeUrl: `${base}/o/oauth2/v2/auth`,
    tokenUrl: `${base}/token`,
    gmailUrl: base,
    control,
    async close() {
      await pushes.idle();
      await app.close();
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
