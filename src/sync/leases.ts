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

/** What one claim statement took: the grants won with their fencing tokens, and how many it tried. */
export interface GrantClaim {
  won: Map<string, string>;
  /** Free grants the statement picked; more than `won.size` means other workers took some first. */
  candidates: number;
}

/**
 * Picks up to `limit` syncable grants whose lease is free or expired (in `holder`'s md5 order,
 * as `freeGrants`) and takes their leases, in one statement: the per-grant `acquire` of the
 * generic repository, for a whole claim round (one round trip instead of one per grant).
 * The lease rules are `acquire`'s: a row is taken only if free, expired or already ours, and the
 * token goes up exactly when the holder changes. A row another worker took between the pick and
 * the write (the statement waits for its lock, then re-checks the condition on the new version)
 * is simply not won. Rows are written in name order, whatever the pick order, so two claimers
 * overlapping on candidates lock them in the same order and cannot deadlock. `exclude`: grants
 * this process still runs or is stopping (a lease of ours that expired meanwhile looks free).
 */
export async function claimGrants(db: Kysely<Database>, providers: readonly string[], holder: string, limit: number, ttlMs: number, exclude: readonly string[]): Promise<GrantClaim> {
  if (providers.length === 0 || limit <= 0) return { won: new Map(), candidates: 0 };
  const { rows } = await sql<{ candidates: string; won: [string, string][] }>`
    with cand as materialized (
      select grants.id from grants
      left join leases on leases.name = ${GRANT_LEASE_PREFIX} || grants.id
      where grants.status = 'valid' and grants.provider = any(${[...providers]}::text[])
        and (leases.name is null or leases.expires_at < now())
        and grants.id <> all(${[...exclude]}::text[])
      order by md5(grants.id || ${holder})
      limit ${limit}
    ), won as (
      insert into leases (name, holder, token, expires_at)
      select ${GRANT_LEASE_PREFIX} || id, ${holder}, 1, ${interval(ttlMs)} from cand order by id
      on conflict (name) do update set
        holder = excluded.holder,
        expires_at = excluded.expires_at,
        token = case when leases.holder = excluded.holder then leases.token else leases.token + 1 end
      where leases.holder = excluded.holder or leases.expires_at < now()
      returning name, token
    )
    select (select count(*) from cand) as candidates,
      coalesce((select json_agg(json_build_array(name, token::text)) from won), '[]'::json) as won`.execute(db);
  const r = rows[0]!;
  return { won: new Map(r.won.map(([name, token]) => [grantIdOfLease(name), token])), candidates: Number(r.candidates) };
}
