import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/database.js';

/**
 * Retention: an event is removed once it is older than the window AND every stream of its
 * application has read past it (so a stream that is paused or failed keeps its backlog).
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
  for (let i = 0; i < maxBatches; i++) {
    // Oldest first by seq: old events sit at the low end of the primary key, so this is an
    // index range scan that stops at the first young event.
    const result = await sql`
      delete from events where seq in (
        select e.seq from events e
        where e.created_at < ${cutoff}
          and not exists (
            select 1 from streams s
            where s.application_id = e.application_id and (e.txid, e.seq) > (s.offset_txid, s.offset_seq)
          )
        order by e.seq
        limit ${batch}
      )`.execute(db);
    const n = Number(result.numAffectedRows ?? 0n);
    total += n;
    if (n < batch) break;
  }
  return total;
}

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
