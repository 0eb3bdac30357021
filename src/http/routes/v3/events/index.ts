import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../../../context.js';
import { badRequest, notFound } from '../../../../domain/errors.js';
import { EVENT_TYPES, toCloudEvent } from '../../../../domain/event.js';
import { getEvent, listEvents } from '../../../../event-log/list.js';
import { appId, Envelope, ListEnvelope, ok, okList } from '../../../envelope.js';
import type { Api } from '../../../types.js';

const CloudEventSchema = Type.Object({
  specversion: Type.Literal('1.0'),
  type: Type.String(),
  source: Type.String(),
  id: Type.String(),
  time: Type.Integer(),
  seq: Type.String({ description: 'position in the event log' }),
  data: Type.Object({ application_id: Type.String(), grant_id: Type.Optional(Type.String()), object: Type.Record(Type.String(), Type.Unknown()) }),
});

export async function registerEvents(app: Api, ctx: AppContext): Promise<void> {
  const tags = ['events'];
  app.get(
    '/events',
    {
      schema: {
        tags,
        summary: 'Browse the event log, newest first',
        querystring: Type.Object(
          {
            type: Type.Optional(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)))),
            grant_id: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            page_token: Type.Optional(Type.String({ maxLength: 40 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: ListEnvelope(CloudEventSchema) },
      },
    },
    async (req) => {
      const { type, grant_id, limit, page_token } = req.query;
      if (page_token !== undefined && !/^[1-9]\d{0,18}$/.test(page_token)) throw badRequest('page_token is not a cursor returned by this API');
      const page = await listEvents(ctx.store.db, {
        applicationId: appId(req),
        limit,
        ...(type ? { type } : {}),
        ...(grant_id ? { grantId: grant_id } : {}),
        ...(page_token ? { beforeSeq: page_token } : {}),
      });
      return okList(
        req,
        page.events.map((e) => ({ ...toCloudEvent(e), seq: e.seq })),
        page.nextCursor,
      );
    },
  );

  app.get('/events/:id', { schema: { tags, summary: 'One event', params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }), response: { 200: Envelope(CloudEventSchema) } } }, async (req) => {
    const e = await getEvent(ctx.store.db, appId(req), req.params.id);
    if (!e) throw notFound('event');
    return ok(req, { ...toCloudEvent(e), seq: e.seq });
  });
}
