import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { HostedAuthError } from '../../../../oauth/errors.js';
import { startAuth } from '../../../../oauth/hosted-auth.js';
import type { Api } from '../../../types.js';
import { connectRateLimit, sendAuthError } from './page.js';

const Str = (max: number, description?: string) => Type.Optional(Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) }));

const Query = Type.Object(
  {
    client_id: Str(100, 'your Tributary application id'),
    provider: Str(20, 'microsoft (google when its connector exists)'),
    redirect_uri: Str(2000, 'must exactly match one of the application redirect URIs'),
    response_type: Str(20, 'code'),
    state: Str(1000, 'returned unchanged to redirect_uri'),
    login_hint: Str(320),
    scope: Str(2000, 'space-separated; defaults to the connector scopes'),
    prompt: Str(20, 'login, consent, select_account or none'),
    code_challenge: Str(128),
    code_challenge_method: Str(10, 'S256 or plain'),
    link: Str(100, 'token of a link made by POST /v3/connect/auth-links (then no other parameter)'),
  },
  { additionalProperties: false },
);

/** GET /v3/connect/auth: starts hosted authentication and redirects the browser to the provider. */
export function registerConnectAuth(app: Api, ctx: AppContext): void {
  app.get(
    '/connect/auth',
    {
      config: { public: true, rateLimit: connectRateLimit(ctx) },
      schema: { tags: ['connect'], summary: 'Start hosted authentication (browser redirect to the provider)', security: [], querystring: Query },
    },
    async (req, reply) => {
      try {
        const location = await startAuth(ctx, req.query);
        return reply.header('cache-control', 'no-store').redirect(location, 302);
      } catch (err) {
        if (err instanceof HostedAuthError) return sendAuthError(reply, err);
        throw err;
      }
    },
  );
}
