import type { Kysely, Transaction } from 'kysely';
import type { NewEvent } from '../domain/event.js';
import { appendEvents } from '../event-log/append.js';
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
 * The outbox transaction (DESIGN.md rule 2): appends the batch's events and saves the cursor
 * that follows them, or neither. The lease row is locked first and its fencing token compared,
 * so a worker that lost the grant (paused, partitioned) can never write after the new holder:
 * the new holder's acquire waits for this lock, and bumps the token once it has it.
 * Returns the events that were new to the log (replays are dropped by id).
 */
export async function commitBatch(
  db: Kysely<Database>,
  lease: HeldLease,
  grant: { id: string; applicationId: string },
  batch: { events: readonly NewEvent[]; cursor: Cursor; progress?: Record<string, unknown> | undefined },
): Promise<NewEvent[]> {
  return underLease(db, lease, async (tx) => {
    const row = await tx.selectFrom('grants').select(['sync_state', 'status']).where('id', '=', grant.id).forUpdate().executeTakeFirst();
    if (!row || row.status !== 'valid') throw new GrantGoneError(grant.id);
    const added = new Set(await appendEvents(tx, grant.applicationId, batch.events));
    const state: SyncState = { ...row.sync_state, cursor: batch.cursor };
    if (batch.progress) state.progress = batch.progress;
    await tx.updateTable('grants').set({ sync_state: JSON.stringify(state), last_sync_at: new Date() }).where('id', '=', grant.id).execute();
    return batch.events.filter((e) => added.has(e.id));
  });
}

/**
 * Runs `write` in one transaction after locking the lease row and comparing its fencing token;
 * throws LeaseLostError (and writes nothing) when this holder no longer has the grant. Every write
 * a session makes goes through it (events and cursor, rotated credentials): a stopped syncer's
 * abandoned provider call that finishes late must never overwrite what the new holder saved.
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
