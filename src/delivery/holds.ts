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

    /** Moves a hold after a retry: new position, attempt and due time. False when the lease is gone. */
    async save(streamId: string, fence: Fence, key: string, h: { after: LogPosition; attempt: number; nextRetryAt: Date; error: string | null; status: number | null }): Promise<boolean> {
      const r = await db
        .updateTable('stream_holds')
        .set({
          after_txid: sql`${h.after.txid}::xid8`,
          after_seq: h.after.seq,
          retry_attempt: h.attempt,
          next_retry_at: h.nextRetryAt,
          ...(h.error === null ? {} : { last_error: h.error.slice(0, 2000), status_code: h.status }),
          updated_at: sql`now()`,
        })
        .where('stream_id', '=', streamId)
        .where('grant_key', '=', key)
        .where(fenced(streamId, fence))
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    },

    /** The grant has caught up with the stream's offset: it flows with the others again. */
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
