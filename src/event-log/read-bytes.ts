import type { Kysely } from 'kysely';
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Database } from '../store/database.js';
import { readAfterQuery, readResult, type LogRow, type ReadQuery, type ReadResult } from './read.js';

/**
 * readAfter for destinations that hand the object's JSON text on as UTF-8 (ADR 0229): the same
 * statement, run as `COPY … TO STDOUT (FORMAT binary)`, so each event's `object` stays the bytes
 * the server sent, a view into the read's buffer, never a JS string.
 *
 * node-postgres decodes every field of a query's rows into a string (pg-protocol's DataRow
 * parser; its binary result mode is not implemented), and type parsers only see that string. A
 * 5 KB body decoded per event is garbage the JS thread collects, and a destination that passes
 * it to a native library converts it back to UTF-8: both cost more than the rest of the write.
 * COPY output is the one result the driver leaves as bytes. Binary COPY of text columns is their
 * UTF-8 text as is (the connection's client_encoding is UTF8).
 *
 * COPY takes no bind parameters, so the statement's values are written into it as literals
 * (`literal`, quoted by node-postgres' escapeLiteral).
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const COLUMNS = ['horizon', 'seq', 'id', 'application_id', 'grant_id', 'provider', 'type', 'source', 'time', 'txid', 'object_json'] as const;

/** A value of the statement as an SQL literal; the statement's own `::type` casts follow it. */
function literal(v: unknown): string {
  if (typeof v === 'string') {
    // A NUL cannot be in PostgreSQL text (a bound parameter is refused too) nor in a query string.
    if (v.includes('\u0000')) throw new Error('event log: a filter value holds a NUL character');
    return pg.escapeLiteral(v);
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (Array.isArray(v)) return `array[${v.map(literal).join(', ')}]`;
  throw new Error(`event log: cannot inline ${typeof v} into a COPY statement`);
}

/** The statement with its parameters written in (its text has no `$n` but its placeholders). */
export function inlined(compiled: { sql: string; parameters: readonly unknown[] }): string {
  return compiled.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const i = Number(n) - 1;
    if (i >= compiled.parameters.length) throw new Error(`event log: placeholder $${n} has no parameter`);
    return literal(compiled.parameters[i]);
  });
}

/** The rows of a binary COPY of COLUMNS (all text), `object_json` as a view into `data`. */
export function parseCopy(data: Buffer): ((LogRow & { horizon: string }) | { horizon: string; seq: null })[] {
  if (data.length < 19 || !data.subarray(0, 11).equals(SIGNATURE)) throw new Error('event log: not a binary COPY stream');
  let at = 15 + 4 + data.readUInt32BE(15); // signature, flags, header extension
  const rows: ((LogRow & { horizon: string }) | { horizon: string; seq: null })[] = [];
  for (;;) {
    const count = data.readInt16BE(at);
    at += 2;
    if (count === -1) break;
    if (count !== COLUMNS.length) throw new Error(`event log: a COPY row of ${count} fields, expected ${COLUMNS.length}`);
    const row: Record<string, string | Uint8Array | null> = {};
    for (const name of COLUMNS) {
      const length = data.readInt32BE(at);
      at += 4;
      if (length === -1) {
        row[name] = null;
        continue;
      }
      if (at + length > data.length) throw new Error('event log: a truncated COPY row');
      row[name] = name === 'object_json' ? data.subarray(at, at + length) : data.toString('utf8', at, at + length);
      at += length;
    }
    rows.push(row as unknown as LogRow & { horizon: string });
  }
  if (at !== data.length) throw new Error('event log: data after the end of a COPY stream');
  return rows;
}

/**
 * readAfter (read.ts) with `object` held as bytes. `db` compiles the statement; `pool` is the
 * same database's node-postgres pool (COPY needs the driver's client itself).
 */
export async function readAfterAsBytes(db: Kysely<Database>, pool: pg.Pool, q: ReadQuery): Promise<ReadResult> {
  const statement = inlined(readAfterQuery(q).compile(db));
  const text = `COPY (select ${COLUMNS.map((c) => (c === 'seq' || c === 'time' ? `${c}::text` : c)).join(', ')} from (${statement}) r) TO STDOUT (FORMAT binary)`;
  const client = await pool.connect();
  const chunks: Buffer[] = [];
  try {
    const stream = client.query(copyTo(text));
    for await (const chunk of stream) chunks.push(chunk as Buffer);
  } catch (err) {
    client.release(err as Error);
    throw err;
  }
  client.release();
  // One buffer for the read: every event's bytes a view into it, none split between chunks.
  return readResult(q, parseCopy(Buffer.concat(chunks)));
}
