import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { HostedAuthError } from '../../../../oauth/errors.js';
import { startAuth } from '../../../../oauth/hosted-auth.js';
import { challengeMethod } from '../../../../oauth/pkce.js';
import type { Api } from '../../../types.js';
import { connectRateLimit, sendAuthError } from './page.js';

const Str = (max: number, description?: string) => Type.Optional(Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) }));

/**
 * Every parameter Nylas documents for this endpoint. Unknown extras are allowed and ignored: an
 * SDK or an app adding a parameter must never break a sign-in.
 */
const Query = Type.Object(
  {
    client_id: Str(100, 'your Tributary application id'),
    provider: Str(20, 'an OAuth provider the application has a connector for (GET /v3/providers: auth = oauth)'),
    redirect_uri: Str(2000, 'must exactly match one of the application redirect URIs'),
    response_type: Str(20, 'code'),
    state: Str(1000, 'returned unchanged to redirect_uri'),
    login_hint: Str(320),
    scope: Str(2000, 'space-separated; defaults to the connector scopes'),
    prompt: Str(100, 'login, consent, select_account or none are passed to the provider; Nylas provider-chooser values (select_provider, detect) are ignored'),
    access_type: Str(20, 'online or offline: accepted; a refresh token is always returned by /v3/connect/token'),
    include_grant_scopes: Str(10, 'true or false: accepted and ignored (the grant keeps the scopes the user consented to)'),
    code_challenge: Str(128, 'PKCE challenge: RFC 7636 base64url, or the base64 of the hex SHA-256 the Nylas SDKs send'),
    code_challenge_method: Str(10, 'S256 or plain, any case'),
    credential_id: Str(100, 'accepted and ignored'),
    options: Str(100, 'accepted and ignored (e.g. smtp_required)'),
    link: Str(100, 'token of a link made by POST /v3/connect/auth-links (then no other parameter)'),
  },
  { additionalProperties: true },
);

/** The provider's own prompt values; the rest are Nylas's provider chooser, which Tributary does not show. */
const PROVIDER_PROMPTS = new Set(['login', 'consent', 'select_account', 'none']);

/** GET /v3/connect/auth: starts hosted authentication and redirects the browser to the provider. */
export function registerConnectAuth(app: Api, ctx: AppContext): void {
  app.get(
    '/connect/auth',
    {
      config: { public: true, rateLimit: connectRateLimit(ctx) },
      schema: {
        tags: ['connect'],
        operationId: 'startHostedAuth',
        summary: 'Start hosted authentication (browser redirect to the provider)',
        security: [],
        querystring: Query,
        response: {
          302: Type.Null({ description: "Redirect to the provider's sign-in page, or back to redirect_uri with error and error_description" }),
          400: Type.String({ description: 'An HTML page saying what is wrong, when the request cannot go back to a registered redirect_uri' }),
        },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const prompt = q.prompt?.split(/[\s,]+/).find((p) => PROVIDER_PROMPTS.has(p));
      const method = q.code_challenge_method === undefined ? undefined : (challengeMethod(q.code_challenge_method) ?? q.code_challenge_method);
      try {
        const location = await startAuth(ctx, {
          client_id: q.client_id,
          provider: q.provider,
          redirect_uri: q.redirect_uri,
          response_type: q.response_type,
          state: q.state,
          login_hint: q.login_hint,
          scope: q.scope,
          prompt,
          code_challenge: q.code_challenge,
          code_challenge_method: method,
          link: q.link,
        });
        return reply.header('cache-control', 'no-store').redirect(location, 302);
      } catch (err) {
        if (err instanceof HostedAuthError) return sendAuthError(reply, err);
        throw err;
      }
    },
  );
}
