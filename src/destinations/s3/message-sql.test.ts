import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../domain/event.js';
import { withObjectJson } from '../../domain/event-json.js';
import { grantEvent, messageCreated } from '../conformance/events.js';
import { fromLog, pgText } from '../conformance/log-events.js';
import { jsonLiteralKey, ParquetEncoder } from '../parquet.js';
import { RowMappingError, rowsByTable, toRows, type TableName, type TableRows } from '../tables.js';
import { logRows, parquetOptions } from './log-rows.js';
import { scanMessage } from './message-scan.js';
import { OBJECT_KEY } from './message-sql.js';

const at = new Date('2026-01-01T00:00:00.123Z');

/** A message.created whose object is `base` with `change` applied (undefined deletes a member). */
function message(i: number, change: Record<string, unknown> = {}, fields: Partial<StoredEvent> = {}): StoredEvent {
  const e = { ...messageCreated(i, { prefix: 'sql', bodyBytes: 400 }), ...fields };
  const object: Record<string, unknown> = { ...e.object };
  for (const [k, v] of Object.entries(change)) {
    if (v === undefined) delete object[k];
    else object[k] = v;
  }
  return { ...e, object };
}

/** Texts the SQL mapping accepts, in jsonb's and JSON.stringify's forms. */
const accepted: StoredEvent[] = [
  message(0),
  message(1, { subject: 'ünïcödé — 😀 漢字 \u2028 \u007f end', snippet: 'العربية' }),
  message(2, { body: 'quotes "in" it, a backslash \\ and\nnewlines\ttabs, 😀 and RAW-LONE-SURROGATE' }),
  message(3, { body: '' }),
  message(4, { body: 'x'.repeat(1_500_000) }),
  message(5, { thread_id: undefined, snippet: null, subject: undefined, unread: undefined, starred: null, folders: undefined, attachments: null, date: null }),
  message(6, { from: [{ email: 'noname@example.com' }, { name: null, email: 'nullname@example.com' }, { name: 'Dup', email: 'noname@example.com' }], to: [null, { name: 'Empty', email: '' }, { name: 'No mail' }, { name: 'B', email: 'b@example.com', extra: { deep: [1, 2] } }], cc: null, bcc: undefined }),
  message(7, { from: [], to: [], cc: [], bcc: [], reply_to: [] }),
  message(8, { from: undefined, to: undefined, cc: undefined, bcc: undefined, reply_to: undefined }),
  message(9, { to: [{ name: 'Same', email: 's@example.com' }], cc: [{ name: 'Same', email: 's@example.com' }], reply_to: [{ email: 'r@example.com' }, { email: 'r@example.com' }] }),
  message(10, { date: 0 }),
  message(11, { date: -8_640_000_000_000 }),
  message(12, { date: 8_640_000_000_000 }),
  message(13, { attachments: [{ id: 'a1', size: 123456789012345, inline: false, headers: { 'x-y': [-1, 0, {}] } }], folders: ['INBOX', ['nested']], unread: false, starred: true }),
  message(14, { grant_id: 'grant-from-object' }, { grantId: null }),
  message(15, { folders: 'not-a-list', attachments: { a: true } }),
  message(16, { id: '💌 id with emoji' }),
];

/** Texts it must refuse (the ordinary path maps them), with the reason. */
const refused: [string, StoredEvent][] = [
  ['a number id', message(20, { id: 42 })],
  ['a string date', message(21, { date: '2025-11-24T16:00:00Z' })],
  ['a fractional date', message(22, { date: 1764000000.5 })],
  ['a date beyond Date', message(23, { date: 8_640_000_000_001 })],
  ['a fraction in a json column', message(24, { attachments: [{ size: 1.5 }] })],
  ['an exponent in a json column', message(25, { attachments: [{ size: 1e21 }] })],
  ['a 16-digit integer', message(26, { attachments: [{ size: 1234567890123456 }] })],
  ['a string for a boolean', message(27, { unread: 'true' })],
  ['a number subject', message(28, { subject: 7 })],
  ['a number email', message(29, { to: [{ email: 5 }] })],
  ['a non-object participant', message(30, { to: ['a@example.com'] })],
  ['a participant list that is an object', message(31, { cc: { email: 'c@example.com' } })],
  ['an escaped quote in the subject', message(32, { subject: 'say "hi"' })],
  ['a control character outside the body', message(33, { snippet: 'tab\there' })],
  ['a \\u escape in the body', message(34, { body: 'lone \ud800 escaped by JSON.stringify' })],
  ['no body', message(35, { body: undefined })],
  ['a non-string body', message(36, { body: null })],
  ['an empty id', message(37, { id: '' })],
  ['no grant anywhere', message(38, { grant_id: undefined }, { grantId: null })],
];

