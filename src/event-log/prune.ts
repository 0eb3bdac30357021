import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/database.js';

/**
 * Retention: an event is removed once it is older than the window AND every stream of its
 * application has read past it (so a stream that is paused or failed keeps its backlog), and
 * no per-grant hold of a stream still owes it.
 * Deletion runs in small batches, each its own statement, so row locks are short and appends
 * (which only insert new rows) never wait on it.
 */
export interface PruneOptions {
  retentionDays: number;
  now: Date;
  batchSize?: number;
  /** Stop after this many batches (the next run continues). */
  maxBatches?: number;
}

export async function pruneEvents(db: Kysely<Database>, opts: PruneOptions): Promise<number> {
  const cutoff = new Date(opts.now.getTime() - opts.retentionDays * 86_400_000);
  const batch = opts.batchSize ?? 2000;
  const maxBatches = opts.maxBatches ?? 1000;
  let total = 0;
  let batches = 0;
  for (const { id } of await db.selectFrom('applications').select('id').orderBy('id').execute()) {
    const boundary = await pruneBoundary(db, id, cutoff);
    while (batches++ < maxBatches) {
      // Oldest first by seq, below the application's first young event: an index range scan
      // that ends at the boundary, however long the log after it is.
      const result = await pruneBatchQuery(id, cutoff, boundary, batch).execute(db);
      const n = Number(result.numAffectedRows ?? 0n);
      total += n;
      if (n < batch) break;
    }
  }
  return total;
}

/**
 * The seq of an application's earliest young event (created at or after `cutoff`), through the
 * (application_id, created_at) index; null when every event is old. Events below it are old except for the odd one of a
 * transaction that started before the cutoff and committed late, which the `created_at` test
 * of the delete keeps (a later run's boundary passes it).
 */
export async function pruneBoundary(db: Kysely<Database>, applicationId: string, cutoff: Date): Promise<string | null> {
  const row = await pruneBoundaryQuery(applicationId, cutoff).execute(db);
  return row.rows[0]?.seq ?? null;
}

/** One batch of the retention delete (exported for the plan test). */
export const pruneBatchQuery = (applicationId: string, cutoff: Date, boundary: string | null, batch: number) => sql`
      delete from events where seq in (
        select e.seq from events e
        where e.application_id = ${applicationId} and e.created_at < ${cutoff} and ${boundary === null ? sql`true` : sql`e.seq < ${boundary}`}
          and not exists (
            select 1 from streams s
            where s.application_id = e.application_id and (e.txid, e.seq) > (s.offset_txid, s.offset_seq)
          )
          -- A stream's per-grant hold still owes its grant's events after the hold's position.
          and not exists (
            select 1 from stream_holds h join streams s on s.id = h.stream_id
            where s.application_id = e.application_id and h.grant_key = coalesce(e.grant_id, '') and (e.txid, e.seq) > (h.after_txid, h.after_seq)
          )
        order by e.seq
        limit ${batch}
      )`;

export const pruneBoundaryQuery = (applicationId: string, cutoff: Date) =>
  sql<{ seq: string }>`select seq from events where application_id = ${applicationId} and created_at >= ${cutoff} order by created_at limit 1`;

/** Delivery attempts are kept for the same window as the log. */
export async function pruneDeliveryAttempts(db: Kysely<Database>, opts: PruneOptions): Promise<number> {
  const cutoff = new Date(opts.now.getTime() - opts.retentionDays * 86_400_000);
  const batch = opts.batchSize ?? 5000;
  let total = 0;
  for (let i = 0; i < (opts.maxBatches ?? 1000); i++) {
    const result = await sql`
      delete from delivery_attempts where id in (
        select id from delivery_attempts where created_at < ${cutoff} order by created_at limit ${batch}
      )`.execute(db);
    const n = Number(result.numAffectedRows ?? 0n);
    total += n;
    if (n < batch) break;
  }
  return total;
}

/**
 * Dead letters stay this long after they were dead-lettered (or last redriven): long enough to
 * notice, fix the receiver and redrive; they do not grow without bound. Letters queued for
 * redrive are never removed.
 */
export const DEAD_LETTER_RETENTION_DAYS = 30;

export async function pruneDeadLetters(db: Kysely<Database>, opts: { now: Date; retentionDays?: number; batchSize?: number; maxBatches?: number }): Promise<number> {
  const cutoff = new Date(opts.now.getTime() - (opts.retentionDays ?? DEAD_LETTER_RETENTION_DAYS) * 86_400_000);
  const batch = opts.batchSize ?? 5000;
  let total = 0;
  for (let i = 0; i < (opts.maxBatches ?? 1000); i++) {
    const result = await sql`
      delete from dead_letters where id in (
        select id from dead_letters where state = 'dead' and updated_at < ${cutoff} order by updated_at limit ${batch}
      )`.execute(db);
    const n = Number(result.numAffectedRows ?? 0n);
    total += n;
    if (n < batch) break;
  }
  return total;
}
