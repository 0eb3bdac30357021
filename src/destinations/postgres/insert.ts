import type { Row, TableDef } from '../tables.js';
import { ident, qualified } from './ddl.js';

/**
 * One statement per table and batch: the rows travel as a single JSON array parameter and
 * `json_populate_recordset` turns them into the table's row type, so a batch of any size is one
 * round trip with one parameter (no 65,535-parameter ceiling, no per-row statements).
 * `ON CONFLICT DO NOTHING` on the primary key makes redelivery a no-op.
 */
export function insertSql(schema: string, t: TableDef): string {
  const cols = t.columns.map((c) => ident(c.name)).join(', ');
  const table = qualified(schema, t.name);
  return `INSERT INTO ${table} (${cols}) SELECT ${cols} FROM json_populate_recordset(NULL::${table}, $1::json) ON CONFLICT DO NOTHING`;
}

/** Serializes rows as the JSON array `insertSql` expects; json cells are embedded as JSON, not as strings. */
export function rowsJson(t: TableDef, rows: readonly Row[]): string {
  const parts: string[] = [];
  for (const row of rows) {
    const fields = t.columns.map((c) => {
      const v = row[c.name] ?? null;
      const text = c.type === 'json' && typeof v === 'string' ? v : JSON.stringify(v);
      return `${JSON.stringify(c.name)}:${text}`;
    });
    parts.push(`{${fields.join(',')}}`);
  }
  return `[${parts.join(',')}]`;
}
