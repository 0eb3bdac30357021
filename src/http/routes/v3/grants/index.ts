import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { badRequest, notFound } from '../../../../domain/errors.js';
import { GRANT_STATUSES } from '../../../../domain/grant.js';
import { deleteGrant } from '../../../../grants/lifecycle.js';
import type { GrantRow } from '../../../../store/database.js';
import { appId, Envelope, ListEnvelope, ok, okList, unix } from '../../../envelope.js';
import { Offset, page, pageStart, PageToken } from '../../../paging.js';
import type { Api } from '../../../types.js';
import { providerIdSchema } from '../../../../providers/registry.js';
import { releaseDeletedGrant } from '../../../../sync/on-grant-deleted.js';

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
        operationId: 'listGrants',
        summary: 'List grants',
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
            offset: Offset,
            page_token: PageToken,
            email: Type.Optional(Type.String({ maxLength: 320 })),
            grant_status: Type.Optional(Type.Union([...GRANT_STATUSES, 'invalid'].map((s) => Type.Literal(s)), { description: 'invalid (Nylas: needs re-authentication) is the same as expired' })),
            provider: Type.Optional(providerIdSchema()),
            since: Type.Optional(Type.Integer({ minimum: 0, description: 'created at or after (unix seconds)' })),
            before: Type.Optional(Type.Integer({ minimum: 0, description: 'created before (unix seconds)' })),
            sort_by: Type.Optional(Type.Union([Type.Literal('created_at'), Type.Literal('updated_at')], { default: 'created_at' })),
            order_by: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ListEnvelope(Grant) },
      },
    },
    async (req) => {
      const q = req.query;
      const start = pageStart(q);
      const status = q.grant_status === 'invalid' ? 'expired' : q.grant_status;
      const rows = await ctx.repos.grants.list(appId(req), {
        limit: q.limit + 1,
        offset: start,
        ...(q.email ? { email: q.email } : {}),
        ...(status ? { status } : {}),
        ...(q.provider ? { provider: q.provider } : {}),
        ...(q.since !== undefined ? { since: q.since } : {}),
        ...(q.before !== undefined ? { before: q.before } : {}),
        ...(q.sort_by ? { sortBy: q.sort_by } : {}),
        ...(q.order_by ? { order: q.order_by } : {}),
      });
      const { items, next } = page(rows, start, q.limit);
      return okList(req, items.map(grantView), next);
    },
  );

  app.get(
    '/grants/me',
    {
      config: { grantToken: true },
      schema: {
        tags,
        operationId: 'getCurrentGrant',
        summary: 'The grant of the access token in the Authorization header (from POST /v3/connect/token)',
        response: { 200: Envelope(Grant) },
      },
    },
    async (req) => {
      const grantId = req.principal?.grantId;
      if (!grantId) throw badRequest('/v3/grants/me needs a grant access token (from POST /v3/connect/token) as the Bearer credential; with an API key use /v3/grants/{grant_id}');
      const g = await ctx.repos.grants.get(appId(req), grantId);
      if (!g) throw notFound('grant');
      return ok(req, grantView(g));
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

  app.delete('/grants/:grant_id', { schema: { tags, summary: 'Delete a grant: stops its sync and the provider’s push for the mailbox, emits grant.deleted', params: GrantParams } }, async (req) => {
    const removed = await deleteGrant(ctx, appId(req), req.params.grant_id);
    if (!removed) throw notFound('grant');
    // Best effort and bounded: stop the provider's push for this mailbox (never fails the deletion).
    const integration = await ctx.repos.integrations.getById(removed.integration_id);
    if (integration) await releaseDeletedGrant(ctx, removed, integration);
    return ok(req, { status: 'deleted' });
  });
}
