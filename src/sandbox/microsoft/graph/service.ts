import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxClock } from '../clock.js';
import type { Directory, User } from '../directory.js';
import { guid } from '../ids.js';
import { GRAPH_APP_ID, type AccessToken, type TokenStore } from '../identity/tokens.js';
import { GraphError, graphErrorBody } from './errors.js';
import { handleMail, requireAnyScope, type MailDeps } from './mail.js';
import type { Mailbox } from './mailbox.js';
import { ok, parsePrefer, splitPath, type GraphRequest, type GraphResponse } from './request.js';
import type { Throttle } from './throttle.js';

export interface GraphDeps extends MailDeps {
  clock: SandboxClock;
  directory: Directory;
  tokens: TokenStore;
  throttle: Throttle;
  mailbox: (userId: string) => Mailbox;
  /** Subscriptions live outside any one mailbox (`/v1.0/subscriptions`). */
  subscriptions: (req: GraphRequest) => Promise<GraphResponse>;
  /** Extra latency per call (control API), so tests can make calls overlap. */
  latencyMs: () => number;
}

const WWW_AUTH = `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`;

/** `/v1.0/*`: bearer-token check, throttling, then the resource handlers. */
export function registerGraphRoutes(app: FastifyInstance, d: GraphDeps): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const requestId = guid();
    const clientRequestId = typeof req.headers['client-request-id'] === 'string' ? req.headers['client-request-id'] : undefined;
    reply.header('request-id', requestId).header('client-request-id', clientRequestId ?? requestId);
    try {
      const token = authenticate(req, d);
      const user = d.directory.users.get(token.userId);
      if (!user) throw invalidToken('Access token validation failure.');
      const url = new URL(req.url, 'http://sandbox');
      const path = url.pathname.replace(/^\/v1\.0\/?/, '');
      const res =
        path === '$batch' && req.method === 'POST'
          ? await batch(req.body, req.headers.prefer, token, user, d, requestId)
          : await execute({ method: req.method, url, prefer: req.headers.prefer, body: req.body }, token, user, d);
      for (const [k, v] of Object.entries(res.headers ?? {})) reply.header(k, v);
      reply.code(res.status);
      return res.body === undefined ? reply.send() : reply.send(res.body);
    } catch (e) {
      if (!(e instanceof GraphError)) throw e;
      for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
      return reply.code(e.status).send(graphErrorBody(e, d.clock.now(), requestId, clientRequestId));
    }
  };
  app.all('/v1.0/*', handler);
}

interface Call {
  method: string;
  url: URL;
  prefer: string | string[] | undefined;
  body: unknown;
}

/** One Graph call: it takes a slot of the mailbox's throttling budget for as long as it runs. */
async function execute(call: Call, token: AccessToken, caller: User, d: GraphDeps): Promise<GraphResponse> {
  const segments = splitPath(call.url.pathname.replace(/^\/v1\.0\/?/, ''));
  const target = resolveTarget(segments, caller, d.directory);
  const release = d.throttle.enter(token.clientId, target.mailboxUser.id);
  try {
    const latency = d.latencyMs();
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    const prefer = parsePrefer(call.prefer);
    const greq: GraphRequest = {
      method: call.method,
      segments: target.rest,
      query: Object.fromEntries(call.url.searchParams),
      body: call.body,
      user: target.mailboxUser,
      token,
      immutableIds: prefer.immutableIds,
      ...(prefer.maxPageSize !== undefined ? { maxPageSize: prefer.maxPageSize } : {}),
    };
    return target.kind === 'subscriptions' ? await d.subscriptions(greq) : dispatch(greq, target.prefix, d);
  } finally {
    release();
  }
}

/** Graph runs at most four requests of a batch at a time; each is throttled on its own. */
const BATCH_LIMIT = 20;
const BATCH_PARALLEL = 4;

/**
 * JSON batching: `POST /$batch { requests: [{ id, method, url, headers?, body? }] }` →
 * `{ responses: [{ id, status, headers, body }] }`. The batch answers 200 even when parts fail.
 */
