import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, testContext, type TestContext } from '../../test/helpers/context.js';
import { objectJson } from '../domain/event-json.js';
import type { NewEvent } from '../domain/event.js';
import { appendEvents } from './append.js';
import { listEvents } from './list.js';
import { LOG_START, readAfter } from './read.js';

const ev = (id: string, object: Record<string, unknown>): NewEvent => ({ id, type: 'message.created', source: '/imap/emails/historic', time: 1_764_000_000, grantId: 'g1', provider: 'imap', object });

/** Objects whose text is easy to get wrong: escapes, the separator and NUL as characters, numbers, size. */
const TRICKY: Record<string, unknown>[] = [
  { id: 'm1', subject: 'ünïcödé — 😀 漢字 \u2028 \u2029', body: 'quotes " and \\ backslash\nnew line\ttab', n: 1.5, big: 1e21, neg: -0, tiny: 5e-324 },
  { z: 1, a: 2, nested: { b: [null, true, false, { c: 'd' }], e: {} }, empty: [] },
  { body: 'a record separator \u001e inside, and controls \u0001\u001f\u007f' },
  { body: 'literal text: \\u0000 and \\ud800 and \\uD83D, backslash before u' },
  { body: 'x'.repeat(300_000) },
  {},
];

describe.each(DATABASES)('appending to the log on %s', (kind) => {
  let t: TestContext;
  let appId: string;
  beforeAll(async () => {
    t = await testContext(kind);
    appId = (await t.repos.applications.create({ name: 'a', environment: 'test', region: 'local' })).id;
  });
  afterAll(() => t.close());

  const readAll = async () => (await readAfter(t.store.db, { after: LOG_START, filter: { applicationId: appId, types: ['message.created'] }, limit: 10_000 })).events;

  it('stores each object as the text the appender wrote, in append order, and reads it back as that text (jsonb printed its own)', async () => {
    const events = TRICKY.map((o, i) => ev(`t${i}`, o));
    expect(await appendEvents(t.store.db, appId, events)).toEqual(events.map((e) => e.id));
    const read = await readAll();
    expect(read.map((e) => e.id)).toEqual(events.map((e) => e.id));
    for (const [i, e] of read.entries()) {
      expect(objectJson(e)).toBe(JSON.stringify(TRICKY[i]));
      expect(e.object).toEqual(JSON.parse(JSON.stringify(TRICKY[i])));
    }
    // The API's pages parse the same column.
    const page = await listEvents(t.store.db, { applicationId: appId, limit: 100 });
    expect(page.events.map((e) => e.object).reverse()).toEqual(TRICKY.map((o) => JSON.parse(JSON.stringify(o))));
  });

  it('keeps the order and skips known ids across chunks of the statement', async () => {
    const first = Array.from({ length: 700 }, (_, i) => ev(`c${i}`, { i, body: `message ${i}` }));
    expect(await appendEvents(t.store.db, appId, first.slice(0, 300))).toHaveLength(300);
    expect(await appendEvents(t.store.db, appId, first)).toEqual(first.slice(300).map((e) => e.id));
    const read = (await readAll()).filter((e) => e.id.startsWith('c'));
    expect(read.map((e) => e.id)).toEqual(first.map((e) => e.id));
    expect(read.map((e) => (e.object as { i: number }).i)).toEqual(first.map((_, i) => i));
  });

  it('refuses what jsonb refused, with the same errors, and appends nothing of that statement', async () => {
    const before = (await readAll()).length;
    const refused = async (object: Record<string, unknown>) => {
      const err = await appendEvents(t.store.db, appId, [ev(`ok-${Math.random()}`, { body: 'fine' }), ev(`bad-${Math.random()}`, object)]).catch((e: unknown) => e);
      return (err as { code?: string }).code;
    };
    expect(await refused({ body: 'a NUL \u0000 in it' })).toBe('22P05');
    expect(await refused({ body: 'a lone surrogate \ud800 in it' })).toBe('22P02');
    expect(await refused({ body: 'a lone low surrogate \udc00' })).toBe('22P02');
    expect((await readAll()).length).toBe(before);
  });

  it('holds `object` as json (lz4-compressed where the server has it)', async () => {
    const { rows } = await sql<{ type: string; compression: string }>`
      select format_type(atttypid, atttypmod) as type, attcompression::text as compression from pg_attribute where attrelid = 'events'::regclass and attname = 'object'`.execute(t.store.db);
    expect(rows[0]!.type).toBe('json');
    const lz4 = (await sql<{ ok: boolean }>`select 'lz4' = any (enumvals) as ok from pg_settings where name = 'default_toast_compression'`.execute(t.store.db)).rows[0]?.ok === true;
    expect(rows[0]!.compression).toBe(lz4 ? 'l' : '');
    if (kind === 'postgres') expect(lz4).toBe(true);
  });
});
