import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../../context.js';
import { completeSetup, hasAdmin, signIn } from '../../../dashboard/accounts.js';
import { readCookie, sessionCookie, sessionCookieName } from '../../../dashboard/cookies.js';
import { passwordProblem } from '../../../dashboard/passwords.js';
import { ABSOLUTE_MS, IDLE_TIMEOUT_MS, createSession, endSession, resolveSession } from '../../../dashboard/sessions.js';
import { AppError, badRequest } from '../../../domain/errors.js';
import { ok } from '../../envelope.js';
import { perAccountLimit } from '../../plugins/rate-limit.js';
import type { Api } from '../../types.js';
import { crossOriginProblem, requireSession } from './session-auth.js';

const Email = Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$' });
const Password = Type.String({ minLength: 1, maxLength: 200 });

const SessionView = Type.Object({
  signed_in: Type.Boolean(),
  setup_required: Type.Boolean(),
  user: Type.Optional(Type.Object({ id: Type.String(), email: Type.String() })),
  csrf_token: Type.Optional(Type.String()),
  application_id: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  idle_timeout_seconds: Type.Integer(),
});

/** Sign-in endpoints are public, so they check the origin themselves (no login CSRF). */
function sameOriginOnly(ctx: AppContext, req: FastifyRequest): void {
  const problem = crossOriginProblem(req, ctx.config.publicUrl);
  if (problem) throw new AppError('forbidden', problem);
}

export function registerAuthRoutes(app: Api, ctx: AppContext): void {
  const cookieName = sessionCookieName(ctx.config.publicUrl);
  const idle = IDLE_TIMEOUT_MS / 1000;
  const signedIn = (user: { id: string; email: string }, csrf: string, applicationId: string | null) => ({
    signed_in: true,
    setup_required: false,
    user,
    csrf_token: csrf,
    application_id: applicationId,
    idle_timeout_seconds: idle,
  });
  async function startSession(reply: FastifyReply, user: { id: string; email: string }) {
    const applicationId = (await ctx.repos.applications.getDefault())?.id ?? null;
    const { token, csrfToken } = await createSession(ctx.store.db, user.id, applicationId, ctx.now());
    reply.header('set-cookie', sessionCookie(ctx.config.publicUrl, token, ABSOLUTE_MS / 1000));
    return signedIn(user, csrfToken, applicationId);
  }
  const tags = ['dashboard'];
  const hide = true;

  app.get('/dashboard/api/session', { config: { public: true }, schema: { tags, hide, response: { 200: Type.Object({ request_id: Type.String(), data: SessionView }) } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const token = readCookie(req.headers.cookie, cookieName);
    const s = token ? await resolveSession(ctx.store.db, token, ctx.now()) : null;
    if (s) return ok(req, signedIn({ id: s.userId, email: s.email }, s.csrfToken, s.applicationId));
    return ok(req, { signed_in: false, setup_required: !(await hasAdmin(ctx.store.db)), idle_timeout_seconds: idle });
  });

  app.post(
    '/dashboard/api/setup',
    {
      config: { public: true, rateLimit: { max: 20, timeWindow: 60_000 } },
      schema: { tags, hide, body: Type.Object({ token: Type.String({ minLength: 16, maxLength: 128 }), email: Email, password: Password }, { additionalProperties: false }) },
    },
    async (req, reply) => {
      sameOriginOnly(ctx, req);
      const problem = passwordProblem(req.body.password);
      if (problem) throw badRequest(problem);
      const r = await completeSetup(ctx.store.db, req.body.token, req.body.email, req.body.password, ctx.now());
      if (!r.ok) {
        throw r.reason === 'already_set_up'
          ? new AppError('conflict', 'the admin account already exists; sign in instead')
          : new AppError('forbidden', 'this setup link is not valid (already used or expired); restart the server to print a new one');
      }
      return ok(req, await startSession(reply, r.user));
    },
  );

  app.post(
    '/dashboard/api/login',
    {
      config: { public: true, rateLimit: { max: 10, timeWindow: 60_000 } },
      schema: { tags, hide, body: Type.Object({ email: Email, password: Password }, { additionalProperties: false }) },
      // 10 a minute per client address (above), and 20 per 15 minutes per account from anywhere.
      preHandler: perAccountLimit(app, 'email', 20, 15 * 60_000),
    },
    async (req, reply) => {
      sameOriginOnly(ctx, req);
      const user = await signIn(ctx.store.db, req.body.email, req.body.password, ctx.now());
      if (!user) throw new AppError('unauthorized', 'the email or the password is wrong');
      return ok(req, await startSession(reply, user));
    },
  );

  app.post('/dashboard/api/logout', { schema: { tags, hide } }, async (req, reply) => {
    const s = requireSession(req);
    await endSession(ctx.store.db, s.tokenHash);
    reply.header('set-cookie', sessionCookie(ctx.config.publicUrl, '', 0));
    return ok(req, { signed_in: false });
  });
}