/** The object's text in jsonb's, JSON.stringify's and a pretty-printed form (a body's marker becoming a raw lone surrogate, which JSON.parse reads). */
const forms = (e: StoredEvent) => [pgText(e.object), JSON.stringify(e.object), JSON.stringify(e.object, null, 2)].map((t) => t.replace('RAW-LONE-SURROGATE', '\ud800'));

describe('scanMessage', () => {
  it('accepts plain messages in any whitespace', () => {
    for (const e of accepted) for (const text of forms(e)) expect(scanMessage(text), text.slice(0, 80)).not.toBeNull();
  });

  it('refuses what the SQL mapping would read differently', () => {
    for (const [why, e] of refused) {
      if (why === 'no grant anywhere') continue; // refused by logRows, not the scan
      for (const text of forms(e)) expect(scanMessage(text), why).toBeNull();
    }
    const text = pgText(message(40).object);
    const cases: [string, string][] = [
      ['a repeated top-level key', text.replace('{', '{"subject": "first", ')],
      ['a repeated nested key', text.replace('"email": "to@example.com"', '"email": "x@example.com", "email": "to@example.com"')],
      ['a raw lone surrogate', text.replace('Subject', 'Sub\ud800ject')],
      ['a raw lone low surrogate', text.replace('Subject', 'Sub\udc00ject')],
      ['a \\u escape outside the body', text.replace('Subject', 'Sub\\u0065ject')],
      ['-0', text.replace('"unread": true', '"unread": true, "n": -0')],
      ['a leading zero', text.replace('"unread": true', '"unread": true, "n": 012')],
      ['trailing text', `${text} x`],
      ['an unterminated object', text.slice(0, -1)],
      ['not an object', `[${text}]`],
    ];
    for (const [why, t] of cases) expect(scanMessage(t), why).toBeNull();
    expect(scanMessage(text.replace('Subject', 'Sub😀ject'))).not.toBeNull();
  });
});

