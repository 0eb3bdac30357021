import { DuckDBInstance, DuckDBTableFunction, timestampTZValue, VARCHAR, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { planSource, type ReadColumn, type SourceColumn } from './parquet-source.js';
import { TABLES, type Cell, type ColumnType, type Row, type TableName } from './tables.js';

/**
 * The one Parquet encoding of the table layout (tables.ts), through DuckDB: column types, how a
 * cell is appended, and "these rows → this Parquet file". The file destination stages rows in
 * DuckDB with `appendCell`; object-store sinks (s3) encode a batch's rows with `writeParquetFile`.
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

/** The name under which each encoder's DuckDB knows the row source (one per database). */
const SOURCE_FUNCTION = 'tributary_rows';
/** Rows per call of the source: DuckDB's standard vector size (a chunk refuses more). */
const VECTOR_ROWS = 2048;

/**
 * Where a row may hold a text cell as its JSON string literal (quotes and escapes included)
 * instead of the string: `row[jsonLiteralKey(column)]`, with the cell itself null. DuckDB unescapes
 * it in the COPY, so a caller that has the JSON text of a large value (an event body as the log
 * stored it) hands it over without parsing it on the JS thread (ADR 0227). The literal is a
 * string or its UTF-8 bytes (setUtf8Cell).
 */
export const jsonLiteralKey = (column: string) => `\u0000json:${column}`;

/**
 * Sets a text cell of `row` (a layout column, a literal, or an extra text column) to the text's
 * UTF-8 bytes, which must be valid UTF-8 (DuckDB's decode() fails the file's COPY otherwise):
 * they reach DuckDB as they are, with no JS string and no conversion (parquet-source.ts). Bytes
 * are not a layout cell (Row's cells are what every destination writes), so they are stored
 * past Row's type here, the one place that does it; only this encoder reads them back.
 */
export function setUtf8Cell(row: Row, key: string, bytes: Uint8Array): void {
  (row as Record<string, Cell | Uint8Array>)[key] = bytes;
}

/** Sets `row`'s literal of `column` (see jsonLiteralKey). */
export function setJsonLiteral(row: Row, column: string, literal: string | Uint8Array): void {
  if (typeof literal === 'string') row[jsonLiteralKey(column)] = literal;
  else setUtf8Cell(row, jsonLiteralKey(column), literal);
}

export interface ParquetFileOptions {
  /** Text columns whose cells rows may give as JSON string literals (see jsonLiteralKey). */
  literalColumns?: readonly string[];
  /** Columns derived in SQL from extra cells of the rows (ADR 0228); without it the rows are the layout's cells. */
  projection?: Projection;
}

/**
 * Lets DuckDB derive some of a file's cells itself: the rows carry `extra` source columns, and
 * the COPY reads `from(source)` — a relation over the row source that yields the layout's
 * columns under their names (timestamps still as epoch microseconds, literal columns still
 * beside their cells) — in `orderBy`'s order when given, otherwise in the rows' order. An extra
 * text column's cells may be UTF-8 bytes too (setUtf8Cell).
 */
export interface Projection {
  extra: readonly ExtraColumn[];
  from(source: string): string;
  orderBy?: string;
}

/** A source column beyond the layout's: the row's cell under `key`, or (`ordinal`) the row's index in the file. */
export interface ExtraColumn {
  name: string;
  type: ColumnType;
  key: string;
  ordinal?: boolean;
}

/** Rows waiting to be read by a COPY, the columns it reads of them (parquet-source.ts), and how far it has read. */
interface Source {
  columns: readonly ReadColumn[];
  rows: readonly Row[];
  offset: number;
}

const literalName = (column: string) => `${column}__json_literal`;

function sourceColumns(table: TableName, literals: readonly string[], projection: Projection | undefined): SourceColumn[] {
  const cols: SourceColumn[] = TABLES[table].columns.map((c) => ({ name: c.name, type: c.type, key: c.name }));
  for (const name of literals) {
    if (TABLES[table].columns.find((c) => c.name === name)?.type !== 'text') throw new Error(`parquet encoder: ${table}.${name} is not a text column`);
    cols.push({ name: literalName(name), type: 'literal', key: jsonLiteralKey(name) });
  }
  for (const c of projection?.extra ?? []) {
    if (cols.some((s) => s.name === c.name)) throw new Error(`parquet encoder: ${table} already has a source column ${c.name}`);
    cols.push(c);
  }
  return cols;
}

/** The COPY's query over the row source `source` (the relation of the file's plan). */
function copySelect(table: TableName, source: string, literals: readonly string[], projection: Projection | undefined): string {
  const cols = TABLES[table].columns.map((c) => {
    const id = duckIdent(c.name);
    if (c.type === 'timestamptz') return `make_timestamptz(${id}) AS ${id}`;
    if (!literals.includes(c.name)) return id;
    // A string literal never extracts to NULL, so without one the cell is taken.
    return `coalesce(json_extract_string(${duckIdent(literalName(c.name))}, '$'), ${id}) AS ${id}`;
  });
  if (!projection) return `SELECT ${cols.join(', ')} FROM ${source}`;
  return `SELECT ${cols.join(', ')} FROM ${projection.from(source)}${projection.orderBy ? ` ORDER BY ${projection.orderBy}` : ''}`;
}

/** Encodes at most this many files at once: DuckDB's COPY works off the JS thread, so two files' COPYs overlap. */
export const ENCODER_CONNECTIONS = 2;

/**
 * One in-memory DuckDB per writer that turns rows of one layout table into a zstd Parquet file
 * at `path`. The rows reach DuckDB through a table function: the COPY pulls them straight from
 * the JS arrays one vector (2,048 rows) at a time, column by column. That replaced appending row
 * by row into a staging table and copying it out, whose flush into the table alone was the
 * largest single cost on the JS thread (ADR 0225). It keeps a few connections, so up to
 * ENCODER_CONNECTIONS files encode concurrently; callers may call `writeParquetFile`
 * concurrently. `close()` frees the database. It also reads a column back, for sinks that must
 * check what an existing file holds.
 */
export class ParquetEncoder {
  private db: Promise<DuckDBInstance> | null = null;
  private readonly idle: DuckDBConnection[] = [];
  private readonly waiting: ((c: DuckDBConnection) => void)[] = [];
  private opened = 0;
  private readonly all: DuckDBConnection[] = [];
  private readonly sources = new Map<string, Source>();
  private source: DuckDBTableFunction | null = null;
  private nextKey = 0;

  constructor(private readonly connections = ENCODER_CONNECTIONS) {}

  private async acquire(): Promise<DuckDBConnection> {
    const free = this.idle.pop();
    if (free) return free;
    if (this.opened < this.connections) {
      this.opened += 1;
      const conn = await (await this.database()).connect();
      this.all.push(conn);
      return conn;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * The database, with the row source registered before any connection is handed out (a
   * function lives in the catalog; registered from the first pooled connection instead, a second
   * one's first COPY could run before it: "Table Function … does not exist", seen under load).
   *
   * One DuckDB thread: each COPY then runs on the thread that issued it (a libuv worker), which
   * blocks while the row source fills a vector on the JS thread. With a background worker as
   * well, whichever thread did not get the COPY's only task (its source is single-threaded) spun
   * polling for work for the whole COPY: half of the encoder's CPU off the JS thread (ADR 0226).
   */
  private database(): Promise<DuckDBInstance> {
    this.db ??= DuckDBInstance.create(':memory:', { threads: '1' }).then(async (db) => {
      const registrar = await db.connect();
      registrar.registerTableFunction((this.source = this.sourceFunction()));
      this.all.push(registrar);
      return db;
    });
    return this.db;
  }

  private release(c: DuckDBConnection): void {
    const next = this.waiting.shift();
    if (next) next(c);
    else this.idle.push(c);
  }

  /** `tributary_rows(key)`: the rows staged under `key`, in the staging types, one vector per call. */
  private sourceFunction(): DuckDBTableFunction {
    return DuckDBTableFunction.create({
      name: SOURCE_FUNCTION,
      parameterTypes: [VARCHAR],
      bindFunction: (info) => {
        const key = String(info.getParameter(0));
        const source = this.sources.get(key);
        if (!source) return info.setError(`parquet encoder: no rows staged under ${key}`);
        for (const c of source.columns) info.addResultColumn(c.name, c.type);
        info.setCardinality(source.rows.length, true);
        info.setBindData(source);
      },
      // One scanning thread: the rows are read in order, once.
      initFunction: (info) => info.setMaxThreads(1),
      mainFunction: (info, out) => {
        const source = info.bindData as Source;
        const n = Math.min(VECTOR_ROWS, source.rows.length - source.offset);
        out.rowCount = n;
        if (n === 0) return;
        const cols = source.columns;
        for (let ci = 0; ci < cols.length; ci += 1) {
          const { key, cell, ordinal } = cols[ci]!;
          const vector = out.getColumnVector(ci);
          if (ordinal) for (let i = 0; i < n; i += 1) vector.setItem(i, source.offset + i);
          else for (let i = 0; i < n; i += 1) vector.setItem(i, cell((source.rows[source.offset + i] as Record<string, Cell | Uint8Array>)[key]));
          vector.flush();
        }
        source.offset += n;
      },
    });
  }

  async writeParquetFile(table: TableName, rows: readonly Row[], path: string, options: ParquetFileOptions = {}): Promise<void> {
    const literals = options.literalColumns ?? [];
    const key = String((this.nextKey += 1));
    const plan = planSource(sourceColumns(table, literals, options.projection), rows);
    this.sources.set(key, { columns: plan.read, rows, offset: 0 });
    const c = await this.acquire();
    try {
      const source = plan.relation(`${SOURCE_FUNCTION}(${duckLiteral(key)})`);
      await c.run(`COPY (${copySelect(table, source, literals, options.projection)}) TO ${duckLiteral(path)} (FORMAT parquet, COMPRESSION zstd)`);
    } finally {
      this.sources.delete(key);
      this.release(c);
    }
  }

  /** The text values of one column of a Parquet file (read back from a local copy). */
  async readColumn(path: string, column: string): Promise<string[]> {
    const c = await this.acquire();
    try {
      const reader = await c.runAndReadAll(`SELECT ${duckIdent(column)} AS v FROM read_parquet(${duckLiteral(path)})`);
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
    this.source?.destroySync();
    this.source = null;
    this.all.length = 0;
    this.idle.length = 0;
    this.opened = 0;
    this.db = null;
  }
}
