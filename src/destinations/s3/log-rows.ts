import type { StoredEvent } from '../../domain/event.js';
import { objectBytes, objectJson } from '../../domain/event-json.js';
import { setJsonLiteral, setUtf8Cell, type ParquetFileOptions } from '../parquet.js';
import { messageEventCells, toRows, type Row, type TableName, type TableRows } from '../tables.js';
import { bodyBytes } from './body-bytes.js';
import { scanMessage, type ScannedMessage } from './message-scan.js';
import { OBJECT_KEY, PROJECTIONS } from './message-sql.js';

/**
 * Rows of an event for the Parquet encoder, without parsing the body of a `message.created` on
 * the JS thread when the event still holds the log's JSON text (ADR 0227).
 *
 * Events read from the log parse their `object` on first read (domain/event-json.ts). For a
 * message of a few KB, JSON.parse is then the largest single cost of mapping it to rows, and
 * almost all of it is the body: one long string that the message row only copies into its
 * `body` column. So the body's JSON string literal is cut out of the text (found by a scan that
 * skips the members before it, then `indexOf` jumps over the body itself), the rest is parsed
 * and mapped by the shared `toRows` as usual (its body null), and the literal rides along in the
 * row for DuckDB to unescape in the COPY. Any other event, or any text this does not recognise,
 * takes the ordinary path: the rows are the same either way.
 */

/** Columns that rows from here may give as JSON literals (the encoder's `literalColumns`). */
const LITERAL_COLUMNS: Partial<Record<TableName, readonly string[]>> = { message: ['body'] };

/** The encoder's options for a table of rows from here: body literals, and DuckDB's half of the SQL mapping. */
export function parquetOptions(table: TableName): ParquetFileOptions {
  const projection = PROJECTIONS[table];
  return { literalColumns: LITERAL_COLUMNS[table] ?? [], ...(projection ? { projection } : {}) };
}

const QUOTE = 34;
const BACKSLASH = 92;

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i += 1;
  }
}

/** The index just past the string starting at `i` (a quote), or -1 if it does not end. */
function endOfString(text: string, i: number): number {
  let from = i + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes += 1;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

/** The index just past the JSON value starting at `i`, or -1 if it does not end. */
function endOfValue(text: string, i: number): number {
  let depth = 0;
  for (;;) {
    const c = text.charCodeAt(i);
    if (Number.isNaN(c)) return -1;
    if (c === QUOTE) {
      i = endOfString(text, i);
      if (i < 0) return -1;
      if (depth === 0) return i;
      continue;
    }
    if (c === 123 || c === 91) depth += 1; // { [
    else if (c === 125 || c === 93) {
      // } ]
      if (depth === 0) return i; // the end of a bare literal at the close of its container
      depth -= 1;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && (c === 44 || c === 32 || c === 10 || c === 13 || c === 9)) return i; // , or space after a literal
    i += 1;
  }
}

/**
 * The top-level `"body"` member's string literal (quotes included) and the text with `null` in
 * its place; null when there is no such member, its value is not a string, or the literal holds
 * a `\u` escape (DuckDB refuses lone surrogates, JSON.parse turns them into U+FFFD: the rare
 * body with escapes goes the ordinary way so both paths always agree).
 */
export function cutBody(text: string): { rest: string; literal: string } | null {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 123) return null;
  i = skipSpace(text, i + 1);
  while (text.charCodeAt(i) === QUOTE) {
    const keyEnd = endOfString(text, i);
    if (keyEnd < 0) return null;
    const isBody = keyEnd - i === 6 && text.startsWith('"body"', i);
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== 58) return null; // :
    const start = skipSpace(text, i + 1);
    const end = endOfValue(text, start);
    if (end < 0) return null;
    if (isBody) {
      if (text.charCodeAt(start) !== QUOTE) return null;
      const literal = text.slice(start, end);
      if (literal.includes('\\u')) return null;
      return { rest: `${text.slice(0, start)}null${text.slice(end)}`, literal };
    }
    i = skipSpace(text, end);
    if (text.charCodeAt(i) !== 44) return null; // , (or the end of the object: no body)
    i = skipSpace(text, i + 1);
  }
  return null;
}

/** Whether `e.object` is still the log's unparsed text (a getter that has not been read). */
function holdsLogText(e: StoredEvent): boolean {
  return typeof Object.getOwnPropertyDescriptor(e, 'object')?.get === 'function';
}

