import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { ConfigError } from '../config.js';
import type { Database } from './database.js';
import { PGliteMutex, pgliteDialect } from './pglite-driver.js';

/**
 * The one stateful dependency: PostgreSQL, or embedded PGlite in the data directory. Both speak
 * the same SQL and run the same migrations; `kind` exists only for the few places that must
 * differ (multi-statement migration scripts, server-only features such as LISTEN/NOTIFY).
 */
export interface Store {
  kind: 'postgres' | 'pglite';
  db: Kysely<Database>;
  /** Runs a parameterless, possibly multi-statement SQL script (migrations). */
  execScript(sql: string): Promise<void>;
  connectionString: string | null;
  /** PostgreSQL's node-postgres pool behind `db`, for what Kysely cannot run (COPY). */
  pool?: pg.Pool;
  close(): Promise<void>;
}

const INT8 = 20;

/** Called with every connection-level error of the pool (a restarted or failed-over server). */
export type StoreErrorListener = (err: Error) => void;

/**
 * A pool that survives the server going away: a restart or failover terminates every session
 * (57P01) and those errors arrive as 'error' events, on idle clients through the pool and on
 * checked-out ones through the client; without listeners either one kills the process. Dead
 * clients are dropped by the pool, and the next query connects again, so the callers' own retry
 * loops (scheduler ticks, syncer and delivery backoff) are what resumes the work. Acquiring a
 * connection is bounded, so a partitioned server fails queries instead of hanging them.
 */
export function resilientPool(connectionString: string, poolSize: number, onError: StoreErrorListener = () => undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: poolSize, connectionTimeoutMillis: 10_000, keepAlive: true });
  pool.on('error', (err) => onError(err));
  pool.on('connect', (client) => client.on('error', (err) => onError(err)));
  return pool;
}

export async function openPostgres(connectionString: string, poolSize = 10, onError?: StoreErrorListener): Promise<Store> {
  const pool = resilientPool(connectionString, poolSize, onError);
  // Fail fast, naming the setting, if the database is unreachable.
  try {
    await pool.query('select 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new ConfigError('DATABASE_URL', `cannot connect to ${new URL(connectionString).host}: ${(e as Error).message}`);
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kind: 'postgres',
    db,
    pool,
    connectionString,
    async execScript(sql) {
      await pool.query(sql);
    },
    async close() {
      await db.destroy();
    },
  };
}

/**
 * PGlite is a single-process database: two processes opening one directory corrupt it. A pid
 * lock file turns that mistake into a clear error (a stale lock of a dead process is taken over).
 */
async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const lock = join(dir, 'tributary.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      return () => rm(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(await readFile(lock, 'utf8').catch(() => '0'));
      let alive = false;
      try {
        alive = pid > 0 && pid !== process.pid && process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (alive) {
        throw new ConfigError('TRIBUTARY_DATA_DIR', `the embedded database in ${dir} is in use by process ${pid}; stop it first, or set DATABASE_URL to share a PostgreSQL server between processes`);
      }
      await rm(lock, { force: true });
    }
  }
  throw new ConfigError('TRIBUTARY_DATA_DIR', `could not lock ${dir}`);
}

export async function openPGlite(dataDir: string | null, options: { loadDataDir?: Blob } = {}): Promise<Store & { pglite: PGlite }> {
  let dir: string | undefined;
  let unlock = async () => {};
  if (dataDir) {
    dir = join(dataDir, 'pgdata');
    await mkdir(dir, { recursive: true });
    unlock = await lockDataDir(dataDir);
  }
  // int8 as text, like node-postgres, so sequence numbers never lose precision.
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(dir ? { dataDir: dir } : {}),
      ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      parsers: { [INT8]: (v: string) => v },
    });
  } catch (e) {
    await unlock();
    throw e;
  }
  const mutex = new PGliteMutex();
  const db = new Kysely<Database>({ dialect: pgliteDialect(pglite, mutex) });
  return {
    kind: 'pglite',
    db,
    pglite,
    connectionString: null,
    execScript: (sql) => mutex.exclusive(async () => void (await pglite.exec(sql))),
    async close() {
      await db.destroy();
      await pglite.close();
      await unlock();
    },
  };
}

export async function openStore(opts: { databaseUrl: string | null; dataDir: string }, onError?: StoreErrorListener): Promise<Store> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, 10, onError) : openPGlite(opts.dataDir);
}

export type { Database } from './database.js';
