import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { badRequest, notFound } from '../../../../domain/errors.js';
import { GRANT_STATUSES } from '../../../../domain/grant.js';
import { PROVIDERS } from '../../../../domain/provider.js';
import { deleteGrant } from '../../../../grants/lifecycle.js';
import type { GrantRow } from '../../../../store/database.js';
import { appId, Envelope, ListEnvelope, ok, okList, unix } from '../../../envelope.js';
import type { Api } from '../../../types.js';

export const Grant = Type.Object({
  id: Type.String(),
  grant_status: Type.String(),
  provider: Type.String(),
  email: Type.String(),
  integration_id: Type.String(),
  scope: Type.Array(Type.String()),
  settings: Type.Record(Type.String(), Type.Unknown()),
  sync_state: Type.Record(Type.String(), Type.Unknown()),
  last_sync_at: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});

/** Response allow-list: credentials and provider identities stay on the server. */
export const grantView = (g: GrantRow) => ({
  id: g.id,
  grant_status: g.status,
  provider: g.provider,
  email: g.email,
  integration_id: g.integration_id,
  scope: g.scope,
  settings: g.settings,
  sync_state: g.sync_state,
  last_sync_at: unix(g.last_sync_at),
  error: g.error,
  created_at: unix(g.created_at)!,
  updated_at: unix(g.updated_at)!,
});

const GrantParams = Type.Object({ grant_id: Type.String({ minLength: 1, maxLength: 100 }) });

export async function registerGrants(app: Api, ctx: AppContext): Promise<void> {
  const tags = ['grants'];

  app.get(
    '/grants',
    {
      schema: {
        tags,
        summary: 'List grants',
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
            offset: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 }),
            email: Type.Optional(Type.String({ maxLength: 320 })),
            grant_status: Type.Optional(Type.Union(GRANT_STATUSES.map((s) => Type.Literal(s)))),
            provider: Type.Optional(Type.Union(PROVIDERS.map((p) => Type.Literal(p)))),
            since: Type.Optional(Type.Integer({ minimum: 0, description: 'created at or after (unix seconds)' })),
            before: Type.Optional(Type.Integer({ minimum: 0, description: 'created before (unix seconds)' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ListEnvelope(Grant) },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await ctx.repos.grants.list(appId(req), {
        limit: q.limit + 1,
        offset: q.offset,
        ...(q.email ? { email: q.email } : {}),
        ...(q.grant_status ? { status: q.grant_status } : {}),
        ...(q.provider ? { provider: q.provider } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.before !== undefined ? { before: q.before } : {}),
      });
      const more = rows.length > q.limit;
      return okList(req, rows.slice(0, q.limit).map(grantView), more ? String(q.offset + q.limit) : null);
    },
  );

  app.get('/grants/:grant_id', { schema: { tags, summary: 'Get a grant', params: GrantParams, response: { 200: Envelope(Grant) } } }, async (req) => {
    const g = await ctx.repos.grants.get(appId(req), req.params.grant_id);
    if (!g) throw notFound('grant');
    return ok(req, grantView(g));
  });

  app.patch(
    '/grants/:grant_id',
    {
      schema: {
        tags,
        summary: 'Update grant settings (backfill, tracked folders)',
        params: GrantParams,
        body: Type.Object(
          {
            settings: Type.Object(
              {
                backfill_days: Type.Optional(Type.Integer({ minimum: 0, maximum: 3650 })),
                tracked_folders: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 50 })),
              },
              { additionalProperties: false },
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Envelope(Grant) },
      },
    },
    async (req) => {
      const g = await ctx.repos.grants.get(appId(req), req.params.grant_id);
      if (!g) throw notFound('grant');
      if (g.status === 'revoked') throw badRequest('a revoked grant cannot be changed');
      const updated = await ctx.repos.grants.update(g.id, { settings: { ...g.settings, ...req.body.settings } });
      return ok(req, grantView(updated!));
    },
  );

  app.delete('/grants/:grant_id', { schema: { tags, summary: 'Delete a grant: stops its sync and emits grant.deleted', params: GrantParams } }, async (req) => {
    const removed = await deleteGrant(ctx, appId(req), req.params.grant_id);
    if (!removed) throw notFound('grant');
    return ok(req, { status: 'deleted' });
  });
}
