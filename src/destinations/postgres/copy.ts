import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Cell, Row, TableDef } from '../tables.js';
import { ident, qualified } from './ddl.js';

/**
 * `COPY … FROM STDIN` in PostgreSQL's text format: the fastest way to load rows. Used for the
 * first delivery of a batch; a duplicate key (a redelivery) makes the whole COPY fail, and the
 * writer falls back to the upserting insert.
 */
export function copyCell(v: Cell | undefined): string {
  if (v === null || v === undefined) return '\\N';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'boolean') return v ? 't' : 'f';
  return String(v).replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

export function copyText(t: TableDef, rows: readonly Row[]): string {
  let out = '';
  for (const r of rows) out += `${t.columns.map((c) => copyCell(r[c.name])).join('\t')}\n`;
  return out;
}

export async function copyRows(client: pg.PoolClient | pg.Client, schema: string, t: TableDef, rows: readonly Row[]): Promise<void> {
  const sql = `COPY ${qualified(schema, t.name)} (${t.columns.map((c) => ident(c.name)).join(', ')}) FROM STDIN`;
  await pipeline(Readable.from([copyText(t, rows)]), client.query(copyFrom(sql)));
}
