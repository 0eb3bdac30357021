import { TABLES, TABLE_NAMES, type ColumnType, type TableDef } from '../tables.js';

/** PostgreSQL DDL and identifiers derived from the shared table layout (tables.ts). */

const PG_TYPES: Record<ColumnType, string> = {
  text: 'text',
  integer: 'integer',
  bigint: 'bigint',
  boolean: 'boolean',
  timestamptz: 'timestamptz',
  json: 'jsonb',
};

/** Quotes an identifier (`from` and `type` are reserved words; schema names come from users). */
export const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;

export function qualified(schema: string, table: string): string {
  return `${ident(schema)}.${ident(table)}`;
}

export function createTableSql(schema: string, t: TableDef): string {
  const cols = t.columns.map((c) => `${ident(c.name)} ${PG_TYPES[c.type]}${c.nullable ? '' : ' NOT NULL'}`);
  cols.push(`PRIMARY KEY (${t.primaryKey.map(ident).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${qualified(schema, t.name)} (\n  ${cols.join(',\n  ')}\n)`;
}

/** Every statement that makes a schema ready, in order. Idempotent. */
export function schemaSql(schema: string): string[] {
  return [`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`, ...TABLE_NAMES.map((name) => createTableSql(schema, TABLES[name]))];
}
