import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError } from '../../domain/errors.js';
import type { Api } from '../types.js';

/**
 * The bucket of a request. A credential is only worth a bucket of its own where the route
 * authenticates with it: on the public routes (dashboard login and setup, hosted auth) a caller
 * could otherwise send a fresh Authorization header per request and get unlimited attempts, so
 * those are keyed by client address whatever headers come along.
 */
export function rateLimitKey(req: FastifyRequest): string {
  const config = req.routeOptions.config as { public?: boolean } | undefined;
  const auth = req.headers.authorization;
  if (config?.public || !auth) return `ip:${req.ip}`;
  return `k:${createHash('sha256').update(auth).digest('base64url').slice(0, 16)}`;
}

/** The app-wide limit (TRIBUTARY_RATE_LIMIT per minute per key); routes narrow it with `config.rateLimit`. */
export async function registerRateLimit(app: Api, ctx: AppContext): Promise<void> {
  await app.register(rateLimit, {
    max: ctx.config.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: rateLimitKey,
    allowList: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url),
  });
}

/**
 * A second limit per account named in the body (`field`), across client addresses: guessing one
 * account's password from many addresses is throttled too. A preHandler (it needs the validated
 * body); the route's own per-address limit has already run in onRequest.
 */
export function perAccountLimit(app: Api, field: string, max: number, timeWindowMs: number): preHandlerAsyncHookHandler {
  const check = app.createRateLimit({
    max,
    timeWindow: timeWindowMs,
    keyGenerator: (req) => {
      const value = (req.body as Record<string, unknown> | undefined)?.[field];
      return `acct:${req.routeOptions.url}:${typeof value === 'string' ? value.trim().toLowerCase() : ''}`;
    },
  });
  return async (req, reply) => {
    const r = await check(req);
    // isAllowed means "on the allow list"; the count decides otherwise.
    if (r.isAllowed || !r.isExceeded) return;
    reply.header('retry-after', String(r.ttlInSeconds));
    throw new AppError('rate_limit_error', `too many attempts for this account; try again in ${r.ttlInSeconds} s`);
  };
}
