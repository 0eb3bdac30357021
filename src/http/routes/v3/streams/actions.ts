import { Type } from '@sinclair/typebox';
import type { Sealer } from '../../../../crypto/sealing.js';
import type { DestinationCatalog } from '../../../../delivery/catalog.js';
import type { StreamService } from '../../../../delivery/streams.js';
import { appId, Envelope, ok } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { StreamParams, streamView, StreamView } from './schemas.js';

const tags = ['streams'];

/** POST /v3/streams/{id}/test, /pause, /resume, /replay. */
export function registerStreamActions(app: Api, svc: StreamService, catalog: DestinationCatalog, sealer: Sealer): void {
  const view = (s: Parameters<typeof streamView>[0]) => streamView(s, catalog, sealer);

  app.post(
    '/streams/:id/test',
    {
      schema: {
        tags,
        summary: 'Write a test record through the destination and report the outcome',
        params: StreamParams,
        response: {
          200: Envelope(
            Type.Object({ success: Type.Boolean(), error: Type.Union([Type.String(), Type.Null()]), status_code: Type.Union([Type.Integer(), Type.Null()]), duration_ms: Type.Integer() }),
          ),
        },
      },
    },
    async (req) => {
      const r = await svc.test(appId(req), req.params.id);
      return ok(req, { success: r.ok, error: r.error, status_code: r.statusCode, duration_ms: r.durationMs });
    },
  );

  app.post('/streams/:id/pause', { schema: { tags, summary: 'Pause delivery (the offset stays; events keep accumulating)', params: StreamParams, response: { 200: Envelope(StreamView) } } }, async (req) =>
    ok(req, view(await svc.pause(appId(req), req.params.id))),
  );

  app.post(
    '/streams/:id/resume',
    { schema: { tags, summary: 'Resume a paused or failed stream from its offset (retries reset)', params: StreamParams, response: { 200: Envelope(StreamView) } } },
    async (req) => ok(req, view(await svc.resume(appId(req), req.params.id))),
  );

  app.post(
    '/streams/:id/replay',
    {
      schema: {
        tags,
        summary: 'Deliver again from a time or an event (at-least-once: the destination sees the same event ids again)',
        params: StreamParams,
        body: Type.Union(
          [
            Type.Object({ from_time: Type.Integer({ minimum: 0, description: 'unix seconds' }) }, { additionalProperties: false }),
            Type.Object({ from_event_id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
          ],
          { description: 'exactly one of from_time or from_event_id' },
        ),
        response: { 200: Envelope(StreamView) },
      },
    },
    async (req) => {
      const b = req.body;
      const from = 'from_event_id' in b ? { fromEventId: b.from_event_id } : { fromTime: b.from_time };
      return ok(req, view(await svc.replay(appId(req), req.params.id, from)));
    },
  );
}
