import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { exchangeAppCode, TokenRequestError } from '../../../../oauth/hosted-auth.js';
import { ErrorBody } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { connectRateLimit } from './page.js';

const Body = Type.Object(
  {
    grant_type: Type.String({ maxLength: 50, description: 'authorization_code' }),
    code: Type.String({ minLength: 1, maxLength: 200 }),
    redirect_uri: Type.String({ minLength: 1, maxLength: 2000 }),
    client_id: Type.String({ minLength: 1, maxLength: 100, description: 'the application id' }),
    client_secret: Type.String({ minLength: 1, maxLength: 200, description: 'an API key of the application' }),
    code_verifier: Type.Optional(Type.String({ minLength: 43, maxLength: 128 })),
  },
  { additionalProperties: false },
);

const TokenResponse = Type.Object({
  request_id: Type.String(),
  grant_id: Type.String(),
  email: Type.String(),
  provider: Type.String(),
  scope: Type.String(),
  token_type: Type.String(),
  id_token: Type.String(),
});

/**
 * POST /v3/connect/token (form or JSON): redeems the one-time code of hosted authentication for
 * the grant. Errors keep the v3 shape; `error.type` carries the OAuth error code.
 */
export function registerConnectToken(app: Api, ctx: AppContext): void {
  app.post(
    '/connect/token',
    {
      config: { public: true, rateLimit: connectRateLimit(ctx) },
      schema: { tags: ['connect'], summary: 'Exchange a hosted-auth code for the grant', security: [], body: Body, response: { 200: TokenResponse, 400: ErrorBody, 401: ErrorBody } },
    },
    async (req, reply) => {
      try {
        const data = await exchangeAppCode(ctx, req.body);
        return reply.header('cache-control', 'no-store').send({ request_id: req.id, ...data });
      } catch (err) {
        if (err instanceof TokenRequestError) return reply.status(err.status).send({ request_id: req.id, error: { type: err.error, message: err.message } });
        throw err;
      }
    },
  );
}
