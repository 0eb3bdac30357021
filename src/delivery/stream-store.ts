import { sql, type Kysely, type Selectable } from 'kysely';
import type { StoredEvent } from '../domain/event.js';
import { newId } from '../domain/ids.js';
import type { EventFilter, LogPosition } from '../event-log/read.js';
import type { Database } from '../store/database.js';
import type { DeadLettersTable, DeliveryAttemptsTable, StreamsTable } from '../store/tables/delivery.js';
import { fenced, STREAM_LEASE_PREFIX, type Fence } from './fence.js';
import { insertHolds, type NewHold } from './holds.js';

/** Data access for streams, dead letters and delivery attempts (the delivery part's tables). */

export type StreamRow = Selectable<StreamsTable>;
export type DeadLetterRow = Selectable<DeadLettersTable>;
export type AttemptRow = Selectable<DeliveryAttemptsTable>;

export const STREAM_STATUSES = ['active', 'failing', 'failed', 'pause'] as const;
export type StreamStatus = (typeof STREAM_STATUSES)[number];
/** Statuses in which a runner delivers. */
export const RUNNABLE: readonly StreamStatus[] = ['active', 'failing'];

export const positionOf = (s: StreamRow): LogPosition => ({ txid: String(s.offset_txid), seq: String(s.offset_seq) });
export const streamFilter = (s: StreamRow): EventFilter => ({ applicationId: s.application_id, types: s.data_types, grantIds: s.grant_ids, providers: s.providers });

/** Counters a runner accumulates between two updates of its stream row. */
export interface CounterDeltas {
  delivered: number;
  failed: number;
  deadLettered: number;
}
export const noDeltas = (): CounterDeltas => ({ delivered: 0, failed: 0, deadLettered: 0 });

/** Exactly the StoredEvent fields (readers add log bookkeeping such as txid that a dead letter does not keep). */
function storedEvent(e: StoredEvent): StoredEvent {
  return { seq: e.seq, id: e.id, applicationId: e.applicationId, type: e.type, source: e.source, time: e.time, grantId: e.grantId, provider: e.provider, object: e.object };
}

/** A dead letter's copy of its event. */
export const deadLetterEvent = (row: DeadLetterRow): StoredEvent => row.event as unknown as StoredEvent;

export { fenced, streamLease, type Fence } from './fence.js';

const addCounters = (d: CounterDeltas) => ({
  delivered_count: sql<string>`delivered_count + ${d.delivered}`,
  failed_count: sql<string>`failed_count + ${d.failed}`,
  dead_lettered_count: sql<string>`dead_lettered_count + ${d.deadLettered}`,
});

export interface NewAttempt {
  streamId: string;
  firstSeq: string | null;
  lastSeq: string | null;
  count: number;
  outcome: 'delivered' | 'partial' | 'retry' | 'failed' | 'test';
  attempt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
}

