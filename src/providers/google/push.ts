import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import type { InboundContext, InboundReply, InboundRequest, InboundRoute } from '../provider.js';
import { acceptedIssuers, googleUrls } from './endpoints.js';

/**
 * Gmail push through a Pub/Sub push subscription: `POST /v3/providers/google/notifications`.
 * The OIDC token in `Authorization` is verified (Google's JWKS, issuer, expiry), then for each
 * grant of the notified address its integration's expectations are checked: the audience
 * (the configured one, else this endpoint's URL, Pub/Sub's default) and the push service account
 * (a verified email). `message.data` is base64 JSON `{emailAddress, historyId}`; the matching
 * grants are woken and the push acknowledged with 204 at once (the sync pass reads history,
 * so duplicated or reordered pushes cost nothing and dropped ones are found by polling).
 * Unverifiable pushes are refused with 401/403 and counted; a verified push for an address no
 * grant has is acknowledged (so Pub/Sub stops retrying) and counted.
 */
const Body = Type.Object({
  message: Type.Object({ data: Type.String({ maxLength: 10_000 }), messageId: Type.Optional(Type.String({ maxLength: 200 })), message_id: Type.Optional(Type.String({ maxLength: 200 })) }),
  subscription: Type.Optional(Type.String({ maxLength: 500 })),
});
const Data = Type.Object({ emailAddress: Type.String({ minLength: 3, maxLength: 320 }), historyId: Type.Union([Type.String({ maxLength: 40 }), Type.Integer()]) });

interface Keys {
  issuer: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
  at: number;
}
const keysCache = new Map<string, Keys>();

async function keysFor(discoveryUrl: string, fetchFn: typeof fetch): Promise<Keys> {
  const cached = keysCache.get(discoveryUrl);
  if (cached && Date.now() - cached.at < 3600_000) return cached;
  const res = await fetchFn(discoveryUrl, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`Google's discovery document answered ${res.status}`);
  const doc = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (typeof doc.issuer !== 'string' || typeof doc.jwks_uri !== 'string') throw new Error('Google’s discovery document lacks issuer or jwks_uri');
  const k = { issuer: doc.issuer, jwks: createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: 10_000 }), at: Date.now() };
  keysCache.set(discoveryUrl, k);
  return k;
}

const reject = (status: number, message: string): InboundReply => ({ status, body: { error: { type: status === 400 ? 'invalid_request_error' : 'unauthorized', message } } });

async function handle(req: InboundRequest, ctx: InboundContext): Promise<InboundReply> {
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Bearer ')) {
    ctx.count('unsigned');
    return reject(401, 'a Pub/Sub push must carry an OIDC token (enable authentication on the push subscription)');
  }
  let claims: JWTPayload;
  try {
    const keys = await keysFor(googleUrls(ctx.urls).discovery, ctx.fetch);
    ({ payload: claims } = await jwtVerify(auth.slice(7), keys.jwks, { issuer: acceptedIssuers(keys.issuer), algorithms: ['RS256'], currentDate: ctx.now(), clockTolerance: 60, requiredClaims: ['exp', 'iat', 'aud'] }));
  } catch (err) {
    ctx.count('unverified');
    ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'refused a Gmail push whose OIDC token does not verify');
    return reject(401, 'the push token does not verify against Google’s keys');
  }
  if (!Value.Check(Body, req.body)) {
    ctx.count('malformed');
    return reject(400, 'body must be a Pub/Sub push { message: { data }, subscription }');
  }
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(req.body.message.data, 'base64').toString('utf8')) as unknown;
  } catch {
    data = null;
  }
  if (!Value.Check(Data, data)) {
    ctx.count('malformed');
    return reject(400, 'message.data must be base64 JSON {emailAddress, historyId}');
  }
  const grants = await ctx.grantsByEmail(data.emailAddress);
  if (!grants.length) {
    ctx.count('unknown_account');
    return { status: 204 };
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [String(claims.aud)];
  const matching = grants.filter((g) => {
    const aud = typeof g.integrationSettings.push_audience === 'string' ? g.integrationSettings.push_audience : ctx.routeUrl;
    const sa = g.integrationSettings.push_service_account;
    return audiences.includes(aud) && typeof sa === 'string' && claims.email === sa && claims.email_verified === true;
  });
  if (!matching.length) {
    ctx.count('forbidden');
    ctx.logger.warn({ aud: audiences, email: typeof claims.email === 'string' ? claims.email : null }, 'refused a Gmail push: audience or service account differ from the integration’s');
    return reject(403, 'the push token’s audience or service account is not the one the integration expects');
  }
  for (const g of matching) if (g.status === 'valid') await ctx.wake(g.id, `google:push:${String(data.historyId).slice(0, 40)}`);
  ctx.count('accepted');
  return { status: 204 };
}

export const pushRoute: InboundRoute = { method: 'POST', path: 'notifications', summary: 'Gmail push notifications (called by a Pub/Sub push subscription)', handle };
