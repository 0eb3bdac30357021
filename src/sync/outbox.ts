import { sql, type Kysely, type Transaction } from 'kysely';
import type { NewEvent } from '../domain/event.js';
import { insertEventsSql, type EncodedRows } from '../event-log/append.js';
import { LOG_CHANNEL } from '../event-log/notify.js';
import type { Cursor } from '../providers/provider.js';
import type { Database } from '../store/database.js';

/** The lease a syncer holds for its grant; the token fences out a holder that lost it. */
export interface HeldLease {
  name: string;
  holder: string;
  token: string;
}

/** This process no longer holds the grant's lease: another worker owns it now. */
export class LeaseLostError extends Error {
  constructor(name: string) {
    super(`lease ${name} is held by another worker`);
    this.name = 'LeaseLostError';
  }
}

/** The grant was deleted or is no longer valid: stop syncing it. */
export class GrantGoneError extends Error {
  constructor(grantId: string) {
    super(`grant ${grantId} no longer exists or is not valid`);
    this.name = 'GrantGoneError';
  }
}

/** What `grants.sync_state` holds for the engine; other keys are left untouched. */
export interface SyncState {
  cursor?: Cursor;
  progress?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * The outbox transaction (events and cursor commit together, ADR 0500): appends the batch's events and saves the cursor
 * that follows them, or neither. The lease row is locked first and its fencing token compared,
 * so a worker that lost the grant (paused, partitioned) can never write after the new holder:
 * the new holder's acquire waits for this lock, and bumps the token once it has it.
 * Returns the events that were new to the log (replays are dropped by id).
 *
 * It is one statement (atomic on its own), so a batch costs one round trip instead of seven
 * (BEGIN, two locking reads, insert, notify, update, COMMIT): on a busy database server each
 * round trip waits for a backend to be scheduled. Under READ COMMITTED a lease row updated by a
 * new holder while we wait for its lock is re-checked against the token, so the fence holds.
 */
export async function commitBatch(
  db: Kysely<Database>,
  lease: HeldLease,
  grant: { id: string; applicationId: string },
  batch: { events: readonly NewEvent[]; cursor: Cursor; progress?: Record<string, unknown> | undefined },
  /** `encodeEventRows(batch.events)`, when the caller encoded the batch ahead of its commit. */
  encoded?: EncodedRows,
): Promise<NewEvent[]> {
  const patch: SyncState = { cursor: batch.cursor };
  if (batch.progress) patch.progress = batch.progress;
  const { rows } = await sql<{ held: boolean; valid: boolean; ids: string[] | null; notified: string }>`
    with held as (
      select 1 from leases where name = ${lease.name} and holder = ${lease.holder} and token = ${lease.token} for update
    ), g as (
      select id from grants where id = ${grant.id} and status = 'valid' and exists (select 1 from held) for update
    ), ins as (
      ${insertEventsSql(grant.applicationId, batch.events, sql`exists (select 1 from g)`, encoded)}
    ), upd as (
      update grants set sync_state = coalesce(sync_state, '{}'::jsonb) || ${JSON.stringify(patch)}::jsonb, last_sync_at = now()
      where id = (select id from g)
      returning 1
    ), note as (
      -- Delivered at commit, like appendEvents' notification: wakes delivery when the rows are readable.
      select pg_notify(${LOG_CHANNEL}, ${grant.applicationId}) from (select 1 from ins limit 1) one
    )
    select exists (select 1 from held) as held, exists (select 1 from upd) as valid, (select array_agg(id) from ins) as ids, (select count(*) from note) as notified`.execute(db);
  const r = rows[0];
  if (!r?.held) throw new LeaseLostError(lease.name);
  if (!r.valid) throw new GrantGoneError(grant.id);
  const added = new Set(r.ids ?? []);
  return batch.events.filter((e) => added.has(e.id));
}

/**
 * Runs `write` in one transaction after locking the lease row and comparing its fencing token;
 * throws LeaseLostError (and writes nothing) when this holder no longer has the grant. It is the
 * fence for a session's writes other than batches (rotated credentials; `commitBatch` applies the
 * same check inside its one statement): a stopped syncer's abandoned provider call that finishes
 * late must never overwrite what the new holder saved.
 */
export async function underLease<T>(db: Kysely<Database>, lease: HeldLease, write: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (tx) => {
    const held = await tx
      .selectFrom('leases')
      .select('token')
      .where('name', '=', lease.name)
      .where('holder', '=', lease.holder)
      .where('token', '=', lease.token)
      .forUpdate()
      .executeTakeFirst();
    if (!held) throw new LeaseLostError(lease.name);
    return write(tx);
  });
}