export function streamStore(db: Kysely<Database>) {
  return {
    get: (id: string) => db.selectFrom('streams').selectAll().where('id', '=', id).executeTakeFirst(),

    /** The stream as its runner needs it each loop: the row plus whether dead letters wait for redrive (one query). */
    forRunner: (id: string) =>
      db
        .selectFrom('streams as s')
        .selectAll('s')
        .select(sql<boolean>`exists (select 1 from dead_letters d where d.stream_id = s.id and d.state = 'redrive')`.as('redrive_pending'))
        .where('s.id', '=', id)
        .executeTakeFirst(),

    /** Runnable streams whose lease is free, expired or already ours (others' live leases are not worth an upsert). */
    async claimableIds(holder: string): Promise<{ id: string; applicationId: string }[]> {
      const rows = await db
        .selectFrom('streams as s')
        .leftJoin('leases as l', (j) => j.on(sql<boolean>`l.name = ${STREAM_LEASE_PREFIX} || s.id`))
        .select(['s.id', 's.application_id'])
        .where('s.status', 'in', [...RUNNABLE])
        .where((eb) => eb.or([eb('l.name', 'is', null), eb('l.expires_at', '<', sql<Date>`now()`), eb('l.holder', '=', holder)]))
        .execute();
      return rows.map((r) => ({ id: r.id, applicationId: r.application_id }));
    },

    /**
     * Moves the offset from `from` to `to` after a successful window. Compare-and-set on the old
     * offset (a replay in between wins) and fenced by the lease token (a runner that lost its
     * lease cannot move the offset). Returns false when either check failed.
     */
    async commit(id: string, fence: Fence, from: LogPosition, to: LogPosition, d: CounterDeltas, succeeded: boolean, holds: readonly NewHold[] = []): Promise<boolean> {
      const move = (q: Kysely<Database>) =>
        q
          .updateTable('streams')
          .set({
            offset_txid: sql`${to.txid}::xid8`,
            offset_seq: to.seq,
            ...addCounters(d),
            status: sql`case when status = 'failing' then 'active' else status end`,
            retry_attempt: 0,
            next_retry_at: null,
            ...(succeeded ? { last_success_at: sql`now()` } : {}),
          })
          .where('id', '=', id)
          .where(sql<boolean>`offset_txid = ${from.txid}::xid8`)
          .where('offset_seq', '=', from.seq)
          .where(fenced(id, fence))
          .executeTakeFirst();
      if (holds.length === 0) return Number((await move(db)).numUpdatedRows) === 1;
      // The offset passes the held grants' events only together with the holds that now own them.
      return db.transaction().execute(async (tx) => {
        if (Number((await move(tx)).numUpdatedRows) !== 1) return false;
        await insertHolds(tx, id, holds);
        return true;
      });
    },

    /** Adds counters only (used when a commit lost its compare-and-set to a replay). */
    async addCounters(id: string, fence: Fence, d: CounterDeltas): Promise<void> {
      await db.updateTable('streams').set(addCounters(d)).where('id', '=', id).where(fenced(id, fence)).execute();
    },

    /** Records a whole-batch failure: `failing` with the next retry time, or `failed` when `nextRetryAt` is null. */
    async fail(id: string, fence: Fence, retry: number, nextRetryAt: Date | null, error: string, d: CounterDeltas): Promise<boolean> {
      const status = nextRetryAt ? 'failing' : 'failed';
      const r = await db
        .updateTable('streams')
        .set({
          status: sql`case when status = 'pause' then status else ${status} end`,
          retry_attempt: retry,
          next_retry_at: nextRetryAt,
          last_error: error.slice(0, 2000),
          last_error_at: sql`now()`,
          ...addCounters(d),
        })
        .where('id', '=', id)
        .where(fenced(id, fence))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** Records a grant-level failure on the stream (shown with its status) without changing the status. */
    async noteError(id: string, fence: Fence, error: string): Promise<void> {
      await db
        .updateTable('streams')
        .set({ last_error: error.slice(0, 2000), last_error_at: sql`now()` })
        .where('id', '=', id)
        .where(fenced(id, fence))
        .execute();
    },

    /** Dead-letters events (idempotent per stream and event: a retried batch does not add twice). Returns how many were new. */
    async deadLetter(streamId: string, items: { event: StoredEvent; reason: string; status: number | null }[]): Promise<number> {
      if (items.length === 0) return 0;
      const rows = await db
        .insertInto('dead_letters')
        .values(
          items.map((i) => ({
            id: newId('dl_'),
            stream_id: streamId,
            event_id: i.event.id,
            event_seq: i.event.seq,
            event: JSON.stringify(storedEvent(i.event)),
            reason: i.reason.slice(0, 2000),
            status_code: i.status,
          })),
        )
        .onConflict((oc) =>
          oc.columns(['stream_id', 'event_id']).doUpdateSet({
            state: 'dead',
            reason: sql`excluded.reason`,
            status_code: sql`excluded.status_code`,
            updated_at: sql`now()`,
          }),
        )
        .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
        .execute();
      return rows.filter((r) => r.inserted).length;
    },

    queuedRedrives: (streamId: string, limit: number) =>
      db.selectFrom('dead_letters').selectAll().where('stream_id', '=', streamId).where('state', '=', 'redrive').orderBy('event_seq').limit(limit).execute(),

    async removeDeadLetters(streamId: string, eventIds: string[]): Promise<void> {
      if (eventIds.length) await db.deleteFrom('dead_letters').where('stream_id', '=', streamId).where('event_id', 'in', eventIds).execute();
    },

    async recordAttempts(attempts: NewAttempt[]): Promise<void> {
      if (attempts.length === 0) return;
      await db
        .insertInto('delivery_attempts')
        .values(
          attempts.map((a) => ({
            stream_id: a.streamId,
            first_seq: a.firstSeq,
            last_seq: a.lastSeq,
            count: a.count,
            outcome: a.outcome,
            attempt: a.attempt,
            duration_ms: Math.round(a.durationMs),
            status_code: a.statusCode,
            error: a.error === null ? null : a.error.slice(0, 2000),
          })),
        )
        .execute();
    },
  };
}

export type StreamStore = ReturnType<typeof streamStore>;
