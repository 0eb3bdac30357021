import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { badRequest, notFound } from '../../../../domain/errors.js';
import { revokeGrant } from '../../../../grants/lifecycle.js';
import { revokeGrantToken } from '../../../../oauth/access-tokens.js';
import { appId, Envelope, ok } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { OAuthErrorBody, oauthErrorHandler, oauthErrorResponses } from './oauth-errors.js';

const Revoked = Type.Object({
  grant_id: Type.Union([Type.String(), Type.Null()], { description: 'null when the token was unknown' }),
  grant_status: Type.String({ description: 'the grant keeps syncing when only a token was revoked' }),
  token_revoked: Type.Boolean({ description: 'false when the token was unknown or already revoked (RFC 7009: still a success)' }),
});

/**
 * POST /v3/connect/revoke, in two forms:
 * - `?token=` (as the Nylas SDKs send it, no body): that access or refresh token, and every token
 *   issued with it, stop working; the grant itself keeps syncing. As RFC 7009 has it, an unknown
 *   token is not an error (the caller's goal, a token that does not work, is met).
 * - body `{ grant_id }`: the grant is revoked (its sync stops); delete it to remove it entirely.
 */
export function registerConnectRevoke(app: Api, ctx: AppContext): void {
  app.post(
    '/connect/revoke',
    {
      // The SDKs post without a body: treat that as an empty one, so the query form validates.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        tags: ['connect'],
        operationId: 'revoke',
        summary: 'Revoke a token (?token=) or a whole grant (body grant_id)',
        querystring: Type.Object({ token: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'an access or refresh token from POST /v3/connect/token' })) }, { additionalProperties: false }),
        body: Type.Object({ grant_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false }),
        response: { 200: Envelope(Revoked), ...oauthErrorResponses, 404: OAuthErrorBody },
      },
      errorHandler: oauthErrorHandler,
    },
    async (req) => {
      const token = req.query.token;
      const grantId = req.body.grant_id;
      if ((token === undefined) === (grantId === undefined)) throw badRequest('send either ?token= (revokes that token) or a body { "grant_id": … } (revokes the grant)');
      if (token !== undefined) {
        const found = await revokeGrantToken(ctx, appId(req), token);
        if (!found) return ok(req, { grant_id: null, grant_status: 'unknown', token_revoked: false });
        const grant = await ctx.repos.grants.get(appId(req), found.grantId);
        return ok(req, { grant_id: found.grantId, grant_status: grant?.status ?? 'deleted', token_revoked: true });
      }
      const grant = await ctx.repos.grants.get(appId(req), grantId!);
      if (!grant) throw notFound('grant');
      const revoked = await revokeGrant(ctx, grant);
      return ok(req, { grant_id: revoked.id, grant_status: revoked.status, token_revoked: false });
    },
  );
}
