import { DuckDBInstance, timestampTZValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { TABLES, type Cell, type ColumnType, type Row, type TableName } from './tables.js';

/**
 * The one Parquet encoding of the table layout (tables.ts), through DuckDB: column types, how a
 * cell is appended, and "these rows → this Parquet file". The file destination stages rows in
 * DuckDB with it; object-store sinks (s3) encode a batch's rows with `writeParquetFile`.
 */
export const DUCK_TYPES: Record<ColumnType, string> = {
  text: 'VARCHAR',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  boolean: 'BOOLEAN',
  timestamptz: 'TIMESTAMPTZ',
  json: 'VARCHAR', // serialized JSON; readers parse with json(), no extension needed to write
};

export const duckIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const duckLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

export function appendCell(a: DuckDBAppender, type: ColumnType, v: Cell | undefined): void {
  if (v === null || v === undefined) return a.appendNull();
  switch (type) {
    case 'text':
    case 'json':
      return a.appendVarchar(String(v));
    case 'integer':
      return a.appendInteger(Number(v));
    case 'bigint':
      return a.appendBigInt(BigInt(v as number));
    case 'boolean':
      return a.appendBoolean(Boolean(v));
    case 'timestamptz':
      return a.appendTimestampTZ(timestampTZValue(BigInt((v as Date).getTime()) * 1000n));
  }
}

/** `CREATE TABLE` of a layout table in DuckDB, under `name`, with optional extra column definitions. */
export function duckTableDdl(table: TableName, name: string, extra: string[] = []): string {
  const cols = TABLES[table].columns.map((c) => `${duckIdent(c.name)} ${DUCK_TYPES[c.type]}`);
  return `CREATE TABLE IF NOT EXISTS ${duckIdent(name)} (${[...cols, ...extra].join(', ')})`;
}

/**
 * How the encoder stages a column: timestamps as BIGINT epoch microseconds (a plain integer
 * append, where a TIMESTAMPTZ append builds a DuckDB value object per cell: measured ~30 % of the
 * append cost of a message row) and turned back into TIMESTAMPTZ by the COPY's SELECT, so the
 * Parquet schema is the layout's own.
 */
const STAGE_TYPES: Record<ColumnType, string> = { ...DUCK_TYPES, timestamptz: 'BIGINT' };

function stageCell(a: DuckDBAppender, type: ColumnType, v: Cell | undefined): void {
  if (type !== 'timestamptz' || v === null || v === undefined) return appendCell(a, type, v);
  a.appendBigInt(BigInt((v as Date).getTime()) * 1000n);
}

const stageName = (table: TableName) => `enc_${table}`;

function copySelect(table: TableName): string {
  const cols = TABLES[table].columns.map((c) => (c.type === 'timestamptz' ? `make_timestamptz(${duckIdent(c.name)}) AS ${duckIdent(c.name)}` : duckIdent(c.name)));
  return `SELECT ${cols.join(', ')} FROM ${duckIdent(stageName(table))}`;
}

/** Encodes at most this many files at once: DuckDB's COPY runs off the JS thread, so one file's COPY overlaps the next one's appends. */
export const ENCODER_CONNECTIONS = 2;

/**
 * One in-memory DuckDB per writer that turns rows of one layout table into a zstd Parquet file
 * at `path`. It keeps a few connections, each with its own temporary staging tables (created
 * once), so up to ENCODER_CONNECTIONS files encode concurrently; callers may call
 * `writeParquetFile` concurrently. `close()` frees the database. It also reads a column back,
 * for sinks that must check what an existing file holds.
 */
export class ParquetEncoder {
  private db: Promise<DuckDBInstance> | null = null;
  private readonly idle: { conn: DuckDBConnection; tables: Set<TableName> }[] = [];
  private readonly waiting: ((c: { conn: DuckDBConnection; tables: Set<TableName> }) => void)[] = [];
  private opened = 0;
  private readonly all: DuckDBConnection[] = [];

  constructor(private readonly connections = ENCODER_CONNECTIONS) {}

  private async acquire(): Promise<{ conn: DuckDBConnection; tables: Set<TableName> }> {
    const free = this.idle.pop();
    if (free) return free;
    if (this.opened < this.connections) {
      this.opened += 1;
      this.db ??= DuckDBInstance.create(':memory:', { threads: '2' });
      const conn = await (await this.db).connect();
      this.all.push(conn);
      return { conn, tables: new Set() };
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(c: { conn: DuckDBConnection; tables: Set<TableName> }): void {
    const next = this.waiting.shift();
    if (next) next(c);
    else this.idle.push(c);
  }

  async writeParquetFile(table: TableName, rows: Row[], path: string): Promise<void> {
    const c = await this.acquire();
    try {
      const name = duckIdent(stageName(table));
      if (!c.tables.has(table)) {
        // TEMP tables belong to their connection: concurrent encodes never share one.
        await c.conn.run(`CREATE TEMP TABLE ${name} (${TABLES[table].columns.map((col) => `${duckIdent(col.name)} ${STAGE_TYPES[col.type]}`).join(', ')})`);
        c.tables.add(table);
      }
      const cols = TABLES[table].columns;
      const appender = await c.conn.createAppender(stageName(table), 'main', 'temp');
      try {
        for (const row of rows) {
          for (const col of cols) stageCell(appender, col.type, row[col.name]);
          appender.endRow();
        }
      } finally {
        appender.closeSync();
      }
      try {
        await c.conn.run(`COPY (${copySelect(table)}) TO ${duckLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
      } finally {
        await c.conn.run(`TRUNCATE ${name}`);
      }
    } finally {
      this.release(c);
    }
  }

  /** The text values of one column of a Parquet file (read back from a local copy). */
  async readColumn(path: string, column: string): Promise<string[]> {
    const c = await this.acquire();
    try {
      const reader = await c.conn.runAndReadAll(`SELECT ${duckIdent(column)} AS v FROM read_parquet(${duckLiteral(path)})`);
      return reader.getRowObjects().map((r) => String(r.v));
    } finally {
      this.release(c);
    }
  }

  async close(): Promise<void> {
    if (!this.db) return;
    const db = await this.db;
    for (const conn of this.all) conn.closeSync();
    db.closeSync();
    this.all.length = 0;
    this.idle.length = 0;
    this.opened = 0;
    this.db = null;
  }
}