describe('the SQL mapping of log-read messages', () => {
  let dir: string;
  let enc: ParquetEncoder;
  let db: DuckDBInstance;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'message-sql-'));
    enc = new ParquetEncoder();
    db = await DuckDBInstance.create(':memory:');
  });
  afterAll(async () => {
    await enc.close();
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  /** Every table of `rows` written as Parquet the way the s3 writer does; each table's rows (in file order) and schema. */
  async function files(name: string, rows: TableRows[]): Promise<Map<TableName, { rows: unknown[]; schema: string[] }>> {
    const out = new Map<TableName, { rows: unknown[]; schema: string[] }>();
    const reader = await db.connect();
    try {
      for (const [table, tableRows] of rowsByTable(rows)) {
        const path = join(dir, `${name}-${table}.parquet`);
        await enc.writeParquetFile(table, tableRows, path, parquetOptions(table));
        const read = await reader.runAndReadAll(`SELECT * FROM read_parquet('${path}')`);
        const schema = (await reader.runAndReadAll(`SELECT name, type, logical_type, converted_type FROM parquet_schema('${path}')`)).getRowObjectsJson().map((r) => JSON.stringify(r));
        out.set(table, { rows: read.getRowObjectsJson(), schema });
      }
    } finally {
      reader.closeSync();
    }
    return out;
  }

  it('writes the same files as the JS mapping, for a corpus of edge cases mixed with refused texts and other events', async () => {
    const events: StoredEvent[] = [];
    for (const [i, e] of [...accepted, ...refused.filter(([why]) => why !== 'no grant anywhere' && why !== 'a date beyond Date').map(([, e]) => e)].entries()) {
      const [text] = forms(e).slice(i % 3, i % 3 + 1);
      events.push(fromLog(e, text!));
      if (i % 4 === 0) events.push(fromLog(grantEvent(100 + i, { prefix: 'sql' }), pgText(grantEvent(100 + i, { prefix: 'sql' }).object)));
    }
    events.push(message(50), { ...message(51), type: 'message.created.truncated' });
    const sql = events.flatMap((e) => logRows(e, at, true));
    const js = events.flatMap((e) => logRows(e, at, false));
    // The corpus does exercise both paths in the same files.
    const viaSql = sql.filter((t) => t.table === 'message' && t.rows.some((r) => OBJECT_KEY in r)).length;
    expect(viaSql).toBe(accepted.length);
    expect(js.some((t) => t.rows.some((r) => OBJECT_KEY in r))).toBe(false);
    const a = await files('sql', sql);
    const b = await files('js', js);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [table, file] of b) {
      expect(a.get(table)!.schema, table).toEqual(file.schema);
      expect(a.get(table)!.rows, table).toEqual(file.rows);
    }
    expect(b.get('message')!.rows).toHaveLength(events.filter((e) => e.type.startsWith('message.')).length);
  });

  it('with the text as UTF-8 bytes, writes the same files as JSON.parse + toRows of the decoded text, and as the text path', async () => {
    const texts: [StoredEvent, Buffer][] = [];
    for (const [i, e] of [...accepted, ...refused.filter(([why]) => why !== 'no grant anywhere' && why !== 'a date beyond Date').map(([, e]) => e)].entries()) {
      // Encoded as the database sends it; a raw lone surrogate cannot be UTF-8 and becomes U+FFFD, as in the driver's decoding.
      texts.push([e, Buffer.from(forms(e)[i % 3]!)]);
      if (i % 4 === 0) texts.push([grantEvent(100 + i, { prefix: 'sql' }), Buffer.from(pgText(grantEvent(100 + i, { prefix: 'sql' }).object))]);
    }
    const invalid = Buffer.from(pgText(message(52).object));
    invalid[invalid.indexOf('Lorem')] = 0xff; // not UTF-8 inside the body: decoded with U+FFFD, so the ordinary path maps it
    const nested = message(53, { attachments: [{ body: 'an attachment\'s "body" key before the message body' }] });
    const named = message(54, { id: 'body' }); // the string "body" before the member, as a value
    const quoted = message(55, { subject: 'the "body": member' }); // and escaped inside a string (refused by the scan)
    texts.push([message(52), invalid], [nested, Buffer.from(pgText(nested.object).replace('{', '{"a": {"body": "nested"}, '))], [named, Buffer.from(pgText(named.object))], [quoted, Buffer.from(pgText(quoted.object))]);
    // The bytes sit in one larger buffer, as slices of a read's network chunk.
    const chunk = Buffer.concat(texts.flatMap(([, b]) => [Buffer.from('~'), b]));
    let at0 = 0;
    const fromBytes = texts.map(([e, b]) => {
      const { object: _o, ...fields } = e;
      at0 += 1;
      const view = chunk.subarray(at0, (at0 += b.length));
      return withObjectJson<StoredEvent>(fields, view);
    });
    const decoded = texts.map(([e, b]) => ({ ...e, object: JSON.parse(b.toString('utf8')) as Record<string, unknown> }));
    const viaText = texts.map(([e, b]) => fromLog(e, b.toString('utf8')));
    const bytes = fromBytes.flatMap((e) => logRows(e, at, true));
    // Every text the text path maps in SQL, and the "body" value; not the invalid, nested or escaped ones.
    expect(bytes.filter((t) => t.table === 'message' && t.rows.some((r) => OBJECT_KEY in r)).length).toBe(accepted.length + 1);
    // Handed over as bytes, not decoded.
    expect(bytes.find((t) => t.table === 'message' && t.rows.some((r) => OBJECT_KEY in r))!.rows[0]![jsonLiteralKey('body')]).toBeInstanceOf(Uint8Array);
    const a = await files('bytes', bytes);
    const b = await files('parse', decoded.flatMap((e) => toRows(e, at)));
    const c = await files('text', viaText.flatMap((e) => logRows(e, at, true)));
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [table, file] of b) {
      expect(a.get(table)!.schema, table).toEqual(file.schema);
      expect(a.get(table)!.rows, table).toEqual(file.rows);
      expect(c.get(table)!.rows, table).toEqual(file.rows);
    }
    expect(JSON.stringify(b.get('message')!.rows)).toContain('\ufffd');
  });

  it('a message with no participant with an email gives no participant rows, as toRows', () => {
    const e = fromLog(message(60, { from: [{ name: 'x' }], to: [{ email: '' }], cc: [], bcc: [], reply_to: [] }), pgText(message(60, { from: [{ name: 'x' }], to: [{ email: '' }], cc: [], bcc: [], reply_to: [] }).object));
    const rows = logRows(e, at, true);
    expect(rows.find((t) => t.table === 'message')!.rows[0]![OBJECT_KEY]).toBeDefined();
    expect(rows.find((t) => t.table === 'participant')!.rows).toEqual([]);
  });

  it('rejects what toRows rejects, for the same reason', () => {
    const e = refused.find(([why]) => why === 'no grant anywhere')![1];
    const log = fromLog(e, pgText(e.object));
    expect(() => toRows(e, at)).toThrow(RowMappingError);
    expect(() => logRows(log, at, true)).toThrow(/message\.grant_id is required/);
  });
});
