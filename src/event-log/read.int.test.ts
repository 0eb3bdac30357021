import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, testContext, type TestContext } from '../../test/helpers/context.js';
import type { NewEvent } from '../domain/event.js';
import { appendEvents } from './append.js';
import { pruneDeliveryAttempts, pruneEvents } from './prune.js';
import { LOG_START, lagAfter, logEnd, positionAtTime, positionBeforeEvent, readAfter, type EventFilter, type LogPosition } from './read.js';

const ev = (id: string, grantId = 'g1', type: NewEvent['type'] = 'message.created', provider: NewEvent['provider'] = 'imap'): NewEvent => ({
  id,
  type,
  source: '/imap/emails/realtime',
  time: 1,
  grantId,
  provider,
  object: { id },
});

async function readAll(t: TestContext, filter: EventFilter, from: LogPosition = LOG_START, limit = 3): Promise<{ ids: string[]; next: LogPosition }> {
  const ids: string[] = [];
  let pos = from;
  for (;;) {
    const r = await readAfter(t.store.db, { after: pos, filter, limit });
    ids.push(...r.events.map((e) => e.id));
    pos = r.next;
    if (r.events.length < limit) return { ids, next: pos };
  }
}

describe.each(DATABASES)('event-log readers on %s', (kind) => {
  let t: TestContext;
  let appId: string;
  beforeAll(async () => {
    t = await testContext(kind);
    appId = (await t.repos.applications.create({ name: 'a', environment: 'test', region: 'local' })).id;
  });
  afterAll(() => t.close());

  it('reads in pages, applies filters and moves past events the filter does not match', async () => {
    await appendEvents(t.store.db, appId, [ev('r1', 'g1'), ev('r2', 'g2', 'grant.created'), ev('r3', 'g2'), ev('r4', 'g3', 'message.created', 'google'), ev('r5', 'g1')]);
    const all = await readAll(t, { applicationId: appId, types: ['message.created', 'grant.created'] });
    expect(all.ids).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect((await readAll(t, { applicationId: appId, types: ['message.created'] })).ids).toEqual(['r1', 'r3', 'r4', 'r5']);
    expect((await readAll(t, { applicationId: appId, types: ['message.created'], grantIds: ['g2', 'g3'] })).ids).toEqual(['r3', 'r4']);
    expect((await readAll(t, { applicationId: appId, types: ['message.created'], providers: ['google'] })).ids).toEqual(['r4']);

    // A filter that matches nothing still advances to the horizon, past every event so far.
    const none = await readAll(t, { applicationId: appId, types: ['conference.zoom.transcript'] });
    expect(none.ids).toEqual([]);
    expect((await readAll(t, { applicationId: appId, types: ['message.created'] }, none.next)).ids).toEqual([]);

    // Another application's events are never read.
    const other = (await t.repos.applications.create({ name: 'b', environment: 'test', region: 'local' })).id;
    await appendEvents(t.store.db, other, [ev('o1')]);
    expect((await readAll(t, { applicationId: appId, types: ['message.created'] }, all.next)).ids).toEqual([]);
  });

  it('positions: end of log, before an event, at a time; lag', async () => {
    const end = await logEnd(t.store.db);
    await appendEvents(t.store.db, appId, [ev('p1'), ev('p2'), ev('p3')]);
    const filter = { applicationId: appId, types: ['message.created'] };
    expect((await readAll(t, filter, end)).ids).toEqual(['p1', 'p2', 'p3']);
    expect((await readAll(t, filter, (await positionBeforeEvent(t.store.db, appId, 'p2'))!)).ids).toEqual(['p2', 'p3']);
    expect(await positionBeforeEvent(t.store.db, appId, 'nope')).toBeNull();

    await sql`update events set created_at = now() - interval '1 hour' where application_id = ${appId} and id <> 'p3'`.execute(t.store.db);
    const at = await positionAtTime(t.store.db, appId, new Date(Date.now() - 60_000));
    expect((await readAll(t, filter, at)).ids).toEqual(['p3']);

    const lag = await lagAfter(t.store.db, end, filter);
    expect(lag.events).toBe(3);
    expect(Date.now() - lag.oldest!.getTime()).toBeGreaterThan(3_000_000);
  });

  it('prunes old events only once every stream of the application has read past them, in batches', async () => {
    const app2 = (await t.repos.applications.create({ name: 'prune', environment: 'test', region: 'local' })).id;
    await appendEvents(t.store.db, app2, Array.from({ length: 25 }, (_, i) => ev(`x${i}`)));
    await appendEvents(t.store.db, app2, [ev('young')]);
    await sql`update events set created_at = now() - interval '10 days' where application_id = ${app2} and id <> 'young'`.execute(t.store.db);
    const rows = await t.store.db.selectFrom('events').select(['id', 'txid', 'seq']).where('application_id', '=', app2).orderBy('seq').execute();
    const tenth = rows[9]!;
    // A stream that has read the first ten events holds back the rest.
    await t.store.db
      .insertInto('streams')
      .values({
        id: `s_prune_${kind}`,
        application_id: app2,
        name: 'p',
        data_types: JSON.stringify(['message.created']),
        grant_ids: null,
        providers: null,
        destination_type: 'fake',
        destination_config: JSON.stringify({}),
        destination_secrets: null,
        description: null,
        offset_txid: String(tenth.txid),
        offset_seq: tenth.seq,
      })
      .execute();
    expect(await pruneEvents(t.store.db, { retentionDays: 7, now: new Date(), batchSize: 4 })).toBe(10);
    const left = await t.store.db.selectFrom('events').select('id').where('application_id', '=', app2).orderBy('seq').execute();
    expect(left.map((r) => r.id)).toEqual([...rows.slice(10).map((r) => r.id)]);
    // Moving the stream to the end releases everything old, but never the young event.
    // The stream's position after the application's last event, taken from the rows themselves: the
    // log end is bounded by the server-wide snapshot horizon, which another database's open
    // transaction on the same test server can hold below these events.
    const last = await t.store.db.selectFrom('events').select(['txid', 'seq']).where('application_id', '=', app2).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
    await t.store.db.updateTable('streams').set({ offset_txid: String(last.txid), offset_seq: last.seq }).where('id', '=', `s_prune_${kind}`).execute();
    expect(await pruneEvents(t.store.db, { retentionDays: 7, now: new Date(), batchSize: 4 })).toBe(15);
    const remaining = await t.store.db.selectFrom('events').select('id').where('application_id', '=', app2).execute();
    expect(remaining.map((r) => r.id)).toEqual(['young']);

    // Delivery attempts follow the same window.
    const attempt = (days: number) => ({ stream_id: `s_prune_${kind}`, first_seq: null, last_seq: null, count: 1, outcome: 'delivered', duration_ms: 1, status_code: null, error: null, created_at: new Date(Date.now() - days * 86_400_000) });
    await t.store.db.insertInto('delivery_attempts').values([attempt(8), attempt(9), attempt(1)]).execute();
    expect(await pruneDeliveryAttempts(t.store.db, { retentionDays: 7, now: new Date(), batchSize: 1 })).toBe(2);
    const attemptsLeft = await t.store.db.selectFrom('delivery_attempts').select('id').where('stream_id', '=', `s_prune_${kind}`).execute();
    expect(attemptsLeft).toHaveLength(1);
  });
});

