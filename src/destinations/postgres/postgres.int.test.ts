import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../../test/helpers/context.js';
import { eventRange, grantEvent, messageCreated } from '../conformance/events.js';
import { runConformance, testContext, type ConformanceReceiver } from '../conformance/suite.js';
import { postgresDestination } from './definition.js';
import type { PostgresConfig } from './writer.js';

/** Trust authentication ignores the password, so it can stand in for a real secret in the logs test. */
const withPassword = (url: string) => url.replace('postgres@', 'postgres:pw-sentinel-91f3@');

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

runConformance<PostgresConfig>('postgres', {
  definition: postgresDestination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 'postgresDestination',
  orderVisible: false,
  async open(): Promise<ConformanceReceiver<PostgresConfig>> {
    const url = await createTestDatabase();
    return {
      config: { connection_string: withPassword(url), schema: 'sink' },
      readBack: (prefix) =>
        query<{ id: string; grant_id: string; content: string }>(
          url,
          `SELECT event_id AS id, grant_id, row_to_json(m)::text AS content FROM sink.message m WHERE event_id LIKE $1
           UNION ALL SELECT event_id, grant_id, row_to_json(g)::text FROM sink.grant_event g WHERE event_id LIKE $1`,
          [`${prefix}%`],
        ).then((rows) => rows.map((r) => ({ id: r.id, grantId: r.grant_id, content: r.content }))),
    };
  },
  close: async () => undefined,
  rejectable(prefix) {
    // PostgreSQL text cannot hold NUL: a real data exception raised by the server for this row only.
    const e = messageCreated(9_999, { prefix });
    return { ...e, id: `${prefix}-evt-nul`, object: { ...e.object, id: `${prefix}-nul`, body: 'before\u0000after' } };
  },
  failingConfig: () => ({ connection_string: 'postgres://postgres:pw-sentinel-unreachable@127.0.0.1:1/none', schema: 'sink' }),
  partialFailure: { unsupported: 'one transaction per batch: it commits whole or rolls back' },
});