async function batch(raw: unknown, outerPrefer: string | string[] | undefined, token: AccessToken, caller: User, d: GraphDeps, requestId: string): Promise<GraphResponse> {
  const requests = (raw as { requests?: unknown } | undefined)?.requests;
  if (!Array.isArray(requests) || requests.length === 0) throw new GraphError(400, 'BadRequest', 'Invalid batch payload format.');
  if (requests.length > BATCH_LIMIT) throw new GraphError(400, 'BadRequest', `Number of requests in a batch exceeds the limit of ${BATCH_LIMIT}.`);
  const responses: Record<string, unknown>[] = [];
  const runOne = async (r: { id?: unknown; method?: unknown; url?: unknown; headers?: Record<string, string>; body?: unknown }): Promise<Record<string, unknown>> => {
    const id = String(r.id ?? '');
    try {
      if (typeof r.method !== 'string' || typeof r.url !== 'string') throw new GraphError(400, 'BadRequest', "Each request needs 'id', 'method' and 'url'.");
      const headers = Object.fromEntries(Object.entries(r.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      const url = new URL(`/v1.0/${r.url.replace(/^\//, '')}`, 'http://sandbox');
      const res = await execute({ method: r.method.toUpperCase(), url, prefer: headers.prefer ?? outerPrefer, body: r.body }, token, caller, d);
      return { id, status: res.status, headers: res.headers ?? {}, ...(res.body !== undefined ? { body: res.body } : {}) };
    } catch (e) {
      if (!(e instanceof GraphError)) throw e;
      return { id, status: e.status, headers: e.headers, body: graphErrorBody(e, d.clock.now(), requestId) };
    }
  };
  for (let i = 0; i < requests.length; i += BATCH_PARALLEL) {
    responses.push(...(await Promise.all(requests.slice(i, i + BATCH_PARALLEL).map(runOne))));
  }
  return { status: 200, body: { responses } };
}

function dispatch(req: GraphRequest, prefix: string, d: GraphDeps): GraphResponse {
  if (req.segments.length === 0) {
    if (req.method !== 'GET') throw new GraphError(405, 'Request_BadRequest', 'Method not allowed.');
    requireAnyScope(req, ['user.read', 'user.readbasic.all', 'user.read.all']);
    return ok(userJson(req.user, d.graphUrl()));
  }
  return handleMail(req, d.mailbox(req.user.id), prefix, d);
}

function userJson(u: User, graphUrl: string): Record<string, unknown> {
  const [given, ...rest] = u.displayName.split(' ');
  return {
    '@odata.context': `${graphUrl}/$metadata#users/$entity`,
    businessPhones: [],
    displayName: u.displayName,
    givenName: given ?? null,
    jobTitle: null,
    mail: u.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: rest.length ? rest.join(' ') : null,
    userPrincipalName: u.userPrincipalName,
    id: u.id,
  };
}

function authenticate(req: FastifyRequest, d: GraphDeps): AccessToken {
  const h = req.headers.authorization ?? '';
  const raw = /^Bearer\s+(.+)$/i.exec(h)?.[1]?.trim();
  if (!raw) throw invalidToken('Access token is empty.');
  const token = d.tokens.accessTokens.get(raw);
  if (!token) throw invalidToken(raw.includes('.') ? 'Access token validation failure. Invalid audience.' : 'IDX14100: JWT is not well formed, there are no dots (.).');
  if (token.expiresAt <= d.clock.now()) throw invalidToken('Lifetime validation failed, the token is expired.');
  if (token.revoked) {
    // Continuous access evaluation: a critical event (revocation) ends the token before it expires.
    const claims = Buffer.from(JSON.stringify({ access_token: { nbf: { essential: true, value: String(Math.floor(d.clock.now() / 1000)) } } })).toString('base64');
    throw new GraphError(401, 'InvalidAuthenticationToken', 'Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp', {
      'www-authenticate': `${WWW_AUTH}, error="insufficient_claims", claims="${claims}"`,
    });
  }
  return token;
}

const invalidToken = (message: string) => new GraphError(401, 'InvalidAuthenticationToken', message, { 'www-authenticate': WWW_AUTH });

type Target = { kind: 'mailbox' | 'subscriptions'; mailboxUser: User; prefix: string; rest: string[] };

/** `me/…`, `users/{id|upn}/…` or `subscriptions/…`. Delegated tokens reach only the signed-in user's mailbox. */
function resolveTarget(segments: string[], caller: User, directory: Directory): Target {
  const [head, id, ...rest] = segments;
  const h = head?.toLowerCase();
  if (h === 'me') return { kind: 'mailbox', mailboxUser: caller, prefix: 'me', rest: segments.slice(1) };
  if (h === 'subscriptions') return { kind: 'subscriptions', mailboxUser: caller, prefix: '', rest: segments.slice(1) };
  if (h === 'users' && id) {
    const user = directory.findUser(id);
    if (!user) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    if (user.id !== caller.id) throw new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
    return { kind: 'mailbox', mailboxUser: user, prefix: `users/${id}`, rest };
  }
  throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${head ?? ''}'.`);
}
