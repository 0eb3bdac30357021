import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { notFound } from '../../../../domain/errors.js';
import { revokeGrant } from '../../../../grants/lifecycle.js';
import { appId, Envelope, ErrorBody, ok } from '../../../envelope.js';
import type { Api } from '../../../types.js';

/** POST /v3/connect/revoke: the grant stops syncing (status revoked); delete it to remove it entirely. */
export function registerConnectRevoke(app: Api, ctx: AppContext): void {
  app.post(
    '/connect/revoke',
    {
      schema: {
        tags: ['connect'],
        summary: 'Revoke a grant: its sync stops',
        body: Type.Object({ grant_id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
        response: { 200: Envelope(Type.Object({ grant_id: Type.String(), grant_status: Type.String() })), 404: ErrorBody },
      },
    },
    async (req) => {
      const grant = await ctx.repos.grants.get(appId(req), req.body.grant_id);
      if (!grant) throw notFound('grant');
      const revoked = await revokeGrant(ctx, grant);
      return ok(req, { grant_id: revoked.id, grant_status: revoked.status });
    },
  );
}
