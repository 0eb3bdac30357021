import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/database.js';

/**
 * The lease names the sync engine uses, and the few bulk lease statements the generic
 * repository (store/repositories/leases.ts) has no need for: renewing every grant lease a
 * worker holds in one statement keeps 1,000 grants per worker cheap.
 */
export const GRANT_LEASE_PREFIX = 'grant-sync:';
export const WORKER_LEASE_PREFIX = 'sync-worker:';
export const grantLeaseName = (grantId: string) => `${GRANT_LEASE_PREFIX}${grantId}`;
export const grantIdOfLease = (name: string) => name.slice(GRANT_LEASE_PREFIX.length);

const interval = (ms: number) => sql<Date>`now() + ${`${ms} milliseconds`}::interval`;

/** Extends every grant lease `holder` has; returns them (a lease missing from the result was lost). */
export async function renewGrantLeases(db: Kysely<Database>, holder: string, ttlMs: number): Promise<Map<string, string>> {
  const rows = await db
    .updateTable('leases')
    .set({ expires_at: interval(ttlMs) })
    .where('holder', '=', holder)
    .where('name', 'like', `${GRANT_LEASE_PREFIX}%`)
    .returning(['name', 'token'])
    .execute();
  return new Map(rows.map((r) => [grantIdOfLease(r.name), String(r.token)]));
}

/** Workers whose heartbeat lease is live (at least 1: the caller). */
export async function liveWorkers(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('leases')
    .select(sql<string>`count(*)`.as('n'))
    .where('name', 'like', `${WORKER_LEASE_PREFIX}%`)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return Math.max(1, Number(row?.n ?? 1));
}

/** Grants that can be synced: valid, of a provider that has a sync session. */
export async function syncableGrants(db: Kysely<Database>, providers: readonly string[]): Promise<string[]> {
  if (providers.length === 0) return [];
  const rows = await db.selectFrom('grants').select('id').where('status', '=', 'valid').where('provider', 'in', providers).execute();
  return rows.map((r) => r.id);
}

/**
 * Syncable grants whose lease is free or expired, in an order particular to `holder` so that
 * workers claiming at the same moment mostly try different grants.
 */
export async function freeGrants(db: Kysely<Database>, providers: readonly string[], holder: string, limit: number): Promise<string[]> {
  if (providers.length === 0 || limit <= 0) return [];
  const rows = await db
    .selectFrom('grants')
    .leftJoin('leases', (j) => j.on(sql<boolean>`leases.name = ${GRANT_LEASE_PREFIX} || grants.id`))
    .select('grants.id')
    .where('grants.status', '=', 'valid')
    .where('grants.provider', 'in', providers)
    .where((eb) => eb.or([eb('leases.name', 'is', null), eb('leases.expires_at', '<', sql<Date>`now()`)]))
    .orderBy(sql`md5(grants.id || ${holder})`)
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}

/** How many grants are syncable (the numerator of the fair share), without listing them. */
export async function countSyncable(db: Kysely<Database>, providers: readonly string[]): Promise<number> {
  if (providers.length === 0) return 0;
  const row = await db
    .selectFrom('grants')
    .select(sql<string>`count(*)`.as('n'))
    .where('status', '=', 'valid')
    .where('provider', 'in', providers)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}
