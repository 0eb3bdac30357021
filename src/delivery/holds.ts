import { sql, type Kysely, type Selectable } from 'kysely';
import type { LogPosition } from '../event-log/read.js';
import type { Database } from '../store/database.js';
import type { StreamHoldsTable } from '../store/tables/delivery.js';
import { fenced, type Fence } from './fence.js';

/**
 * Data access for per-grant holds (ADR 0110). A hold owns its grant's events after its position
 * up to the stream's offset; only the stream's runner (fenced by its lease) changes holds.
 */
export type HoldRow = Selectable<StreamHoldsTable>;

export interface NewHold {
  grantKey: string;
  /** Just before the grant's first event that was not written. */
  after: LogPosition;
  attempt: number;
  nextRetryAt: Date;
  error: string;
  status: number | null;
}

export const holdPosition = (h: HoldRow): LogPosition => ({ txid: String(h.after_txid), seq: String(h.after_seq) });
/** The grant id a hold's key stands for ('' = events without a grant). */
export const holdGrantId = (key: string): string | null => (key === '' ? null : key);

/** Inserts holds (inside the transaction that moves the offset past their events). An existing hold keeps its earlier position. */
export async function insertHolds(db: Kysely<Database>, streamId: string, holds: readonly NewHold[]): Promise<void> {
  if (holds.length === 0) return;
  await db
    .insertInto('stream_holds')
    .values(
      holds.map((h) => ({
        stream_id: streamId,
        grant_key: h.grantKey,
        after_txid: sql`${h.after.txid}::xid8`,
        after_seq: h.after.seq,
        retry_attempt: h.attempt,
        next_retry_at: h.nextRetryAt,
        last_error: h.error.slice(0, 2000),
        status_code: h.status,
      })),
    )
    .onConflict((oc) => oc.columns(['stream_id', 'grant_key']).doNothing())
    .execute();
}

export function holdStore(db: Kysely<Database>) {
  return {
    list: (streamId: string) => db.selectFrom('stream_holds').selectAll().where('stream_id', '=', streamId).orderBy('next_retry_at').execute(),

    /**
     * Moves a hold after a retry: new position, attempt and due time. A hold row that is gone
     * while the lease is still ours is written again (its grant's events up to the offset are still
     * owed, and a later runner finds them only through the row); a deleted stream takes its holds
     * with it and is not written to. False when the lease is gone or the stream is.
     */
    async save(streamId: string, fence: Fence, key: string, h: { after: LogPosition; attempt: number; nextRetryAt: Date; error: string | null; status: number | null }): Promise<boolean> {
      const error = h.error === null ? null : h.error.slice(0, 2000);
      const row = await db
        .insertInto('stream_holds')
        .columns(['stream_id', 'grant_key', 'after_txid', 'after_seq', 'retry_attempt', 'next_retry_at', 'last_error', 'status_code'])
        .expression(
          db
            .selectNoFrom([
              sql<string>`${streamId}::text`.as('stream_id'),
              sql<string>`${key}::text`.as('grant_key'),
              sql<string>`${h.after.txid}::xid8`.as('after_txid'),
              sql<string>`${h.after.seq}::bigint`.as('after_seq'),
              sql<number>`${h.attempt}::integer`.as('retry_attempt'),
              sql<Date>`${h.nextRetryAt.toISOString()}::timestamptz`.as('next_retry_at'),
              sql<string | null>`${error}::text`.as('last_error'),
              sql<number | null>`${error === null ? null : h.status}::integer`.as('status_code'),
            ])
            .where(fenced(streamId, fence))
            .where(sql<boolean>`exists (select 1 from streams where id = ${streamId})`),
        )
        .onConflict((oc) =>
          oc.columns(['stream_id', 'grant_key']).doUpdateSet((eb) => ({
            after_txid: eb.ref('excluded.after_txid'),
            after_seq: eb.ref('excluded.after_seq'),
            retry_attempt: eb.ref('excluded.retry_attempt'),
            next_retry_at: eb.ref('excluded.next_retry_at'),
            // A retry that wrote everything it read keeps the error that put the grant on hold.
            ...(error === null ? {} : { last_error: eb.ref('excluded.last_error'), status_code: eb.ref('excluded.status_code') }),
            updated_at: sql`now()`,
          })),
        )
        .returning('grant_key')
        .executeTakeFirst();
      return row !== undefined;
    },

    /**
     * The grant has caught up with the stream's offset: it flows with the others again. False when
     * nothing was deleted: the lease is gone, or the row already was (the caller tells which).
     */
    async release(streamId: string, fence: Fence, key: string): Promise<boolean> {
      const r = await db.deleteFrom('stream_holds').where('stream_id', '=', streamId).where('grant_key', '=', key).where(fenced(streamId, fence)).executeTakeFirst();
      return Number(r.numDeletedRows) === 1;
    },

    /** For the stream status: how many grants are held, since when, and the latest error. */
    async summary(streamId: string): Promise<{ grants: number; oldestSince: Date | null; lastError: string | null }> {
      const row = await db
        .selectFrom('stream_holds')
        .select([sql<string>`count(*)`.as('n'), sql<Date | null>`min(since)`.as('oldest'), sql<string | null>`(array_agg(last_error order by updated_at desc))[1]`.as('last_error')])
        .where('stream_id', '=', streamId)
        .executeTakeFirstOrThrow();
      return { grants: Number(row.n), oldestSince: row.oldest ? new Date(row.oldest) : null, lastError: row.last_error };
    },
  };
}
