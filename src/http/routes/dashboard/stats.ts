import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../context.js';
import { eventsPerMinute, grantsByStatus, messagesLastDay, streamThroughput } from '../../../dashboard/stats.js';
import { notFound } from '../../../domain/errors.js';
import { appId, ok } from '../../envelope.js';
import type { Api } from '../../types.js';
import { requireSession } from './session-auth.js';

/** Aggregates for the overview and the stream status page (read-only). */
export function registerStatsRoutes(app: Api, ctx: AppContext): void {
  const tags = ['dashboard'];
  const hide = true;
  const Minutes = Type.Object({ minutes: Type.Integer({ minimum: 5, maximum: 24 * 60, default: 60 }) }, { additionalProperties: false });

  app.get('/dashboard/api/overview', { schema: { tags, hide, querystring: Minutes } }, async (req) => {
    requireSession(req);
    const id = appId(req);
    const now = ctx.now();
    const [grants, events, messages] = await Promise.all([
      grantsByStatus(ctx.store.db, id),
      eventsPerMinute(ctx.store.db, id, now, req.query.minutes),
      messagesLastDay(ctx.store.db, id, now),
    ]);
    return ok(req, { grants_by_status: grants, events_per_minute: events, messages_24h: messages });
  });

  app.get(
    '/dashboard/api/streams/:id/throughput',
    { schema: { tags, hide, params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }), querystring: Minutes } },
    async (req) => {
      requireSession(req);
      const points = await streamThroughput(ctx.store.db, appId(req), req.params.id, ctx.now(), req.query.minutes);
      if (!points) throw notFound('stream');
      return ok(req, points);
    },
  );
}
