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
 * An in-memory DuckDB that turns rows of one layout table into a zstd Parquet file at `path`.
 * One encoder per writer (calls are serialized by the caller); `close()` frees the database.
 * It also reads a column back, for sinks that must check what an existing file holds.
 */
export class ParquetEncoder {
  private conn: Promise<{ db: DuckDBInstance; conn: DuckDBConnection }> | null = null;

  private connection() {
    this.conn ??= (async () => {
      const db = await DuckDBInstance.create(':memory:', { threads: '2' });
      return { db, conn: await db.connect() };
    })();
    return this.conn.then((c) => c.conn);
  }

  async writeParquetFile(table: TableName, rows: Row[], path: string): Promise<void> {
    const conn = await this.connection();
    const name = `enc_${table}`;
    await conn.run(duckTableDdl(table, name));
    await conn.run(`DELETE FROM ${duckIdent(name)}`);
    const cols = TABLES[table].columns;
    const appender = await conn.createAppender(name);
    for (const row of rows) {
      for (const c of cols) appendCell(appender, c.type, row[c.name]);
      appender.endRow();
    }
    appender.closeSync();
    await conn.run(`COPY ${duckIdent(name)} TO ${duckLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
    await conn.run(`DELETE FROM ${duckIdent(name)}`);
  }

  /** The text values of one column of a Parquet file (read back from a local copy). */
  async readColumn(path: string, column: string): Promise<string[]> {
    const conn = await this.connection();
    const reader = await conn.runAndReadAll(`SELECT ${duckIdent(column)} AS v FROM read_parquet(${duckLiteral(path)})`);
    return reader.getRowObjects().map((r) => String(r.v));
  }

  async close(): Promise<void> {
    if (!this.conn) return;
    const { db, conn } = await this.conn;
    conn.closeSync();
    db.closeSync();
    this.conn = null;
  }
}
