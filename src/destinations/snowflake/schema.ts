import { SCHEMA_VERSION, TABLES, TABLE_NAMES, type Cell, type ColumnType, type TableName } from '../tables.js';
import type { Binding } from './client.js';

/**
 * Snowflake DDL and DML of the table layout (tables.ts). Identifiers are quoted upper case
 * (`"FROM"` is reserved), so they read unquoted in worksheets: `SELECT from_ …` → `"FROM"`.
 */
const SF_TYPES: Record<ColumnType, string> = {
  text: 'VARCHAR',
  integer: 'NUMBER(10,0)',
  bigint: 'NUMBER(19,0)',
  boolean: 'BOOLEAN',
  timestamptz: 'TIMESTAMP_TZ',
  json: 'VARIANT',
};
/** Staged values travel as bind variables: JSON and timestamps as text, converted in the MERGE. */
const STAGE_TYPES: Record<ColumnType, string> = { ...SF_TYPES, timestamptz: 'VARCHAR', json: 'VARCHAR' };
const BIND_TYPES: Record<ColumnType, Binding['type']> = { text: 'TEXT', integer: 'FIXED', bigint: 'FIXED', boolean: 'BOOLEAN', timestamptz: 'TEXT', json: 'TEXT' };

export const STAGE_BATCH = '_TRIBUTARY_BATCH';
export const STAGE_EVENT = '_TRIBUTARY_EVENT_ID';
/** VARCHAR and VARIANT values are at most 16 MB. */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

/**
 * A row's bound values in bytes (text as UTF-8, other values a few bytes), for request sizing,
 * and its largest text value's bytes, for MAX_VALUE_BYTES.
 */
export function valueBytes(row: Record<string, Cell>): { bytes: number; largest: number } {
  let bytes = 0;
  let largest = 0;
  for (const v of Object.values(row)) {
    if (typeof v !== 'string') {
      bytes += 8;
      continue;
    }
    const n = Buffer.byteLength(v);
    bytes += n;
    if (n > largest) largest = n;
  }
  return { bytes, largest };
}

export const ident = (name: string) => `"${name.toUpperCase().replace(/"/g, '""')}"`;
const lit = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
export const stageTable = (t: TableName) => ident(`_tributary_stage_${t}`);
const comment = (t: TableName) => `Tributary ${t} rows; schema_version=${SCHEMA_VERSION}; primary key (${TABLES[t].primaryKey.join(', ')}) enforced by MERGE`;

/**
 * Creates what is missing and migrates what exists: tables, then every column with
 * `ADD COLUMN IF NOT EXISTS` (columns are only ever added), then the comment carrying the
 * layout's schema_version. Idempotent; one multi-statement request.
 */
export function ensureStatements(): string[] {
  const out: string[] = [];
  for (const t of TABLE_NAMES) {
    const def = TABLES[t];
    const cols = def.columns.map((c) => `${ident(c.name)} ${SF_TYPES[c.type]}${c.nullable ? '' : ' NOT NULL'}`);
    out.push(`CREATE TABLE IF NOT EXISTS ${ident(t)} (${cols.join(', ')}, PRIMARY KEY (${def.primaryKey.map(ident).join(', ')})) CLUSTER BY (TO_DATE(${ident(def.eventTime)}))`);
    for (const c of def.columns) out.push(`ALTER TABLE ${ident(t)} ADD COLUMN IF NOT EXISTS ${ident(c.name)} ${SF_TYPES[c.type]}`);
    out.push(`ALTER TABLE ${ident(t)} SET COMMENT = ${lit(comment(t))}`);
    if (t === '_tributary_test') continue;
    const staged = def.columns.map((c) => `${ident(c.name)} ${STAGE_TYPES[c.type]}`);
    out.push(`CREATE TRANSIENT TABLE IF NOT EXISTS ${stageTable(t)} (${staged.join(', ')}, ${STAGE_BATCH} VARCHAR, ${STAGE_EVENT} VARCHAR) DATA_RETENTION_TIME_IN_DAYS = 0`);
    for (const c of def.columns) out.push(`ALTER TABLE ${stageTable(t)} ADD COLUMN IF NOT EXISTS ${ident(c.name)} ${STAGE_TYPES[c.type]}`);
  }
  return out;
}

function bindValue(type: ColumnType, v: Cell | undefined): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (type === 'boolean') return v ? 'true' : 'false';
  return String(v);
}

/** One multi-row INSERT into the staging table with array bindings (one array per column). */
export function stageInsert(table: TableName, rows: { row: Record<string, Cell>; eventId: string }[], batchId: string): { sql: string; bindings: Record<string, Binding> } {
  const cols = TABLES[table].columns;
  const bindings: Record<string, Binding> = {};
  cols.forEach((c, i) => (bindings[String(i + 1)] = { type: BIND_TYPES[c.type], value: rows.map((r) => bindValue(c.type, r.row[c.name])) }));
  bindings[String(cols.length + 1)] = { type: 'TEXT', value: rows.map(() => batchId) };
  bindings[String(cols.length + 2)] = { type: 'TEXT', value: rows.map((r) => r.eventId) };
  const names = [...cols.map((c) => ident(c.name)), STAGE_BATCH, STAGE_EVENT];
  return { sql: `INSERT INTO ${stageTable(table)} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`, bindings };
}

/** MERGE of one batch's staged rows on the primary key (first copy wins), then their removal. */
export function mergeStatements(table: TableName, batchId: string): string[] {
  const def = TABLES[table];
  const cols = def.columns.map((c) => ident(c.name));
  const convert = (c: (typeof def.columns)[number]) => (c.type === 'json' ? `PARSE_JSON(S.${ident(c.name)})` : c.type === 'timestamptz' ? `TO_TIMESTAMP_TZ(S.${ident(c.name)})` : `S.${ident(c.name)}`);
  return [
    `MERGE INTO ${ident(table)} AS T USING (SELECT ${cols.join(', ')} FROM ${stageTable(table)} WHERE ${STAGE_BATCH} = ${lit(batchId)} QUALIFY ROW_NUMBER() OVER (PARTITION BY ${def.primaryKey.map(ident).join(', ')} ORDER BY ${ident(def.primaryKey[0]!)}) = 1) AS S ON ${def.primaryKey.map((k) => `T.${ident(k)} = S.${ident(k)}`).join(' AND ')} WHEN NOT MATCHED THEN INSERT (${cols.join(', ')}) VALUES (${def.columns.map(convert).join(', ')})`,
    `DELETE FROM ${stageTable(table)} WHERE ${STAGE_BATCH} = ${lit(batchId)}`,
  ];
}
