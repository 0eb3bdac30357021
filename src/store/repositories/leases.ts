import { sql, type Kysely } from 'kysely';
import type { Database } from '../database.js';

/**
 * Leases with fencing tokens: long-lived ownership (a stream's runner, a grant's connection)
 * held by one process at a time. The token increases on every change of holder, so a writer
 * that lost its lease (paused, partitioned) can be refused by comparing tokens.
 */
export interface Lease {
  name: string;
  holder: string;
  token: string;
  expiresAt: Date;
}

/** The holder of a released lease: no process uses an empty worker id, so nobody's renewals or fences match it. */
const RELEASED = '';

export function leasesRepo(db: Kysely<Database>) {
  const giveBack = (holder: string) => db.updateTable('leases').set({ holder: RELEASED, expires_at: sql<Date>`now() - interval '1 second'` }).where('holder', '=', holder);
  return {
    /** Takes the lease if free or expired, or renews it if `holder` already has it. */
    async acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
      const expires = sql<Date>`now() + ${`${ttlMs} milliseconds`}::interval`;
      const row = await db
        .insertInto('leases')
        .values({ name, holder, token: 1, expires_at: expires })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({
              holder,
              expires_at: expires,
              token: sql`case when leases.holder = ${holder} then leases.token else leases.token + 1 end`,
            })
            .where((eb) => eb.or([eb('leases.holder', '=', holder), eb('leases.expires_at', '<', sql<Date>`now()`)])),
        )
        .returningAll()
        .executeTakeFirst();
      return row ? { name: row.name, holder: row.holder, token: String(row.token), expiresAt: row.expires_at } : null;
    },

    /**
     * Gives the lease back at once. The row stays, holderless and expired, so that its token keeps
     * counting: had it been deleted, the next acquire (even by the same holder) would start again
     * at 1 and a very late write of an earlier tenure carrying that token would pass the fence.
     */
    async release(name: string, holder: string): Promise<void> {
      await giveBack(holder).where('name', '=', name).execute();
    },

    /** Releases every lease `holder` has (as `release` does each), in one statement. */
    async releaseAll(holder: string): Promise<void> {
      await giveBack(holder).execute();
    },

    /** True while `holder` still holds the lease with this fencing token. */
    async holds(name: string, holder: string, token: string): Promise<boolean> {
      const row = await db
        .selectFrom('leases')
        .select('name')
        .where('name', '=', name)
        .where('holder', '=', holder)
        .where('token', '=', token)
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirst();
      return row !== undefined;
    },

    /** The lease row as it is now (released or expired included), null when it was never taken. */
    async get(name: string): Promise<(Lease & { live: boolean }) | null> {
      const row = await db.selectFrom('leases').selectAll().select(sql<boolean>`expires_at > now()`.as('live')).where('name', '=', name).executeTakeFirst();
      return row ? { name: row.name, holder: row.holder, token: String(row.token), expiresAt: row.expires_at, live: row.live } : null;
    },

    /** Leases with a holder (live or expired, not released). */
    list: (prefix: string) => db.selectFrom('leases').selectAll().where('name', 'like', `${prefix}%`).where('holder', '<>', RELEASED).execute(),
  };
}