describe('event-log readers under concurrent appenders (PostgreSQL)', () => {
  let t: TestContext;
  let appId: string;
  beforeAll(async () => {
    t = await testContext('postgres');
    appId = (await t.repos.applications.create({ name: 'c', environment: 'test', region: 'local' })).id;
  });
  afterAll(() => t.close());

  const connect = async () => {
    const c = new pg.Client({ connectionString: t.store.connectionString! });
    await c.connect();
    return c;
  };
  const insert = (c: pg.Client, id: string) =>
    c.query(`insert into events (id, application_id, grant_id, provider, type, source, time, object) values ($1, $2, 'g', 'imap', 'message.created', '/x', 1, '{}')`, [id, appId]);

  it('does not skip a lower seq that commits after a higher one (the case a seq offset gets wrong)', async () => {
    const a = await connect();
    const b = await connect();
    try {
      const filter = { applicationId: appId, types: ['message.created'] };
      const start = (await readAll(t, filter)).next;
      // A takes its transaction id first; B then inserts (lower seq, higher txid); A inserts and commits.
      await a.query('begin');
      await a.query('select pg_current_xact_id()');
      await b.query('begin');
      await insert(b, 'late-low-seq');
      await insert(a, 'early-high-seq');
      await a.query('commit');
      const first = await readAll(t, filter, start);
      expect(first.ids).toEqual(['early-high-seq']);
      const seqs = await t.store.db.selectFrom('events').select(['id', 'seq']).where('id', 'in', ['late-low-seq', 'early-high-seq']).execute();
      expect(seqs).toHaveLength(1); // B's row is not visible yet…
      await b.query('commit');
      const late = await t.store.db.selectFrom('events').select(['id', 'seq']).where('id', '=', 'late-low-seq').executeTakeFirstOrThrow();
      const early = await t.store.db.selectFrom('events').select(['id', 'seq']).where('id', '=', 'early-high-seq').executeTakeFirstOrThrow();
      expect(BigInt(late.seq)).toBeLessThan(BigInt(early.seq)); // …and it has the lower seq,
      expect((await readAll(t, filter, first.next)).ids).toEqual(['late-low-seq']); // yet the reader still gets it.
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('many appenders with random sleeps inside transactions: a concurrent reader sees every committed event exactly once', async () => {
    const filter = { applicationId: appId, types: ['message.created'] };
    let pos = (await readAll(t, filter)).next;
    const committed = new Set<string>();
    const seen: string[] = [];
    let appending = true;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

    const appender = async (w: number) => {
      const c = await connect();
      try {
        for (let i = 0; i < 25; i++) {
          const ids = Array.from({ length: 1 + (i % 3) }, (_, k) => `w${w}-${i}-${k}`);
          await c.query('begin');
          if (i % 2 === 0) await c.query('select pg_current_xact_id()'); // take a txid early, insert later
          await sleep(Math.random() * 15);
          for (const id of ids) {
            await insert(c, id);
            await sleep(Math.random() * 5);
          }
          if (i % 7 === 3) {
            await c.query('rollback');
          } else {
            await c.query('commit');
            for (const id of ids) committed.add(id);
          }
        }
      } finally {
        await c.end();
      }
    };
    const reader = async () => {
      while (appending) {
        const r = await readAfter(t.store.db, { after: pos, filter, limit: 7 });
        seen.push(...r.events.map((e) => e.id));
        pos = r.next;
        if (r.events.length === 0) await sleep(2);
      }
      // Drain like a delivery runner: keep polling until every committed event is seen. An empty
      // page alone does not mean the end: the horizon is the whole server's oldest running
      // transaction, and the other test files share this PostgreSQL server. A reader that skipped
      // events still fails, when the deadline passes.
      const deadline = Date.now() + 30_000;
      while ([...committed].some((id) => !seen.includes(id)) && Date.now() < deadline) {
        const r = await readAfter(t.store.db, { after: pos, filter, limit: 50 });
        seen.push(...r.events.map((e) => e.id));
        pos = r.next;
        if (r.events.length === 0) await sleep(20);
      }
      // Anything after the last committed event (there must be nothing) shows up here.
      const rest = await readAfter(t.store.db, { after: pos, filter, limit: 50 });
      seen.push(...rest.events.map((e) => e.id));
    };
    const readerDone = reader();
    await Promise.all(Array.from({ length: 8 }, (_, w) => appender(w)));
    appending = false;
    await readerDone;

    expect(committed.size).toBeGreaterThan(300);
    expect(seen.length).toBe(new Set(seen).size); // exactly once
    expect(new Set(seen)).toEqual(committed); // nothing skipped, nothing rolled back
  }, 60_000);
});
