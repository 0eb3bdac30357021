import { readdir, readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import type { Store } from './index.js';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
/** Arbitrary constant: serialises concurrent migrators across processes. */
const MIGRATION_LOCK = 7_411_932;

export async function listMigrations(): Promise<{ version: string; file: URL }[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return files.map((f) => ({ version: f.replace(/\.sql$/, ''), file: new URL(f, MIGRATIONS_DIR) }));
}

/**
 * Applies forward-only SQL migrations in name order, each in its own transaction, under an
 * advisory lock so that several processes starting together apply each migration once.
 * Returns the versions applied by this call.
 */
export async function migrate(store: Store): Promise<string[]> {
  // Concurrent `CREATE TABLE IF NOT EXISTS` can still collide in the catalog, hence the lock.
  await store.db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(tx);
    await sql`CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`.execute(tx);
  });
  const applied: string[] = [];
  // A session-level lock needs one connection for its whole life, which on PostgreSQL means a
  // transaction-scoped lock taken inside each migration's transaction plus a re-check.
  for (const m of await listMigrations()) {
    const script = await readFile(m.file, 'utf8');
    await store.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`.execute(tx);
      const done = await tx.selectFrom('schema_migrations').select('version').where('version', '=', m.version).executeTakeFirst();
      if (done) return;
      for (const statement of splitStatements(script)) await sql.raw(statement).execute(tx);
      await tx.insertInto('schema_migrations').values({ version: m.version }).execute();
      applied.push(m.version);
    });
  }
  return applied;
}

/** Pending migrations (for /readyz). */
export async function pendingMigrations(store: Store): Promise<string[]> {
  // Only a missing table means "nothing applied yet"; an unreachable database is not "migrating".
  const rows = await store.db
    .selectFrom('schema_migrations')
    .select('version')
    .execute()
    .catch((err: unknown) => {
      if ((err as { code?: unknown } | null)?.code === '42P01') return [];
      throw err;
    });
  const done = new Set(rows.map((r) => r.version));
  return (await listMigrations()).map((m) => m.version).filter((v) => !done.has(v));
}

/**
 * Splits a migration script into statements so that each can run through the extended protocol
 * inside the transaction. Migrations are plain DDL: semicolons only end statements, except inside
 * dollar-quoted bodies, which are kept whole. Comment lines are dropped.
 */
export function splitStatements(script: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of script.split('\n')) {
    if (!inDollar && /^\s*--/.test(line)) continue;
    current += line + '\n';
    const dollars = line.match(/\$\$/g)?.length ?? 0;
    if (dollars % 2 === 1) inDollar = !inDollar;
    if (!inDollar && /;\s*(--.*)?$/.test(line)) {
      out.push(current.trim().replace(/;\s*(--.*)?$/, ''));
      current = '';
    }
  }
  if (current.trim()) out.push(current.trim());
  return out.filter(Boolean);
}
