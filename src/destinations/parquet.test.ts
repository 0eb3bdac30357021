import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventRange } from './conformance/events.js';
import { jsonLiteralKey, ParquetEncoder, setJsonLiteral, setUtf8Cell } from './parquet.js';
import { rowsByTable, toRows, type Row } from './tables.js';

const at = new Date('2026-01-01T00:00:00.123Z');
let dir: string;
let db: DuckDBInstance;
let reader: DuckDBConnection;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parquet-encoder-'));
  db = await DuckDBInstance.create(':memory:');
  reader = await db.connect();
});

afterAll(async () => {
  reader.closeSync();
  db.closeSync();
  await rm(dir, { recursive: true, force: true });
});

/** Rows as plain JS values; DuckDB's BIGINTs (counts, start_ms) as numbers, all well within 2^53 here. */
const read = async (sql: string) =>
  (await reader.runAndReadAll(sql)).getRowObjectsJS().map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
const schemaOf = async (path: string) => Object.fromEntries((await read(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).map((r) => [r.column_name, r.column_type]));

describe('ParquetEncoder', () => {
  it('writes every row of a table over several source vectors, values and NULLs intact, in the layout’s types', async () => {
    const enc = new ParquetEncoder();
    try {
      const tables = rowsByTable(eventRange(0, 5_000, { prefix: 'pq', bodyBytes: 100 }).flatMap((e) => toRows(e, at)));
      const messages = tables.get('message')!;
      // Three vectors of the row source (2,048 rows each), the last one partial.
      expect(messages.length).toBeGreaterThan(4_096);
      messages[7] = { ...messages[7]!, subject: 'nul \u0000 inside, lone \ud800 surrogate, ünïcödé', thread_id: '', snippet: null, starred: null, received_at: null };
      const path = join(dir, 'message.parquet');
      await enc.writeParquetFile('message', messages, path);

      const rows = await read(`SELECT * FROM read_parquet('${path}')`);
      expect(rows).toHaveLength(messages.length);
      expect(rows.map((r) => r.id)).toEqual(messages.map((m) => m.id));
      const odd = rows[7]!;
      // A lone surrogate cannot be UTF-8: it becomes U+FFFD, as with DuckDB's appender.
      expect(odd.subject).toBe('nul \u0000 inside, lone \ufffd surrogate, ünïcödé');
      expect(odd.thread_id).toBe('');
      expect(odd.snippet).toBeNull();
      expect(odd.starred).toBeNull();
      expect(odd.received_at).toBeNull();
      const last = rows[rows.length - 1]!;
      const want = messages[messages.length - 1]!;
      expect(last.body).toBe(want.body);
      expect(last.from).toBe(want.from);
      expect(last.truncated).toBe(false);
      expect(last.unread).toBe(true);
      expect((last.received_at as Date).getTime()).toBe((want.received_at as Date).getTime());
      expect((last._synced_at as Date).toISOString()).toBe(at.toISOString());
      expect(await schemaOf(path)).toMatchObject({ id: 'VARCHAR', truncated: 'BOOLEAN', received_at: 'TIMESTAMP WITH TIME ZONE', _synced_at: 'TIMESTAMP WITH TIME ZONE' });
    } finally {
      await enc.close();
    }
  });

  it('keeps INTEGER and BIGINT columns, and encodes files concurrently without mixing their rows', async () => {
    const enc = new ParquetEncoder();
    try {
      const segments = (n: number, event: string): Row[] =>
        Array.from({ length: n }, (_, i) => ({ event_id: event, seq: i, grant_id: null, meeting_uuid: 'm', start_ms: 2 ** 40 + i, end_ms: 2 ** 40 + i + 1, speaker: 'S', text: `t${i}`, _synced_at: at }));
      const grants: Row[] = [{ event_id: 'g1', type: 'grant.expired', code: 25_020, grant_id: 'grant', application_id: 'app', integration_id: null, provider: 'imap', email: null, login_id: null, grant_updated_at: null, occurred_at: at, _synced_at: at }];
      const jobs = [
        ['zoom_transcript_segment', segments(3_000, 'a'), 'a.parquet'],
        ['zoom_transcript_segment', segments(10, 'b'), 'b.parquet'],
        ['grant_event', grants, 'g.parquet'],
        ['zoom_transcript_segment', segments(2_049, 'c'), 'c.parquet'],
      ] as const;
      await Promise.all(jobs.map(([table, rows, file]) => enc.writeParquetFile(table, rows, join(dir, file))));

      for (const [event, n] of [['a', 3_000], ['b', 10], ['c', 2_049]] as const) {
        const [r] = await read(`SELECT count(*) AS n, count(DISTINCT event_id) AS events, min(event_id) AS e, max(seq) AS top, max(end_ms) AS hi FROM read_parquet('${join(dir, `${event}.parquet`)}')`);
        expect(r).toEqual({ n, events: 1, e: event, top: n - 1, hi: 2 ** 40 + n });
      }
      expect(await schemaOf(join(dir, 'a.parquet'))).toMatchObject({ seq: 'INTEGER', start_ms: 'BIGINT' });
      const [g] = await read(`SELECT code, occurred_at, integration_id FROM read_parquet('${join(dir, 'g.parquet')}')`);
      expect(g).toEqual({ code: 25_020, occurred_at: at, integration_id: null });
    } finally {
      await enc.close();
    }
  });

  it('writes the same file whether text cells are strings, UTF-8 bytes or both, and whether a column is all NULL', async () => {
    const enc = new ParquetEncoder();
    try {
      const base = rowsByTable(eventRange(0, 3_000, { prefix: 'utf8', bodyBytes: 200 }).flatMap((e) => toRows(e, at))).get('message')!;
      base[3] = { ...base[3]!, subject: 'ünïcödé — 😀 \u0000 nul', snippet: '' };
      // Every text cell as bytes in odd rows, as strings in even ones; a literal body in every
      // fifth (bytes or string); and a file whose optional columns are NULL in every row.
      const mixed = base.map((r, i) => {
        const row: Row = { ...r };
        if (i % 5 === 0 && typeof r.body === 'string') {
          setJsonLiteral(row, 'body', i % 2 ? Buffer.from(JSON.stringify(r.body)) : JSON.stringify(r.body));
          row.body = null;
        }
        if (i % 2) for (const [k, v] of Object.entries(row)) if (typeof v === 'string' && k !== jsonLiteralKey('body')) setUtf8Cell(row, k, Buffer.from(v));
        return row;
      });
      const bytesOnly = base.map((r) => {
        const row: Row = { ...r };
        for (const [k, v] of Object.entries(row)) if (typeof v === 'string') setUtf8Cell(row, k, Buffer.from(v));
        return row;
      });
      const sparse: Row[] = base.map((r) => ({ ...r, thread_id: null, subject: null, snippet: null, unread: null, received_at: null }));
      const sparseBytes = sparse.map((r) => {
        const row: Row = { ...r };
        setUtf8Cell(row, 'id', Buffer.from(String(r.id)));
        return row;
      });
      const files = { plain: base, mixed, bytesOnly, sparse, sparseBytes };
      await Promise.all(Object.entries(files).map(([name, rows]) => enc.writeParquetFile('message', rows, join(dir, `utf8-${name}.parquet`), { literalColumns: ['body'] })));

      const all = async (name: string) => read(`SELECT * FROM read_parquet('${join(dir, `utf8-${name}.parquet`)}')`);
      const plain = await all('plain');
      expect(plain).toHaveLength(base.length);
      expect(plain[3]!.subject).toBe('ünïcödé — 😀 \u0000 nul');
      expect(await all('mixed')).toEqual(plain);
      expect(await all('bytesOnly')).toEqual(plain);
      const sparseRead = await all('sparse');
      expect(sparseRead).toEqual(plain.map((r) => ({ ...r, thread_id: null, subject: null, snippet: null, unread: null, received_at: null })));
      expect(await all('sparseBytes')).toEqual(sparseRead);
      const schema = await schemaOf(join(dir, 'utf8-plain.parquet'));
      for (const name of ['mixed', 'bytesOnly', 'sparse']) expect(await schemaOf(join(dir, `utf8-${name}.parquet`))).toEqual(schema);
    } finally {
      await enc.close();
    }
  });

  it('a fresh encoder’s first files, submitted together, all find the row source', async () => {
    // Each connection's first COPY must start after the source was registered; fresh encoders,
    // so every round opens both connections at once.
    const rows: Row[] = [{ id: 't', stream_id: 's', written_at: at }];
    for (let round = 0; round < 20; round += 1) {
      const enc = new ParquetEncoder();
      try {
        await Promise.all([0, 1, 2].map((i) => enc.writeParquetFile('_tributary_test', rows, join(dir, `first-${i}.parquet`))));
      } finally {
        await enc.close();
      }
    }
    expect(await read(`SELECT count(*) AS n FROM read_parquet('${join(dir, 'first-*.parquet')}')`)).toEqual([{ n: 3 }]);
  });

  it('fails the file whose rows cannot be encoded, and keeps encoding the next ones', async () => {
    const enc = new ParquetEncoder();
    try {
      const bad: Row[] = [{ event_id: 'x', seq: 0, grant_id: null, meeting_uuid: null, start_ms: 1.5, end_ms: 2, speaker: null, text: 't', _synced_at: at }];
      await expect(enc.writeParquetFile('zoom_transcript_segment', bad, join(dir, 'bad.parquet'))).rejects.toThrow(/1\.5/);
      await enc.writeParquetFile('zoom_transcript_segment', [{ ...bad[0]!, start_ms: 1 }], join(dir, 'good.parquet'));
      expect(await read(`SELECT start_ms FROM read_parquet('${join(dir, 'good.parquet')}')`)).toEqual([{ start_ms: 1 }]);
      // No rows: an empty file with the table's columns, still readable.
      await enc.writeParquetFile('participant', [], join(dir, 'empty.parquet'));
      expect(await read(`SELECT count(*) AS n FROM read_parquet('${join(dir, 'empty.parquet')}')`)).toEqual([{ n: 0 }]);
    } finally {
      await enc.close();
    }
  });
});
