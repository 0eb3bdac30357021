import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext, type TestContext } from '../../test/helpers/context.js';
import { objectBytes, objectJson } from '../domain/event-json.js';
import type { NewEvent } from '../domain/event.js';
import { appendEvents } from './append.js';
import { inlined, readAfterAsBytes } from './read-bytes.js';
import { LOG_START, readAfter, type EventFilter, type LogPosition, type ReadQuery } from './read.js';

const ev = (id: string, object: Record<string, unknown>, grantId: string | null = 'g1', provider: NewEvent['provider'] = 'imap'): NewEvent => ({
  id,
  type: 'message.created',
  source: '/imap/emails/realtime',
  time: 1_764_000_000 + id.length,
  grantId,
  provider,
  object: { id, ...object },
});

describe('reading the log with objects as bytes (postgres)', () => {
  let t: TestContext;
  let pool: pg.Pool;
  let appId: string;
  beforeAll(async () => {
    t = await testContext('postgres');
    pool = new pg.Pool({ connectionString: t.store.connectionString!, max: 2 });
    appId = (await t.repos.applications.create({ name: "o'brien \\ app", environment: 'test', region: 'local' })).id;
    await appendEvents(t.store.db, appId, [
      ev('b1', { body: 'plain', subject: 'ünïcödé — 😀 漢字 \u2028', n: 1.5 }),
      ev('b2', { body: 'x'.repeat(300_000), to: [{ email: 'a@example.com' }] }, 'g2', 'google'),
      ev('b3', { body: 'quotes " and \\ backslash\nnew line', nested: { a: [null, true] } }, null, null),
      ev("b4 o'quote", { body: '' }, "g'3"),
    ]);
  });
  afterAll(async () => {
    await pool.end();
    await t.close();
  });

  /** Both readers from `after` with `limit`: the same events, text and object, and the same next position. */
  async function compare(filter: EventFilter, limit: number, after: LogPosition = LOG_START) {
    const q: ReadQuery = { after, filter, limit };
    const [text, bytes] = [await readAfter(t.store.db, q), await readAfterAsBytes(t.store.db, pool, q)];
    expect(bytes.next).toEqual(text.next);
    expect(bytes.events).toHaveLength(text.events.length);
    for (const [i, e] of bytes.events.entries()) {
      expect(objectBytes(e)).toBeInstanceOf(Uint8Array);
      expect(objectJson(e)).toBe(objectJson(text.events[i]!));
    }
    // (Spreading an event reads its object: last.)
    expect(bytes.events).toEqual(text.events);
    return bytes;
  }

  it('reads what readAfter reads, in pages, with filters (values holding quotes and backslashes), and past the end', async () => {
    const all = { applicationId: appId, types: ['message.created'] };
    const first = await compare(all, 2);
    expect(first.events.map((e) => e.id)).toEqual(['b1', 'b2']);
    const rest = await compare(all, 10, first.next);
    expect(rest.events.map((e) => e.id)).toEqual(['b3', "b4 o'quote"]);
    expect((await compare(all, 10, rest.next)).events).toEqual([]);
    expect((await compare({ ...all, grantIds: ["g'3", 'g2'] }, 10)).events.map((e) => e.id)).toEqual(['b2', "b4 o'quote"]);
    expect((await compare({ ...all, providers: ['google'] }, 10)).events.map((e) => e.id)).toEqual(['b2']);
    expect((await compare({ ...all, grantIds: [] }, 10)).events).toEqual([]);
    expect((await compare({ applicationId: "x' or true --", types: ['message.created'] }, 10)).events).toEqual([]);
  });

  it('writes values into the statement as literals, refusing what cannot be one', () => {
    expect(inlined({ sql: 'a = $1 and b = any($2::text[]) limit $3', parameters: ["it's \\", ['x', "y'"], 5] })).toBe("a =  E'it''s \\\\' and b = any(array['x', 'y''']::text[]) limit 5"); // escapeLiteral: E'' when a backslash is in it
    expect(() => inlined({ sql: '$1', parameters: ['a\u0000b'] })).toThrow(/NUL/);
    expect(() => inlined({ sql: '$1', parameters: [1.5] })).toThrow(/cannot inline/);
    expect(() => inlined({ sql: '$2', parameters: ['a'] })).toThrow(/no parameter/);
  });
});
