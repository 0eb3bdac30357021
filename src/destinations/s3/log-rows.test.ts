import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../domain/event.js';
import { grantEvent, messageCreated } from '../conformance/events.js';
import { fromLog, pgText } from '../conformance/log-events.js';
import { jsonLiteralKey, ParquetEncoder } from '../parquet.js';
import { rowsByTable, toRows } from '../tables.js';
import { cutBody, logRows, parquetOptions } from './log-rows.js';

const at = new Date('2026-01-01T00:00:00.123Z');

/** The rows with any body literal decoded the way DuckDB does (a JSON string), for comparison. */
function decoded(e: StoredEvent) {
  return logRows(e, at, false).map(({ table, rows }) => ({
    table,
    rows: rows.map((r) => {
      const { [jsonLiteralKey('body')]: literal, ...rest } = r;
      return literal === undefined ? rest : { ...rest, body: JSON.parse(literal as string) as string };
    }),
  }));
}

const bodies = ['<p class="x">quotes "inside"</p>', 'ends with a backslash \\', 'a\\"b\\\\"c', 'line\nbreak\ttab', 'ünïcödé — 😀', '', '{"body": "not this one"}'];

describe('cutBody', () => {
  it('finds the top-level body string in JSON.stringify and jsonb text, skipping members and nested "body" keys before it', () => {
    for (const body of bodies) {
      const object = { attachments: [{ body: 'nested', n: 1 }], id: 'm1', flag: true, none: null, num: -1.5e3, body, after: { body: 'x' } };
      for (const text of [JSON.stringify(object), pgText(object), ` \n${JSON.stringify(object, null, 2)}`]) {
        const cut = cutBody(text)!;
        expect(JSON.parse(cut.literal)).toBe(body);
        expect(JSON.parse(cut.rest)).toEqual({ ...object, body: null });
      }
    }
  });

  it('gives up (null) on what it cannot take safely: no body, a non-string body, a \\u escape, broken text', () => {
    expect(cutBody('{"id": "m", "subject": "body"}')).toBeNull();
    expect(cutBody('{"body": null, "id": "m"}')).toBeNull();
    expect(cutBody('{"body": 12}')).toBeNull();
    expect(cutBody(JSON.stringify({ body: 'lone \ud800 surrogate' }))).toBeNull();
    expect(cutBody(JSON.stringify({ body: 'control \u0001' }))).toBeNull();
    expect(cutBody('{"id": "unterminated')).toBeNull();
    expect(cutBody('{"id": "m" "body": "x"}')).toBeNull();
    expect(cutBody('[{"body": "x"}]')).toBeNull();
    expect(cutBody('')).toBeNull();
  });
});

describe('logRows', () => {
  it('maps log-read messages to the rows toRows gives, with the body as a JSON literal and the object left unparsed', () => {
    for (const [i, body] of bodies.entries()) {
      const plain = messageCreated(i, { prefix: 'lr', bodyBytes: 200 });
      plain.object.body = `${String(plain.object.body)}${body}`;
      for (const text of [JSON.stringify(plain.object), pgText(plain.object)]) {
        const e = fromLog(plain, text);
        const rows = logRows(e, at, false);
        expect(rows[0]!.rows[0]!.body).toBeNull();
        expect(typeof rows[0]!.rows[0]![jsonLiteralKey('body')]).toBe('string');
        expect(decoded(e)).toEqual(toRows(plain, at));
      }
    }
  });

  it('takes the ordinary path for other events, plain objects and bodies it cannot cut, with the same rows', () => {
    const grant = grantEvent(1, { prefix: 'lr' });
    const lone = messageCreated(2, { prefix: 'lr' });
    lone.object.body = 'lone \ud800 surrogate';
    const truncated: StoredEvent = { ...messageCreated(3, { prefix: 'lr' }), type: 'message.created.truncated' };
    const parsed = messageCreated(4, { prefix: 'lr' });
    // A log event whose object was read (and possibly changed) since: its current object counts.
    const touched = fromLog(parsed, JSON.stringify(parsed.object));
    touched.object.subject = 'changed after reading';
    expect(decoded(touched)).toEqual(toRows({ ...parsed, object: { ...parsed.object, subject: 'changed after reading' } }, at));
    for (const plain of [grant, lone, truncated, parsed]) {
      for (const e of [plain, ...(plain === parsed ? [] : [fromLog(plain, JSON.stringify(plain.object))])]) {
        const rows = logRows(e, at, false);
        expect(rows.flatMap((t) => t.rows).some((r) => jsonLiteralKey('body') in r)).toBe(false);
        expect(rows).toEqual(toRows(plain, at));
      }
    }
  });

  it('writes the same Parquet message table as the ordinary rows (DuckDB unescapes the literals)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'log-rows-'));
    const enc = new ParquetEncoder();
    const db = await DuckDBInstance.create(':memory:');
    const reader = await db.connect();
    try {
      const plain = bodies.map((body, i) => {
        const e = messageCreated(i, { prefix: 'lr', bodyBytes: 3_000 });
        e.object.body = `${String(e.object.body)}${body}`;
        return e;
      });
      const literal = rowsByTable(plain.flatMap((e) => logRows(fromLog(e, pgText(e.object)), at, false))).get('message')!;
      const ordinary = rowsByTable(plain.flatMap((e) => toRows(e, at))).get('message')!;
      await enc.writeParquetFile('message', literal, join(dir, 'literal.parquet'), parquetOptions('message'));
      await enc.writeParquetFile('message', ordinary, join(dir, 'ordinary.parquet'));
      const diff = await reader.runAndReadAll(
        `SELECT count(*) AS n FROM (SELECT * FROM read_parquet('${join(dir, 'literal.parquet')}') EXCEPT ALL SELECT * FROM read_parquet('${join(dir, 'ordinary.parquet')}'))`,
      );
      expect(Number(diff.getRowObjects()[0]!.n)).toBe(0);
      const bodiesRead = (await reader.runAndReadAll(`SELECT body FROM read_parquet('${join(dir, 'literal.parquet')}')`)).getRowObjects().map((r) => r.body);
      expect(bodiesRead).toEqual(plain.map((e) => e.object.body));
      const schemaOf = async (f: string) => (await reader.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${join(dir, f)}')`)).getRowObjects().map((r) => `${String(r.column_name)} ${String(r.column_type)}`);
      expect(await schemaOf('literal.parquet')).toEqual(await schemaOf('ordinary.parquet'));
    } finally {
      reader.closeSync();
      db.closeSync();
      await enc.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
