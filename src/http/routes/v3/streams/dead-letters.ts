import { Type } from '@sinclair/typebox';
import type { StreamService } from '../../../../delivery/streams.js';
import { badRequest } from '../../../../domain/errors.js';
import { appId, Envelope, ListEnvelope, ok, okList, unix } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { StreamParams } from './schemas.js';

const tags = ['streams'];

const DeadLetter = Type.Object({
  event_id: Type.String(),
  event_seq: Type.String(),
  event_type: Type.String(),
  grant_id: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  state: Type.String({ description: '"dead", or "redrive" while queued to be written again' }),
  redrives: Type.Integer(),
  created_at: Type.Integer(),
  updated_at: Type.Integer(),
});

/** GET /v3/streams/{id}/dead-letters and POST …/dead-letters/redrive. */
export function registerDeadLetters(app: Api, svc: StreamService): void {
  app.get(
    '/streams/:id/dead-letters',
    {
      schema: {
        tags,
        summary: 'Events the destination refused individually, oldest first',
        params: StreamParams,
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), page_token: Type.Optional(Type.String({ maxLength: 20 })) },
          { additionalProperties: false },
        ),
        response: { 200: ListEnvelope(DeadLetter) },
      },
    },
    async (req) => {
      const { limit, page_token } = req.query;
      if (page_token !== undefined && !/^\d{1,19}$/.test(page_token)) throw badRequest('page_token is not a cursor returned by this API');
      const page = await svc.deadLetters(appId(req), req.params.id, { limit, ...(page_token ? { afterSeq: page_token } : {}) });
      return okList(
        req,
        page.rows.map((d) => ({
          event_id: d.event_id,
          event_seq: String(d.event_seq),
          event_type: String(d.event.type ?? ''),
          grant_id: typeof d.event.grantId === 'string' ? d.event.grantId : null,
          reason: d.reason,
          status_code: d.status_code,
          state: d.state,
          redrives: d.redrives,
          created_at: unix(d.created_at)!,
          updated_at: unix(d.updated_at)!,
        })),
        page.nextCursor,
      );
    },
  );

  app.post(
    '/streams/:id/dead-letters/redrive',
    {
      schema: {
        tags,
        summary: 'Queue dead letters (all, or the given event ids) to be written again',
        params: StreamParams,
        body: Type.Optional(Type.Object({ event_ids: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 1000 })) }, { additionalProperties: false })),
        response: { 200: Envelope(Type.Object({ queued: Type.Integer() })) },
      },
    },
    async (req) => ok(req, { queued: await svc.redrive(appId(req), req.params.id, req.body?.event_ids) }),
  );
}
