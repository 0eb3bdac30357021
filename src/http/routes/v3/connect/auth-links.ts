import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { badRequest } from '../../../../domain/errors.js';
import type { ProviderId } from '../../../../domain/provider.js';
import { createLink } from '../../../../oauth/store.js';
import { getOAuthProvider } from '../../../../providers/registry.js';
import { appId, Envelope, ok, unix } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { connectRateLimit } from './page.js';

const DAY = 86_400;

const Body = Type.Object(
  {
    provider: Type.String({ minLength: 1, maxLength: 20, description: 'an OAuth provider of the application (GET /v3/providers: auth = oauth)' }),
    login_hint: Type.Optional(Type.String({ minLength: 3, maxLength: 320, pattern: '^[^\\s@]+@[^\\s@]+$', description: 'the email address that must sign in' })),
    expires_in: Type.Integer({ minimum: 60, maximum: 30 * DAY, default: 7 * DAY, description: 'seconds the link stays usable' }),
    redirect_uri: Type.String({ minLength: 1, maxLength: 2000, description: 'where the user lands afterwards; one of the application redirect URIs' }),
    state: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false },
);

const Link = Type.Object({ id: Type.String(), url: Type.String(), provider: Type.String(), login_hint: Type.Union([Type.String(), Type.Null()]), redirect_uri: Type.String(), expires_at: Type.Integer() });

/**
 * POST /v3/connect/auth-links: a shareable, single-use hosted-auth URL with an expiry ("Add grant
 * → enter the email address", re-authentication of an expired grant). With a login_hint, only
 * that account can complete it.
 */
export function registerConnectAuthLinks(app: Api, ctx: AppContext): void {
  app.post(
    '/connect/auth-links',
    { config: { rateLimit: connectRateLimit(ctx) }, schema: { tags: ['connect'], summary: 'Create a shareable hosted-auth link', body: Body, response: { 200: Envelope(Link) } } },
    async (req) => {
      const applicationId = appId(req);
      const b = req.body;
      if (!getOAuthProvider(b.provider)) throw badRequest(`provider "${b.provider}" does not use hosted authentication`);
      if (!(await ctx.repos.integrations.get(applicationId, b.provider as ProviderId))) throw badRequest(`the application has no ${b.provider} connector; create one with POST /v3/connectors`);
      if (!(await ctx.repos.redirectUris.allows(applicationId, b.redirect_uri))) throw badRequest(`redirect_uri "${b.redirect_uri}" is not registered for this application (exact match)`);
      const expiresAt = new Date(ctx.now().getTime() + b.expires_in * 1000);
      const { id, token } = await createLink(ctx, { applicationId, provider: b.provider, loginHint: b.login_hint ?? null, redirectUri: b.redirect_uri, state: b.state ?? null, expiresAt });
      const url = `${ctx.config.publicUrl}/v3/connect/auth?link=${encodeURIComponent(token)}`;
      return ok(req, { id, url, provider: b.provider, login_hint: b.login_hint ?? null, redirect_uri: b.redirect_uri, expires_at: unix(expiresAt)! });
    },
  );
}
