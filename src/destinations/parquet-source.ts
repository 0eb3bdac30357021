import { BIGINT, BLOB, BOOLEAN, DuckDBBlobValue, INTEGER, VARCHAR, type DuckDBType } from '@duckdb/node-api';
import type { Cell, ColumnType, Row } from './tables.js';

/**
 * Which cells the Parquet encoder's row source (parquet.ts' table function) hands DuckDB for one
 * file, and in which type, so the JS thread sets only cells that carry something:
 *   - a column no row of the file has a value in is not read at all: the COPY's source relation
 *     gives it as a typed NULL. Most of a message row mapped by DuckDB (ADR 0228) is such cells,
 *     and each one set from JS cost a native-bindings validity update per row;
 *   - a text cell may be the text's UTF-8 bytes (a Uint8Array, valid UTF-8) instead of a string.
 *     Those reach DuckDB through a BLOB column (copied as they are, no UTF-16 → UTF-8 conversion
 *     on the JS thread) and become text in the relation with decode(), which checks they are
 *     UTF-8; a file may mix both forms in one column.
 * The relation yields every column under its name and in its source type, whichever cells were
 * read, so the COPY's SQL over it does not depend on the plan.
 */

/** A source column's type: a layout type, or `literal` (a JSON string literal of a text column, see parquet.ts). */
export type SourceType = ColumnType | 'literal';

/** One column of the row source: the row's cell under `key`, or (`ordinal`) the row's index in the file. */
export interface SourceColumn {
  name: string;
  type: SourceType;
  key: string;
  ordinal?: boolean;
}

type Value = string | number | bigint | boolean | DuckDBBlobValue | null;

/** A column the table function reads: its name and type in DuckDB, and each row's cell in that type. */
export interface ReadColumn {
  name: string;
  type: DuckDBType;
  key: string;
  ordinal: boolean;
  cell(v: Cell | Uint8Array | undefined): Value;
}

export interface SourcePlan {
  read: ReadColumn[];
  /** The relation over the table function's call `rows` that yields every source column under its name. */
  relation(rows: string): string;
}

/**
 * Timestamps are handed over as BIGINT epoch microseconds (a plain integer, where a TIMESTAMPTZ
 * value object per cell cost ~30 % of a message row) and turned back into TIMESTAMPTZ by the
 * COPY's SELECT, so the Parquet schema is the layout's own.
 */
const SOURCE_TYPES: Record<SourceType, { type: DuckDBType; sql: string }> = {
  text: { type: VARCHAR, sql: 'VARCHAR' },
  json: { type: VARCHAR, sql: 'VARCHAR' },
  literal: { type: VARCHAR, sql: 'VARCHAR' },
  integer: { type: INTEGER, sql: 'INTEGER' },
  bigint: { type: BIGINT, sql: 'BIGINT' },
  boolean: { type: BOOLEAN, sql: 'BOOLEAN' },
  timestamptz: { type: BIGINT, sql: 'BIGINT' },
};

const isText = (type: SourceType) => type === 'text' || type === 'json' || type === 'literal';

/** A text column's cell as a string (null for bytes and, for a literal, anything but a string). */
function textCell(type: SourceType): ReadColumn['cell'] {
  if (type === 'literal') return (v) => (typeof v === 'string' ? v : null);
  return (v) => (v === null || v === undefined || v instanceof Uint8Array ? null : String(v));
}

const bytesCell: ReadColumn['cell'] = (v) => (v instanceof Uint8Array ? new DuckDBBlobValue(v) : null);

/** A non-text column's cell in its source type. */
function valueCell(type: SourceType): ReadColumn['cell'] {
  switch (type) {
    case 'integer':
      return (v) => (v === null || v === undefined ? null : Number(v));
    case 'bigint':
      return (v) => (v === null || v === undefined ? null : BigInt(v as number));
    case 'boolean':
      return (v) => (v === null || v === undefined ? null : Boolean(v));
    case 'timestamptz': {
      // A file's rows mostly share their timestamps (the batch's sync time): one BigInt per distinct value.
      let lastMs = NaN;
      let lastMicros = 0n;
      return (v) => {
        if (v === null || v === undefined) return null;
        const ms = (v as Date).getTime();
        if (ms !== lastMs) lastMicros = BigInt((lastMs = ms)) * 1000n;
        return lastMicros;
      };
    }
    default:
      throw new Error(`parquet encoder: ${type} is a text type`);
  }
}

/** What the rows hold in a column: text cells (strings, or any value for a text column), UTF-8 bytes, other values. */
function kinds(c: SourceColumn, rows: readonly Row[]): { text: boolean; bytes: boolean } {
  let text = false;
  let bytes = false;
  for (const row of rows) {
    const v = (row as Record<string, Cell | Uint8Array | undefined>)[c.key];
    if (v === null || v === undefined) continue;
    if (v instanceof Uint8Array) bytes = true;
    else if (c.type !== 'literal' || typeof v === 'string') text = true;
    if (bytes && (text || !isText(c.type))) break;
  }
  return { text, bytes };
}

const bytesName = (column: string) => `${column}__utf8`;
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The plan of one file's row source over `columns` (see above). */
export function planSource(columns: readonly SourceColumn[], rows: readonly Row[]): SourcePlan {
  const read: ReadColumn[] = [];
  const exprs: string[] = [];
  let plain = true;
  for (const c of columns) {
    const id = ident(c.name);
    if (c.ordinal) {
      read.push({ name: c.name, type: INTEGER, key: c.key, ordinal: true, cell: () => null });
      exprs.push(id);
      continue;
    }
    const has = kinds(c, rows);
    if (!isText(c.type)) {
      // Bytes in a non-text column are not a value of it (as before: converted, they would fail the COPY).
      if (has.text || has.bytes) read.push({ name: c.name, type: SOURCE_TYPES[c.type].type, key: c.key, ordinal: false, cell: valueCell(c.type) });
      else plain = false;
      exprs.push(has.text || has.bytes ? id : `NULL::${SOURCE_TYPES[c.type].sql} AS ${id}`);
      continue;
    }
    if (has.text) read.push({ name: c.name, type: VARCHAR, key: c.key, ordinal: false, cell: textCell(c.type) });
    if (has.bytes) read.push({ name: bytesName(c.name), type: BLOB, key: c.key, ordinal: false, cell: bytesCell });
    const decoded = `decode(${ident(bytesName(c.name))})`;
    if (has.text && !has.bytes) exprs.push(id);
    else {
      plain = false;
      exprs.push(`${has.text ? `coalesce(${id}, ${decoded})` : has.bytes ? decoded : 'NULL::VARCHAR'} AS ${id}`);
    }
  }
  // The table function must yield a column; with no value anywhere (no rows) the first one will do.
  if (read.length === 0 && columns.length > 0) {
    const first = columns[0]!;
    read.push({ name: `${first.name}__none`, type: INTEGER, key: first.key, ordinal: false, cell: () => null });
  }
  return { read, relation: (fn) => (plain ? fn : `(SELECT ${exprs.join(', ')} FROM ${fn})`) };
}
