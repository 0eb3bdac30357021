import pg from 'pg';
import type { StoredEvent } from '../../domain/event.js';
import type { DestinationContext, DestinationWriter, WriteResult } from '../destination.js';
import { RowMappingError, TABLES, rowsByTable, testRow, toRows, type Row, type TableName, type TableRows } from '../tables.js';
import { DEFAULT_SCHEMA } from './defaults.js';
import { EXISTING_COLUMNS_SQL, LZ4_SUPPORTED_SQL, missingColumnsSql, schemaSql } from './ddl.js';
import { copyRows } from './copy.js';
import { guardedStream } from './guarded-socket.js';
import { classifyPgError, isUniqueViolation, toDestinationError } from './errors.js';
import { insertSql, rowsJson } from './insert.js';

export interface PostgresConfig {
  connection_string: string;
  schema?: string;
}

/** Server-side deadline of every statement the destination sends. */
export const STATEMENT_TIMEOUT_MS = 60_000;

interface Mapped {
  event: StoredEvent;
  groups: TableRows[];
}

/**
 * Writes batches into PostgreSQL tables (layout of tables.ts), one transaction per batch, on
 * three paths from fast to careful:
 * 1. `COPY` per table — a first delivery, the common case, loads at bulk-load speed;
 * 2. on a duplicate key (a redelivery): `INSERT … SELECT FROM json_populate_recordset … ON
 *    CONFLICT DO NOTHING` per table, so rows already there are left alone;
 * 3. on a data or constraint error: event by event under savepoints, so only the offending
 *    events are rejected and the rest of the batch lands.
 */
export class PostgresWriter implements DestinationWriter {
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private ready: Promise<void> | null = null;

  constructor(
    config: PostgresConfig,
    private readonly ctx: DestinationContext,
    poolSize: number,
  ) {
    this.schema = config.schema ?? DEFAULT_SCHEMA;
    this.pool = new pg.Pool({
      connectionString: config.connection_string,
      max: poolSize,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
      // Through the shared SSRF guard: resolved, checked, connected to the checked address.
      stream: guardedStream(ctx.outbound),
      // A statement that outlives this (a lock held by someone else, a huge COPY) fails and the batch is retried.
      statement_timeout: STATEMENT_TIMEOUT_MS,
    });
    // An idle client losing its connection must not crash the process; the next query reconnects.
    this.pool.on('error', (err) => ctx.logger.warn({ stream_id: ctx.streamId, err: err.message }, 'postgres destination: idle connection lost'));
  }

  /** Creates the schema and tables once per writer (serialized across processes by an advisory lock). */
  private ensureSchema(): Promise<void> {
    this.ready ??= this.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`tributary-destination:${this.schema}`]);
      const { rows } = await c.query<{ lz4: boolean }>(LZ4_SUPPORTED_SQL);
      const opts = { lz4: rows[0]?.lz4 === true };
      for (const stmt of schemaSql(this.schema, opts)) await c.query(stmt);
      const cols = await c.query<{ table_name: string; column_name: string }>(EXISTING_COLUMNS_SQL, [this.schema]);
      const existing = new Map<string, Set<string>>();
      for (const r of cols.rows) existing.set(r.table_name, (existing.get(r.table_name) ?? new Set()).add(r.column_name));
      for (const stmt of missingColumnsSql(this.schema, existing, opts)) await c.query(stmt);
    }).catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const client = await this.pool.connect();
    // Abort (stop, lost lease) drops the connection: the server rolls the transaction back.
    const drop = () => (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    signal?.addEventListener('abort', drop, { once: true });
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      signal?.removeEventListener('abort', drop);
      client.release(signal?.aborted ? true : undefined);
    }
  }

  private async insert(c: pg.PoolClient, table: TableName, rows: readonly Row[]): Promise<void> {
    const def = TABLES[table];
    await c.query(insertSql(this.schema, def), [rowsJson(def, rows)]);
  }

  async test(): Promise<void> {
    try {
      await this.ensureSchema();
      const row = testRow(`test_${this.ctx.now().getTime()}`, this.ctx.streamId, this.ctx.now());
      await this.transaction((c) => this.insert(c, '_tributary_test', [row]));
    } catch (err) {
      throw toDestinationError(err);
    }
  }

  async write(batch: StoredEvent[], signal: AbortSignal): Promise<WriteResult> {
    const rejected: WriteResult['rejected'] = [];
    const syncedAt = this.ctx.now();
    const mapped: Mapped[] = [];
    for (const event of batch) {
      try {
        mapped.push({ event, groups: toRows(event, syncedAt) });
      } catch (err) {
        if (!(err instanceof RowMappingError)) throw err;
        rejected.push({ id: event.id, reason: err.message });
      }
    }
    if (mapped.length === 0) return { rejected };
    const tables = rowsByTable(mapped.flatMap((m) => m.groups));
    try {
      await this.ensureSchema();
      await this.transaction(async (c) => {
        for (const [table, rows] of tables) await copyRows(c, this.schema, TABLES[table], rows);
      }, signal);
      return { rejected };
    } catch (err) {
      if (classifyPgError(err) !== 'row') throw toDestinationError(err);
      if (!isUniqueViolation(err)) {
        rejected.push(...(await this.writeOneByOne(mapped)));
        return { rejected };
      }
    }
    try {
      await this.transaction(async (c) => {
        for (const [table, rows] of tables) await this.insert(c, table, rows);
      }, signal);
    } catch (err) {
      if (classifyPgError(err) !== 'row') throw toDestinationError(err);
      rejected.push(...(await this.writeOneByOne(mapped)));
    }
    return { rejected };
  }

  /** The slow path after a constraint or data error: each event under its own savepoint. */
  private async writeOneByOne(mapped: Mapped[]): Promise<WriteResult['rejected']> {
    const rejected: WriteResult['rejected'] = [];
    try {
      await this.transaction(async (c) => {
        for (const { event, groups } of mapped) {
          await c.query('SAVEPOINT one_event');
          try {
            for (const [table, rows] of rowsByTable(groups)) await this.insert(c, table, rows);
            await c.query('RELEASE SAVEPOINT one_event');
          } catch (err) {
            if (classifyPgError(err) !== 'row') throw err;
            await c.query('ROLLBACK TO SAVEPOINT one_event');
            const reason = `PostgreSQL refused a row: ${(err as Error).message}`;
            this.ctx.logger.warn({ stream_id: this.ctx.streamId, event_id: event.id, reason }, 'postgres destination: event rejected');
            rejected.push({ id: event.id, reason });
          }
        }
      });
    } catch (err) {
      throw toDestinationError(err);
    }
    return rejected;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