describe('postgres destination specifics', () => {
  it('creates the schema with primary keys, and participants land once per (message, type, email)', async () => {
    const url = await createTestDatabase();
    const w = postgresDestination.create({ connection_string: url, schema: 'custom_schema' }, testContext());
    const e = messageCreated(1, { prefix: 'pk' });
    e.object.to = [
      { name: 'A', email: 'a@example.com' },
      { name: 'A again', email: 'a@example.com' },
    ];
    expect(await w.write([e], new AbortController().signal, 1)).toEqual({ rejected: [] });
    await w.close();
    const pks = await query<{ table_name: string; cols: string }>(
      url,
      `SELECT tc.table_name, string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position) AS cols
         FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
        WHERE tc.constraint_schema = 'custom_schema' AND tc.constraint_type = 'PRIMARY KEY' GROUP BY tc.table_name ORDER BY 1`,
    );
    expect(pks).toEqual([
      { table_name: '_tributary_test', cols: 'id' },
      { table_name: 'grant_event', cols: 'event_id' },
      { table_name: 'message', cols: 'id' },
      { table_name: 'participant', cols: 'message_id,type,email' },
      { table_name: 'zoom_transcript', cols: 'event_id' },
      { table_name: 'zoom_transcript_segment', cols: 'event_id,seq' },
    ]);
    // This server supports lz4 (PostgreSQL 15, Debian build): bodies use it.
    const [compression] = await query<{ c: string }>(url, `SELECT attcompression AS c FROM pg_attribute WHERE attrelid = 'custom_schema.message'::regclass AND attname = 'body'`);
    expect(compression!.c).toBe('l');
    const parts = await query<{ type: string; email: string }>(url, 'SELECT type, email FROM custom_schema.participant ORDER BY type, email');
    expect(parts).toEqual([
      { type: 'from', email: 'sender1@example.com' },
      { type: 'to', email: 'a@example.com' },
    ]);
    const [msg] = await query<{ from: unknown; received_at: Date; folders: unknown }>(url, 'SELECT "from", received_at, folders FROM custom_schema.message');
    expect(msg!.from).toEqual([{ name: 'Sender 1', email: 'sender1@example.com' }]);
    expect(msg!.folders).toEqual(['INBOX']);
    expect(msg!.received_at.getTime()).toBe((1_764_000_000 + 1) * 1000);
  });

  it('a batch that partly overlaps rows already written (a redelivery) adds only the new rows', async () => {
    const url = await createTestDatabase();
    const w = postgresDestination.create({ connection_string: url }, testContext());
    const events = eventRange(0, 15, { prefix: 'overlap' });
    await w.write(events.slice(0, 10), new AbortController().signal, 1);
    expect(await w.write(events.slice(5), new AbortController().signal, 1)).toEqual({ rejected: [] });
    await w.close();
    const [m] = await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM tributary.message');
    const [g] = await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM tributary.grant_event');
    expect(m!.n + g!.n).toBe(15);
  });

  it('a Zoom transcript lands as one zoom_transcript row and its segments; a redelivery adds nothing', async () => {
    const url = await createTestDatabase();
    const w = postgresDestination.create({ connection_string: url }, testContext());
    const base = grantEvent(1, { prefix: 'zoom' });
    const segments = Array.from({ length: 50 }, (_, i) => ({ start_ms: i * 1000, end_ms: i * 1000 + 900, speaker: i % 2 ? 'Ada' : null, text: `line ${i}\twith tab` }));
    const e = { ...base, type: 'conference.zoom.transcript' as const, source: '/zoom/recordings/realtime', provider: 'zoom' as const, object: { id: 'f1', meeting_id: '85012345678', meeting_uuid: 'u==', topic: 'Weekly', host: { id: 'h', email: 'h@example.com' }, start_time: 1_764_000_000, duration: 60, participants: [{ name: 'Ada' }], segment_count: 50, segments, text: 'x', truncated: false } };
    expect(await w.write([e], new AbortController().signal, 1)).toEqual({ rejected: [] });
    expect(await w.write([e], new AbortController().signal, 1)).toEqual({ rejected: [] });
    await w.close();
    const [t] = await query<{ topic: string; duration_minutes: number; participants: unknown; start_time: Date }>(url, 'SELECT topic, duration_minutes, participants, start_time FROM tributary.zoom_transcript');
    expect(t).toEqual({ topic: 'Weekly', duration_minutes: 60, participants: [{ name: 'Ada' }], start_time: new Date(1_764_000_000_000) });
    const rows = await query<{ seq: number; speaker: string | null; text: string; start_ms: string }>(url, 'SELECT seq, speaker, text, start_ms FROM tributary.zoom_transcript_segment ORDER BY seq');
    expect(rows).toHaveLength(50);
    expect(rows[1]).toEqual({ seq: 1, speaker: 'Ada', text: 'line 1\twith tab', start_ms: '1000' });
  });

  it('tables created by an older layout gain the new columns', async () => {
    const url = await createTestDatabase();
    await query(url, 'CREATE SCHEMA old; CREATE TABLE old.zoom_transcript (event_id text PRIMARY KEY, grant_id text, application_id text NOT NULL, meeting_id text, topic text, transcript text, object jsonb NOT NULL, occurred_at timestamptz NOT NULL, _synced_at timestamptz NOT NULL)');
    const w = postgresDestination.create({ connection_string: url, schema: 'old' }, testContext());
    await w.test();
    await w.close();
    const cols = await query<{ column_name: string }>(url, `SELECT column_name FROM information_schema.columns WHERE table_schema = 'old' AND table_name = 'zoom_transcript'`);
    expect(cols.map((c) => c.column_name)).toEqual(expect.arrayContaining(['meeting_uuid', 'segment_count', 'truncated', 'participants']));
  });

  it('a missing database is a fatal error naming it, not a retry', async () => {
    const url = (await createTestDatabase()).replace(/\/[^/]+$/, '/does_not_exist');
    const w = postgresDestination.create({ connection_string: url }, testContext());
    await expect(w.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('does_not_exist') });
    await w.close();
  });
});

describe('postgres destination outbound guard (SSRF)', () => {
  const refused = async (connection_string: string) => {
    const w = postgresDestination.create({ connection_string }, testContext({ allowPrivateAddresses: false }));
    const err = (await w.test().then(
      () => null,
      (e: unknown) => e as Error,
    ))!;
    await w.close();
    return err;
  };

  it('refuses loopback and private hosts unless private destinations are allowed, without revealing open ports', async () => {
    const url = await createTestDatabase();
    const open = new URL(url);
    const closed = new URL(url);
    closed.port = '1';
    const atOpen = await refused(open.toString());
    const atClosed = await refused(closed.toString());
    expect(atOpen).toMatchObject({ name: 'FatalError', message: expect.stringContaining('TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS') });
    // The same answer for a listening and a closed port: nothing was connected to.
    expect(atOpen.message).toBe(atClosed.message);
    expect(await refused('postgres://u:p@10.1.2.3:5432/db')).toMatchObject({ name: 'FatalError', message: expect.stringContaining('10.1.2.3') });
    expect(await refused('postgres://u:p@localhost:5432/db')).toMatchObject({ name: 'FatalError' });
    expect(await refused('postgres://u:p@%2Fvar%2Frun%2Fpostgresql/db')).toMatchObject({ name: 'FatalError', message: expect.stringContaining('Unix-socket') });
    // Nothing reached the deployment's database.
    expect(await query(url, "SELECT 1 FROM information_schema.schemata WHERE schema_name = 'tributary'")).toEqual([]);
  });
});