/**
 * A log-read message whose text passes `scanMessage` (message-scan.ts), as rows DuckDB completes
 * (message-sql.ts): the event's own cells, and the object's text with an empty string in its
 * body's place under OBJECT_KEY (the body as its literal, as below). Null when it must be mapped
 * in JS: the scan refused the text, or toRows would reject the event.
 */
function sqlRows(e: StoredEvent, text: string, syncedAt: Date): TableRows[] | null {
  const scan = scanMessage(text);
  return scan && mappedRows(e, scan, `${text.slice(0, scan.bodyStart)}""${text.slice(scan.bodyEnd)}`, text.slice(scan.bodyStart, scan.bodyEnd), syncedAt);
}

/**
 * sqlRows for an object held as UTF-8 bytes (ADR 0229): the body's literal is found in the bytes
 * and handed over as bytes, only the rest is decoded and scanned, so no string of the body ever
 * exists. The scan runs over the rest (an empty string in the body's place) and must find the
 * top-level body exactly there; then the text it accepted is the object's, but for the body.
 * DuckDB gets the rest as the bytes it was decoded from (ADR 0232): converting the decoded text
 * back to UTF-8, twice (message and participant rows), cost more on the JS thread than the scan.
 */
function sqlBytesRows(e: StoredEvent, bytes: Uint8Array, syncedAt: Date): TableRows[] | null {
  const cut = bodyBytes(bytes);
  if (!cut) return null;
  const text = cut.rest.toString('utf8');
  const scan = scanMessage(text);
  if (!scan || scan.bodyEnd !== scan.bodyStart + 2 || Buffer.byteLength(text.slice(0, scan.bodyStart)) !== cut.at) return null;
  return mappedRows(e, scan, cut.rest, cut.literal, syncedAt);
}

/** The rows of a scanned message: `object` is its text (or its UTF-8 bytes) with the body empty, `literal` the body's JSON literal. */
function mappedRows(e: StoredEvent, scan: ScannedMessage, object: string | Uint8Array, literal: string | Uint8Array, syncedAt: Date): TableRows[] | null {
  if ((e.grantId == null && !scan.grantId) || e.applicationId == null || e.id == null) return null;
  const message = messageEventCells(e, syncedAt);
  setJsonLiteral(message, 'body', literal);
  const participant: Row = { _synced_at: syncedAt };
  for (const row of [message, participant]) {
    if (typeof object === 'string') row[OBJECT_KEY] = object;
    else setUtf8Cell(row, OBJECT_KEY, object);
  }
  return [
    { table: 'message', rows: [message] },
    { table: 'participant', rows: scan.participants ? [participant] : [] },
  ];
}

/**
 * `toRows(e, syncedAt)` in the encoder's terms: a log-read message mapped by DuckDB when `sql`
 * and its text allow it (sqlRows, or sqlBytesRows when the event holds the text as bytes),
 * otherwise with its body handed over as its JSON literal, and any other event by toRows
 * itself. The files are the same whichever way (log-rows.test.ts, message-sql.test.ts).
 */
export function logRows(e: StoredEvent, syncedAt: Date, sql = true): TableRows[] {
  if (e.type !== 'message.created' || !holdsLogText(e)) return toRows(e, syncedAt);
  if (sql) {
    const bytes = objectBytes(e);
    const mapped = bytes ? sqlBytesRows(e, bytes, syncedAt) : sqlRows(e, objectJson(e), syncedAt);
    if (mapped) return mapped;
  }
  // The JS mapping works on the text (an object held as bytes is decoded here, as the driver would).
  const text = objectJson(e);
  const cut = cutBody(text);
  if (!cut) return toRows(e, syncedAt);
  let object: unknown;
  try {
    object = JSON.parse(cut.rest);
  } catch {
    return toRows(e, syncedAt); // not the text it seemed to be: parse it whole
  }
  // A duplicate "body" member would win in JSON.parse: the ordinary path decides then.
  if (typeof object !== 'object' || object === null || (object as Record<string, unknown>).body !== null) return toRows(e, syncedAt);
  const light: StoredEvent = { id: e.id, seq: e.seq, applicationId: e.applicationId, type: e.type, source: e.source, time: e.time, grantId: e.grantId, provider: e.provider, object: object as Record<string, unknown> };
  const rows = toRows(light, syncedAt);
  const message = rows.find((r) => r.table === 'message')?.rows[0];
  if (message) setJsonLiteral(message, 'body', cut.literal);
  return rows;
}
