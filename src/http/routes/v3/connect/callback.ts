import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { HostedAuthError } from '../../../../oauth/errors.js';
import { completeAuth } from '../../../../oauth/hosted-auth.js';
import type { Api } from '../../../types.js';
import { connectRateLimit, sendAuthError } from './page.js';

const Str = (max: number) => Type.Optional(Type.String({ maxLength: max }));

// Providers add parameters of their own (session_state, error_uri, trace ids…): those are allowed and ignored.
const Query = Type.Object({ state: Str(200), code: Str(8000), error: Str(200), error_description: Str(4000), error_subcode: Str(200) });

/** GET /v3/connect/callback: the provider's redirect; ends at the app's redirect_uri with a one-time code. */
export function registerConnectCallback(app: Api, ctx: AppContext): void {
  app.get(
    '/connect/callback',
    {
      config: { public: true, rateLimit: connectRateLimit(ctx) },
      schema: {
        tags: ['connect'],
        operationId: 'hostedAuthCallback',
        summary: 'Provider redirect target of hosted authentication',
        security: [],
        querystring: Query,
        response: {
          302: Type.Null({ description: "Redirect to the application's redirect_uri with code and state, or with error and error_description" }),
          400: Type.String({ description: 'An HTML page, when the sign-in cannot go back to the application (unknown or replayed state)' }),
        },
      },
    },
    async (req, reply) => {
      try {
        const location = await completeAuth(ctx, req.query);
        return reply.header('cache-control', 'no-store').redirect(location, 302);
      } catch (err) {
        if (err instanceof HostedAuthError) return sendAuthError(reply, err);
        throw err;
      }
    },
  );
}
