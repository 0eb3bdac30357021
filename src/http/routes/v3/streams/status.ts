import { Type } from '@sinclair/typebox';
import type { StreamService } from '../../../../delivery/streams.js';
import { appId, Envelope, ListEnvelope, ok, okList, unix } from '../../../envelope.js';
import type { Api } from '../../../types.js';
import { StreamParams } from './schemas.js';

const tags = ['streams'];
const Time = Type.Union([Type.Integer(), Type.Null()]);

const Status = Type.Object({
  id: Type.String(),
  status: Type.String(),
  lag_events: Type.Integer({ description: 'matching events not yet delivered' }),
  lag_seconds: Type.Integer({ description: 'age of the oldest of them' }),
  delivered: Type.Integer(),
  failed: Type.Integer({ description: 'events in batches that failed as a whole (each retry counts)' }),
  dead_lettered: Type.Integer(),
  dead_letters_pending: Type.Integer({ description: 'dead letters currently kept' }),
  redrive_queued: Type.Integer(),
  retry_attempt: Type.Integer(),
  last_success_at: Time,
  last_error: Type.Union([Type.String(), Type.Null()]),
  last_error_at: Time,
  next_retry_at: Time,
  held_grants: Type.Integer({ description: 'grants whose events keep failing: parked and retried on their own schedule while the others flow' }),
  held_since: Time,
});

const Attempt = Type.Object({
  id: Type.String(),
  first_seq: Type.Union([Type.String(), Type.Null()]),
  last_seq: Type.Union([Type.String(), Type.Null()]),
  count: Type.Integer(),
  outcome: Type.String({ description: 'delivered | partial | retry | failed | test' }),
  attempt: Type.Integer(),
  duration_ms: Type.Integer(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.Integer(),
});

/** GET /v3/streams/{id}/status and /deliveries (the dashboard's view of a stream). */
export function registerStreamStatus(app: Api, svc: StreamService): void {
  app.get('/streams/:id/status', { schema: { tags, summary: 'Lag, counts, last success and error, next retry', params: StreamParams, response: { 200: Envelope(Status) } } }, async (req) => {
    const st = await svc.status(appId(req), req.params.id);
    const s = st.stream;
    return ok(req, {
      id: s.id,
      status: s.status,
      lag_events: st.lagEvents,
      lag_seconds: st.lagSeconds,
      delivered: Number(s.delivered_count),
      failed: Number(s.failed_count),
      dead_lettered: Number(s.dead_lettered_count),
      dead_letters_pending: st.deadLetters,
      redrive_queued: st.redriveQueued,
      retry_attempt: s.retry_attempt,
      last_success_at: unix(s.last_success_at),
      last_error: s.last_error,
      last_error_at: unix(s.last_error_at),
      next_retry_at: s.status === 'failing' ? unix(s.next_retry_at) : null,
      held_grants: st.held.grants,
      held_since: unix(st.held.oldestSince),
    });
  });

  app.get(
    '/streams/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'Recent delivery attempts, newest first',
        params: StreamParams,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) }, { additionalProperties: false }),
        response: { 200: ListEnvelope(Attempt) },
      },
    },
    async (req) => {
      const rows = await svc.attempts(appId(req), req.params.id, req.query.limit);
      return okList(
        req,
        rows.map((a) => ({
          id: String(a.id),
          first_seq: a.first_seq === null ? null : String(a.first_seq),
          last_seq: a.last_seq === null ? null : String(a.last_seq),
          count: a.count,
          outcome: a.outcome,
          attempt: a.attempt,
          duration_ms: a.duration_ms,
          status_code: a.status_code,
          error: a.error,
          created_at: unix(a.created_at)!,
        })),
        null,
      );
    },
  );
}
