import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { exchangeToken } from '../../../../oauth/code-exchange.js';
import type { Api } from '../../../types.js';
import { oauthErrorHandler, oauthErrorResponses } from './oauth-errors.js';
import { connectRateLimit } from './page.js';

const Str = (max: number, description?: string) => Type.Optional(Type.String({ minLength: 1, maxLength: max, ...(description ? { description } : {}) }));

// RFC 6749 §3.2: unrecognized parameters are ignored, so extras are allowed (and never read).
const Body = Type.Object({
  grant_type: Type.String({ maxLength: 50, description: 'authorization_code or refresh_token' }),
  client_id: Type.String({ minLength: 1, maxLength: 100, description: 'the application id' }),
  client_secret: Str(200, 'an API key of the application'),
  code: Str(200, 'authorization_code: the code handed to redirect_uri'),
  redirect_uri: Str(2000, 'authorization_code: the redirect_uri the sign-in was started with'),
  code_verifier: Str(128, 'authorization_code: the PKCE verifier, when the sign-in sent a code_challenge'),
  refresh_token: Str(200, 'refresh_token: a refresh token from an earlier answer'),
});

const TokenResponse = Type.Object({
  request_id: Type.String(),
  access_token: Type.String({ description: 'Bearer token for this one grant (GET /v3/grants/me)' }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'seconds until access_token expires' }),
  refresh_token: Type.String({ description: 'single use: each refresh returns a new one' }),
  scope: Type.String(),
  id_token: Type.Optional(Type.String({ description: "the provider's ID token (authorization_code only)" })),
  grant_id: Type.String(),
  email: Type.String(),
  provider: Type.String(),
});

/**
 * POST /v3/connect/token (form or JSON): the OAuth token endpoint of hosted authentication.
 * Every error, validation included, has the OAuth shape (`error`, `error_description`, `error_code`).
 */
export function registerConnectToken(app: Api, ctx: AppContext): void {
  app.post(
    '/connect/token',
    {
      config: { public: true, rateLimit: connectRateLimit(ctx) },
      schema: {
        tags: ['connect'],
        operationId: 'exchangeToken',
        summary: 'Exchange a hosted-auth code (or a refresh token) for grant-scoped tokens',
        security: [],
        body: Body,
        response: { 200: TokenResponse, ...oauthErrorResponses },
      },
      errorHandler: oauthErrorHandler,
    },
    async (req, reply) => {
      const data = await exchangeToken(ctx, req.body);
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send({ request_id: req.id, ...data });
    },
  );
}
