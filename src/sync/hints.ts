import { sql, type Kysely } from 'kysely';
import type { AppContext } from '../context.js';
import type { Database } from '../store/database.js';
import { GRANT_LEASE_PREFIX } from './leases.js';

/**
 * Push hints: "grant X may have changes, sync it soon". Callable from any process (the API
 * receiving a Graph or Gmail notification, an IMAP IDLE callback). Delivery path, fastest first:
 *  1. the grant's syncer runs in this process → wake it directly (no database round trip);
 *  2. otherwise record the hint in `sync_hints` and, on PostgreSQL, NOTIFY the workers; the
 *     lease holder's listener wakes the syncer at once;
 *  3. every worker also polls `sync_hints` for the grants it holds, which covers a dropped
 *     listener connection. A lost hint is never lost mail: the fallback pass follows the cursor.
 */
export const HINT_CHANNEL = 'tributary_sync';

const localSyncers = new Map<string, (reason: string) => void>();

/** Called by the scheduler while a syncer for `grantId` runs in this process. Returns the unregister function. */
export function registerLocalSyncer(grantId: string, wake: (reason: string) => void): () => void {
  localSyncers.set(grantId, wake);
  return () => {
    if (localSyncers.get(grantId) === wake) localSyncers.delete(grantId);
  };
}

export async function requestSync(ctx: Pick<AppContext, 'store'>, grantId: string, reason: string): Promise<'local' | 'queued'> {
  const local = localSyncers.get(grantId);
  if (local) {
    local(reason);
    return 'local';
  }
  await queueHint(ctx, grantId, reason);
  return 'queued';
}

/** The cross-process path of requestSync: record the hint, and NOTIFY on PostgreSQL. */
export async function queueHint(ctx: Pick<AppContext, 'store'>, grantId: string, reason: string): Promise<void> {
  const db = ctx.store.db;
  await db
    .insertInto('sync_hints')
    .values({ grant_id: grantId, reason: reason.slice(0, 200), requested_at: new Date() })
    .onConflict((oc) => oc.column('grant_id').doUpdateSet({ reason: reason.slice(0, 200), requested_at: new Date() }))
    .execute();
  if (ctx.store.kind === 'postgres') await sql`select pg_notify(${HINT_CHANNEL}, ${grantId})`.execute(db);
}

/** Removes and returns the pending hints of the grants `holder` holds leases for. */
export async function takeHints(db: Kysely<Database>, holder: string): Promise<{ grantId: string; reason: string }[]> {
  const rows = await db
    .deleteFrom('sync_hints')
    .using('leases')
    .whereRef('leases.name', '=', sql<string>`${GRANT_LEASE_PREFIX} || sync_hints.grant_id`)
    .where('leases.holder', '=', holder)
    .returning(['sync_hints.grant_id', 'sync_hints.reason'])
    .execute();
  return rows.map((r) => ({ grantId: r.grant_id, reason: r.reason }));
}

/** Drops hints nobody claimed (grant deleted or not syncable) after `maxAgeMs`. */
export async function purgeStaleHints(db: Kysely<Database>, maxAgeMs: number): Promise<void> {
  await db
    .deleteFrom('sync_hints')
    .where('requested_at', '<', sql<Date>`now() - ${`${maxAgeMs} milliseconds`}::interval`)
    .execute();
}

export async function dropHint(db: Kysely<Database>, grantId: string): Promise<void> {
  await db.deleteFrom('sync_hints').where('grant_id', '=', grantId).execute();
}
