import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { appendCell, DUCK_TYPES, duckIdent, duckLiteral } from '../parquet.js';
import { TABLES, TABLE_NAMES, type Row, type TableName } from '../tables.js';
import { hourParts, partName, publish } from './fs-atomic.js';
import type { RollPolicy } from './ndjson.js';

/**
 * Parquet files in the shared table layout (tables.ts), written through DuckDB.
 *
 * A batch is acknowledged once its rows are committed to a hidden DuckDB staging database
 * (`.staging/parquet.duckdb`; DuckDB's WAL makes the commit durable). A roll, by size or age,
 * exports each table's staged rows to a temp Parquet file, fsyncs it and renames it to
 * `parquet/<table>/<day>/<hour>-<part>.parquet`, then deletes those rows from staging. The roll
 * is recorded in staging before the export, so a crash at any point is finished by the next
 * writer under the same file name: no half-written file is visible, no staged row is lost.
 */
const q = duckIdent;
const lit = duckLiteral;
const stage = (t: TableName) => `stage_${t}`;

export class ParquetSink {
  private db: DuckDBInstance | null = null;
  private conn: DuckDBConnection | null = null;
  private nextSid = 1n;
  private stagedBytes = 0;
  private oldestStagedAt: number | null = null;
  private readonly stagingDir: string;

  constructor(
    private readonly root: string,
    private readonly policy: RollPolicy,
  ) {
    this.stagingDir = join(root, '.staging');
  }

  private async connection(): Promise<DuckDBConnection> {
    if (this.conn) return this.conn;
    await mkdir(this.stagingDir, { recursive: true });
    // Staged rows live only until the next roll, which checkpoints: automatic checkpoints in
    // between would write every row a second time (measured: twice the commit cost).
    this.db = await DuckDBInstance.create(join(this.stagingDir, 'parquet.duckdb'), { threads: '2', checkpoint_threshold: '1GB' });
    const conn = await this.db.connect();
    for (const name of TABLE_NAMES) {
      const cols = TABLES[name].columns.map((c) => `${q(c.name)} ${DUCK_TYPES[c.type]}`);
      await conn.run(`CREATE TABLE IF NOT EXISTS ${stage(name)} (${cols.join(', ')}, _sid BIGINT NOT NULL)`);
    }
    await conn.run('CREATE TABLE IF NOT EXISTS _rolls (name VARCHAR NOT NULL, tbl VARCHAR NOT NULL, upto BIGINT NOT NULL)');
    const max = await conn.runAndReadAll(`SELECT max(m) AS m FROM (${TABLE_NAMES.map((n) => `SELECT max(_sid) AS m FROM ${stage(n)}`).join(' UNION ALL ')})`);
    const m = max.getRowObjects()[0]?.m;
    this.nextSid = (typeof m === 'bigint' ? m : 0n) + 1n;
    this.conn = conn;
    // Finish rolls a crashed writer began, then publish whatever it had staged.
    const pending = (await conn.runAndReadAll('SELECT name, tbl, upto FROM _rolls')).getRowObjects();
    for (const p of pending) await this.finishRoll(conn, String(p.name), p.tbl as TableName, p.upto as bigint);
    if (this.nextSid > 1n) await this.rollAll(conn, new Date());
    return conn;
  }

  /** Stages rows durably; rolls when the staged size or age passes the policy. */
  async write(tables: Map<TableName, Row[]>, now: Date): Promise<void> {
    const conn = await this.connection();
    await conn.run('BEGIN TRANSACTION');
    try {
      for (const [table, rows] of tables) {
        const cols = TABLES[table].columns;
        const appender = await conn.createAppender(stage(table));
        for (const row of rows) {
          for (const c of cols) appendCell(appender, c.type, row[c.name]);
          appender.appendBigInt(this.nextSid);
          appender.endRow();
          this.nextSid += 1n;
          for (const c of cols) {
            const v = row[c.name];
            this.stagedBytes += typeof v === 'string' ? v.length : 8;
          }
        }
        appender.closeSync();
      }
      await conn.run('COMMIT');
    } catch (err) {
      await conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    this.oldestStagedAt ??= now.getTime();
    if (this.stagedBytes >= this.policy.maxBytes) await this.rollAll(conn, now);
  }

  async rollDue(now: Date): Promise<void> {
    if (this.conn && this.oldestStagedAt !== null && now.getTime() - this.oldestStagedAt >= this.policy.maxAgeMs) await this.rollAll(this.conn, now);
  }

  private async rollAll(conn: DuckDBConnection, now: Date): Promise<void> {
    const { day, hour } = hourParts(now);
    const part = partName(now);
    for (const table of TABLE_NAMES) {
      const r = (await conn.runAndReadAll(`SELECT max(_sid) AS upto FROM ${stage(table)}`)).getRowObjects()[0];
      if (typeof r?.upto !== 'bigint') continue;
      const name = join(table, day, `${hour}-${part}.parquet`);
      await conn.run(`INSERT INTO _rolls VALUES (${lit(name)}, ${lit(table)}, ${r.upto})`);
      await this.finishRoll(conn, name, table, r.upto);
    }
    await conn.run('CHECKPOINT');
    this.stagedBytes = 0;
    this.oldestStagedAt = null;
  }

  /** Export → fsync → rename → forget the rows. Idempotent: re-running after a crash rewrites the same name. */
  private async finishRoll(conn: DuckDBConnection, name: string, table: TableName, upto: bigint): Promise<void> {
    const tmp = join(this.stagingDir, `roll-${name.replace(/[/\\]/g, '_')}`);
    const cols = TABLES[table].columns.map((c) => q(c.name)).join(', ');
    await rm(tmp, { force: true });
    await conn.run(`COPY (SELECT ${cols} FROM ${stage(table)} WHERE _sid <= ${upto} ORDER BY _sid) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    await publish(tmp, join(this.root, 'parquet', name));
    await conn.run('BEGIN TRANSACTION');
    await conn.run(`DELETE FROM ${stage(table)} WHERE _sid <= ${upto}`);
    await conn.run(`DELETE FROM _rolls WHERE name = ${lit(name)}`);
    await conn.run('COMMIT');
  }

  /** Writes one Parquet file with the test row ("test connection"). */
  async writeTest(row: Row, now: Date): Promise<void> {
    const conn = await this.connection();
    const { day, hour } = hourParts(now);
    const name = join('_tributary_test', day, `${hour}-${partName(now)}.parquet`);
    const tmp = join(this.stagingDir, 'test.parquet');
    const values = TABLES._tributary_test.columns.map((c) => {
      const v = row[c.name];
      return v instanceof Date ? `TIMESTAMPTZ ${lit(v.toISOString())}` : lit(String(v));
    });
    await conn.run(`COPY (SELECT ${values.map((v, i) => `${v} AS ${q(TABLES._tributary_test.columns[i]!.name)}`).join(', ')}) TO ${lit(tmp)} (FORMAT parquet)`);
    await publish(tmp, join(this.root, 'parquet', name));
  }

  async close(now: Date): Promise<void> {
    if (!this.conn) return;
    await this.rollAll(this.conn, now);
    this.conn.closeSync();
    this.db?.closeSync();
    this.conn = null;
    this.db = null;
  }
}
