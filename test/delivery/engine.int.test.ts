import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryEngine } from '../../src/delivery/engine.js';
import type { StreamService } from '../../src/delivery/streams.js';
import { FatalError, RetryableError } from '../../src/destinations/destination.js';
import { appendEvents } from '../../src/event-log/append.js';
import { watchLog } from '../../src/event-log/notify.js';
import { createDeliveryEngine } from '../../src/delivery/engine.js';
import { pruneEvents } from '../../src/event-log/prune.js';
import { DATABASES, testContext, type TestContext } from '../helpers/context.js';
import { catalogOf, FakeSink } from './fake-destination.js';
import { engineDeps, message, services, startEngine, until } from './helpers.js';

describe.each(DATABASES)('delivery engine on %s', (kind) => {
  let t: TestContext;
  let appId: string;
  let engines: DeliveryEngine[] = [];
  beforeAll(async () => {
    t = await testContext(kind);
  });
  // Each test gets its own application, so streams left by earlier tests never see its events.
  beforeEach(async () => {
    appId = (await t.repos.applications.create({ name: 'engine', environment: 'test', region: 'local' })).id;
  });
  afterEach(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    engines = [];
    // Leave no runnable streams behind for the next test's engines.
    await t.store.db.updateTable('streams').set({ status: 'pause' }).execute();
  });
  afterAll(() => t.close());

  const setup = (sink: FakeSink) => {
    const catalog = catalogOf(sink.definition());
    return { svc: services(t, catalog), start: (opts = {}) => engines[engines.push(startEngine(t, catalog, opts)) - 1]! };
  };
  const createStream = (svc: StreamService, extra: { grantIds?: string[] } = {}) =>
    svc.create(appId, { name: 's', dataTypes: ['message.created'], destination: { type: 'fake', config: { label: 'x', token: 'tok-secret' } }, ...extra });
  const row = (svc: StreamService, id: string) => svc.get(appId, id);

  it('delivers every event once, in order per grant, grants in parallel; the offset moves only after writes', async () => {
    const sink = new FakeSink({ maxBatch: 3, maxWaitMs: 0, maxInFlight: 4, ordering: 'per-grant' });
    sink.delayMs = () => Math.random() * 8;
    const { svc, start } = setup(sink);
    const s = await createStream(svc);
    const grants = Array.from({ length: 8 }, (_, i) => `g${i}-${kind}`);
    const events = Array.from({ length: 160 }, (_, i) => message(`ord-${kind}-${i}`, grants[(i * 7) % grants.length]!));
    for (let i = 0; i < events.length; i += 20) await appendEvents(t.store.db, appId, events.slice(i, i + 20));
    start();
    await until('all events', () => sink.received.length >= events.length);
    expect(new Set(sink.ids()).size).toBe(events.length);
    for (const g of grants) {
      const got = sink.received.filter((e) => e.grantId === g).map((e) => Number(e.seq));
      expect(got).toEqual([...got].sort((a, b) => a - b));
    }
    expect(sink.maxInFlightSeen).toBeGreaterThan(1);
    expect(sink.maxInFlightSeen).toBeLessThanOrEqual(4);
    expect(Math.max(...sink.batches.map((b) => b.ids.length))).toBeLessThanOrEqual(3);
    expect(sink.configs[0]).toEqual({ label: 'x', token: 'tok-secret' });
    const after = await until('offset committed', async () => {
      const r = await row(svc, s.id);
      return Number(r.delivered_count) === events.length ? r : null;
    });
    expect(after.status).toBe('active');
    expect(after.last_success_at).not.toBeNull();
    const status = await svc.status(appId, s.id);
    expect(status.lagEvents).toBe(0);
    const metrics = await t.metrics.registry.getSingleMetricAsString('tributary_stream_events_delivered_total');
    expect(metrics).toContain(`stream="${s.id}"} ${events.length}`);
    const attempts = await svc.attempts(appId, s.id, 100);
    expect(attempts.reduce((n, a) => n + (a.outcome === 'delivered' ? a.count : 0), 0)).toBe(events.length);
  });

  it('drains a backlog larger than a window in growing pages read ahead: every event once, in order; a replay mid-drain discards the page read ahead', async () => {
    const sink = new FakeSink({ maxBatch: 5, maxWaitMs: 0, maxInFlight: 1, ordering: 'per-grant' });
    sink.delayMs = () => 1;
    const { svc, start } = setup(sink);
    const s = await createStream(svc);
    const grants = [`ga-${kind}`, `gb-${kind}`, `gc-${kind}`];
    // Windows here are 100 events (5 × 1 × 4, at least 100): 1,200 events take several growing pages.
    const events = Array.from({ length: 1200 }, (_, i) => message(`big-${kind}-${i}`, grants[i % 3]!));
    for (let i = 0; i < events.length; i += 400) await appendEvents(t.store.db, appId, events.slice(i, i + 400));
    start();
    await until('whole backlog', () => sink.received.length >= events.length, 90_000);
    expect(sink.ids()).toHaveLength(events.length);
    expect(new Set(sink.ids()).size).toBe(events.length);
    for (const g of grants) expect(sink.received.filter((e) => e.grantId === g).map((e) => e.id)).toEqual(events.filter((e) => e.grantId === g).map((e) => e.id));
    await until('offset committed', async () => Number((await row(svc, s.id)).delivered_count) === events.length);

    // Replay while a second backlog drains: whatever page was read ahead for the old position must not be used.
    const more = Array.from({ length: 600 }, (_, i) => message(`more-${kind}-${i}`, grants[i % 3]!));
    sink.delayMs = () => 3;
    await appendEvents(t.store.db, appId, more);
    await until('second backlog under way', () => sink.received.length >= events.length + 100, 90_000);
    const replayedAt = sink.received.length;
    await svc.replay(appId, s.id, { fromEventId: more[0]!.id });
    await until('replayed', () => new Set(sink.received.slice(replayedAt).map((e) => e.id)).size >= more.length, 90_000);
    // After the replay every event of the second backlog arrives again, each grant in log order.
    const afterReplay = sink.received.slice(replayedAt);
    for (const g of grants) {
      const order = more.filter((e) => e.grantId === g).map((e) => e.id);
      const got = afterReplay.filter((e) => e.grantId === g).map((e) => e.id);
      const start = got.lastIndexOf(order[0]!);
      expect(got.slice(start)).toEqual(order);
    }
  });

  it('retries whole-batch failures on the schedule, honours Retry-After, keeps the offset until a write succeeds', async () => {
    const sink = new FakeSink();
    let failures = 0;
    sink.failWith = (_b, attempt) => (attempt <= 2 ? (failures++, new RetryableError('receiver answered 429', attempt === 2 ? 400 : undefined, 429)) : null);
    const { svc, start } = setup(sink);
    const s = await createStream(svc);
    await appendEvents(t.store.db, appId, [message(`r1-${kind}`, 'ga'), message(`r2-${kind}`, 'ga')]);
    start();
    const failing = await until('failing with Retry-After', async () => {
      const r = await row(svc, s.id);
      return r.retry_attempt === 2 ? r : null;
    });
    expect(failing.status).toBe('failing');
    expect(failing.last_error).toMatch(/429/);
    expect(failing.offset_seq).toBe(s.offset_seq);
    // The second retry waits for Retry-After (400 ms) rather than the 60 ms of the schedule.
    expect(failing.next_retry_at!.getTime() - failing.last_error_at!.getTime()).toBeGreaterThanOrEqual(350);
    expect(sink.received).toHaveLength(0);
    const ok = await until('recovered', async () => {
      const r = await row(svc, s.id);
      return r.status === 'active' && Number(r.delivered_count) === 2 ? r : null;
    });
    expect(ok.retry_attempt).toBe(0);
    expect(sink.batches.map((b) => b.attempt)).toEqual([3]);
    expect(failures).toBe(2);
    const outcomes = (await svc.attempts(appId, s.id, 10)).map((a) => [a.outcome, a.status_code]);
    expect(outcomes).toEqual([
      ['delivered', null],
      ['retry', 429],
      ['retry', 429],
    ]);
  });

  it('a partial write result: only the failed event and its grant\'s later events are written again, in order', async () => {
    const sink = new FakeSink({ maxBatch: 50, maxWaitMs: 0, maxInFlight: 1, ordering: 'per-grant' });
    const bad = `pa-bad-${kind}`;
    sink.failEvent = (e, attempt) => (e.id === `pa-${kind}-5` && attempt === 1 ? 'grant lane answered 503' : null);
    const { svc, start } = setup(sink);
    await createStream(svc);
    const events = Array.from({ length: 20 }, (_, i) => message(`pa-${kind}-${i}`, i % 4 === 1 ? bad : `pa-ok${i % 4}-${kind}`));
    await appendEvents(t.store.db, appId, events);
    start();
    await until('all events', () => new Set(sink.ids()).size === events.length);
    // Nothing that was written is written twice; the failed grant resumes at its failed event.
    expect(sink.ids()).toHaveLength(events.length);
    const badIds = sink.received.filter((e) => e.grantId === bad).map((e) => e.id);
    expect(badIds).toEqual(events.filter((e) => e.grantId === bad).map((e) => e.id));
    expect(sink.batches.filter((b) => b.attempt > 1).flatMap((b) => b.ids).every((id) => events.find((e) => e.id === id)!.grantId === bad)).toBe(true);
  });

  it('a commit notification wakes an idle runner at once; without one it would poll for seconds', async () => {
    const sink = new FakeSink();
    const catalog = catalogOf(sink.definition());
    const svc = services(t, catalog);
    await createStream(svc);
    const log = await watchLog(t.store);
    // Polling alone would take 4 s to notice anything.
    const engine = createDeliveryEngine({ ...engineDeps(t, catalog, { idlePollMinMs: 4_000, idlePollMaxMs: 4_000 }), log });
    engine.start();
    engines.push(engine);
    try {
      await until('runner started', () => engine.running().length > 0);
      await new Promise((r) => setTimeout(r, 300)); // the runner is now asleep in its idle poll
      const rolledBack = t.store.db.transaction().execute(async (tx) => {
        await appendEvents(tx, appId, [message(`nt-rb-${kind}`, 'gn')]);
        throw new Error('roll back');
      });
      await expect(rolledBack).rejects.toThrow('roll back');
      const t0 = Date.now();
      await appendEvents(t.store.db, appId, [message(`nt-${kind}`, 'gn')]);
      await until('delivered', () => sink.received.length === 1);
      expect(Date.now() - t0).toBeLessThan(1_500);
      expect(sink.ids()).toEqual([`nt-${kind}`]);
    } finally {
      await log.close();
    }
  });

  it('failing → failed when the schedule is exhausted; resume delivers the kept backlog', async () => {
    const sink = new FakeSink();
    let broken = true;
    sink.failWith = () => (broken ? new Error('connection refused') : null);
    const { svc, start } = setup(sink);
    const s = await createStream(svc);
    await appendEvents(t.store.db, appId, [message(`f1-${kind}`, 'gf')]);
    const engine = start();
    const failed = await until('failed', async () => {
      const r = await row(svc, s.id);
      return r.status === 'failed' ? r : null;
    });
    expect(failed.retry_attempt).toBe(4); // first attempt + 3 retries of the test schedule
    expect(failed.failed_count).toBe('4');
    await until('runner stopped', () => !engine.running().includes(s.id));
    broken = false;
    await svc.resume(appId, s.id);
    await until('delivered after resume', () => sink.received.length === 1);
    expect(sink.ids()).toEqual([`f1-${kind}`]);
  });

  it('changing the destination of a failing stream retries at once instead of waiting out the backoff', async () => {
    const sink = new FakeSink();
    sink.failWith = () => (sink.configs.at(-1)?.label === 'broken' ? new RetryableError('bad credentials?') : null);
    const { svc, start } = setup(sink);
    const s = await svc.create(appId, { name: 's', dataTypes: ['message.created'], destination: { type: 'fake', config: { label: 'broken', token: 'tok-secret' } } });
    await appendEvents(t.store.db, appId, [message(`fix-${kind}`, 'gfix')]);
    start({ retrySchedule: [0, 3_600_000] });
    await until('waiting an hour', async () => (await row(svc, s.id)).retry_attempt === 2);
    await svc.update(appId, s.id, { destination: { config: { label: 'fixed', token: '********' } } });
    await until('delivered after the fix', () => sink.received.length === 1);
    expect(sink.configs.at(-1)).toEqual({ label: 'fixed', token: 'tok-secret' });
  });

  it('a FatalError (webhook 410) fails the stream at once', async () => {
    const sink = new FakeSink();
    sink.failWith = () => new FatalError('receiver answered 410 Gone', 410);
    const { svc, start } = setup(sink);
    const s = await createStream(svc);
    await appendEvents(t.store.db, appId, [message(`x1-${kind}`, 'gx')]);
    start();
    const failed = await until('failed', async () => {
      const r = await row(svc, s.id);
      return r.status === 'failed' ? r : null;
    });
    expect(failed.retry_attempt).toBe(1);
    expect(failed.last_error).toMatch(/410/);
    expect((await svc.attempts(appId, s.id, 1))[0]).toMatchObject({ outcome: 'failed', status_code: 410 });
  });

  it('dead-letters refused events, moves on, and redrives them', async () => {
    const sink = new FakeSink();
    let strict = true;
    sink.refuse = (e) => (strict && e.object.bad ? 'payload rejected by receiver (422)' : null);
    const { svc, start } = setup(sink);
    const s = await createStream(svc);
    await appendEvents(t.store.db, appId, [message(`d1-${kind}`, 'gd'), message(`d2-${kind}`, 'gd', { bad: true }), message(`d3-${kind}`, 'gd')]);
    start();
    await until('good ones delivered', () => sink.received.length === 2);
    expect(sink.ids()).toEqual([`d1-${kind}`, `d3-${kind}`]);
    const st = await until('dead-lettered', async () => {
      const r = await svc.status(appId, s.id);
      return r.deadLetters === 1 && r.lagEvents === 0 ? r : null;
    });
    expect(st.stream.dead_lettered_count).toBe('1');
    const dl = await svc.deadLetters(appId, s.id, { limit: 10 });
    expect(dl.rows.map((r) => [r.event_id, r.reason, r.status_code])).toEqual([[`d2-${kind}`, 'payload rejected by receiver (422)', 422]]);
    strict = false;
    expect(await svc.redrive(appId, s.id)).toBe(1);
    await until('redriven', () => sink.received.length === 3);
    expect(sink.ids()[2]).toBe(`d2-${kind}`);
    await until('dead letter removed', async () => (await svc.deadLetters(appId, s.id, { limit: 10 })).rows.length === 0);
  });

  it('pause holds delivery, resume continues; replay from an event or a time delivers again', async () => {
    const sink = new FakeSink();
    const { svc, start } = setup(sink);
    const s = await createStream(svc, { grantIds: [`gp-${kind}`] });
    const engine = start();
    await svc.pause(appId, s.id);
    // A runner that read the stream just before the pause may still deliver one window; wait until it has seen the pause.
    await until('runner stopped by the pause', () => !engine.running().includes(s.id));
    await appendEvents(t.store.db, appId, [message(`p1-${kind}`, `gp-${kind}`), message(`p2-${kind}`, `gp-${kind}`), message(`other-${kind}`, 'not-this-grant')]);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.received).toHaveLength(0);
    await svc.resume(appId, s.id);
    await until('delivered after resume', () => sink.received.length === 2);
    expect(sink.ids()).toEqual([`p1-${kind}`, `p2-${kind}`]);

    await svc.replay(appId, s.id, { fromEventId: `p2-${kind}` });
    await until('replayed from event', () => sink.received.length === 3);
    expect(sink.ids()[2]).toBe(`p2-${kind}`);

    await svc.replay(appId, s.id, { fromTime: Math.floor(Date.now() / 1000) - 60 });
    await until('replayed from time', () => sink.received.length === 5);
    expect(sink.ids().slice(3)).toEqual([`p1-${kind}`, `p2-${kind}`]);
    await expect(svc.replay(appId, s.id, { fromEventId: 'missing' })).rejects.toThrow(/not an event in the log/);
  });

  it('a new stream starts at the end of the log unless asked for the earliest event', async () => {
    await appendEvents(t.store.db, appId, [message(`old-${kind}`, `gs-${kind}`)]);
    const sink = new FakeSink();
    const { svc, start } = setup(sink);
    await createStream(svc, { grantIds: [`gs-${kind}`] });
    const earliest = await svc.create(appId, { name: 'e', dataTypes: ['message.created'], grantIds: [`gs-${kind}`], destination: { type: 'fake', config: { label: 'e' } }, start: 'earliest' });
    await appendEvents(t.store.db, appId, [message(`new-${kind}`, `gs-${kind}`)]);
    start();
    await until('three deliveries', () => sink.received.length === 3);
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.ids().sort()).toEqual([`new-${kind}`, `new-${kind}`, `old-${kind}`]);
    expect((await svc.status(appId, earliest.id)).stream.delivered_count).toBe('2');
  });

  it('retention runs in the engine: delivered events past the window are pruned, a paused stream keeps its backlog', async () => {
    const sink = new FakeSink();
    const { svc, start } = setup(sink);
    const live = await createStream(svc);
    const paused = await createStream(svc);
    await svc.pause(appId, paused.id);
    await appendEvents(t.store.db, appId, [message(`ret1-${kind}`, 'gr'), message(`ret2-${kind}`, 'gr')]);
    start({ pruneIntervalMs: 100, retentionDays: 0 });
    await until('delivered', () => sink.received.length === 2);
    await new Promise((r) => setTimeout(r, 300));
    const count = async () => Number((await t.store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('application_id', '=', appId).executeTakeFirstOrThrow()).n);
    expect(await count()).toBe(2); // the paused stream has not read them
    await svc.remove(appId, paused.id);
    await until('pruned', async () => (await count()) === 0);
    expect((await svc.status(appId, live.id)).stream.delivered_count).toBe('2');
  });

  it('a runner whose lease was taken (fencing token moved on) cannot commit and stops', async () => {
    const sink = new FakeSink();
    sink.delayMs = () => 150;
    const { svc, start } = setup(sink);
    const s = await createStream(svc, { grantIds: [`gfence-${kind}`] });
    // Another process takes the lease over while this runner is mid-write.
    const steal = async () => {
      await t.store.db.updateTable('leases').set({ holder: 'thief', token: sql`token + 1`, expires_at: sql`now() + interval '1 minute'` }).where('name', '=', `stream:${s.id}`).execute();
    };
    // A long lease: the renewal timer must not notice the theft before the write ends; the commit's fence does.
    const engine = start({ leaseTtlMs: 6_000 });
    await until('running', () => engine.running().includes(s.id));
    await appendEvents(t.store.db, appId, [message(`fence-${kind}`, `gfence-${kind}`)]);
    await until('write started', () => sink.inFlight > 0);
    await steal();
    await until('runner stopped', () => !engine.running().includes(s.id));
    expect(sink.received).toHaveLength(1); // written (at-least-once)…
    const after = await row(svc, s.id);
    expect(after.offset_seq).toBe(s.offset_seq); // …but the offset was not moved by the fenced-out runner
    expect(after.delivered_count).toBe('0');
    // The warning names who holds the lease now (it is written once the lease row is read back).
    await until('loss reported', () => /stream lease taken by another holder \(now holder \\"thief\\"/.test(t.logs.text));
  });

  it('two engines share the streams: each stream has exactly one runner; the survivor takes over', async () => {
    const sink = new FakeSink();
    const catalog = catalogOf(sink.definition());
    const svc = services(t, catalog);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await createStream(svc, { grantIds: [`gl-${kind}`] })).id);
    const a = startEngine(t, catalog, {}, 'engine-a');
    const b = startEngine(t, catalog, {}, 'engine-b');
    engines.push(a, b);
    const mine = (e: DeliveryEngine) => e.running().filter((id) => ids.includes(id));
    await until('all streams running', () => mine(a).length + mine(b).length === 4);
    await new Promise((r) => setTimeout(r, 200));
    expect(mine(a).filter((id) => mine(b).includes(id))).toEqual([]);
    expect(mine(a).length + mine(b).length).toBe(4);
    await appendEvents(t.store.db, appId, [message(`l1-${kind}`, `gl-${kind}`)]);
    await until('each stream got it', () => sink.received.length === 4);
    // Stop only once every offset is committed: a runner stopped between its write and its commit
    // hands the event to the survivor again (at-least-once), and this test counts exact deliveries.
    await until('offsets committed', async () => (await Promise.all(ids.map((id) => row(svc, id)))).every((r) => String(r.delivered_count) === '1'));
    await a.stop();
    await until('b runs everything', () => mine(b).length === 4);
    await appendEvents(t.store.db, appId, [message(`l2-${kind}`, `gl-${kind}`)]);
    await until('each stream got the second', () => sink.received.length === 8);
    expect(ids.length).toBe(4);
  });

  // Per-grant holds (ADR 0110): poison events, restarts, retention.
  it('a poison event is retried on its grant\'s own schedule, then dead-lettered; the grant goes on in order and the others never wait', async () => {
    const sink = new FakeSink({ maxBatch: 5, maxWaitMs: 0, maxInFlight: 2, ordering: 'per-grant' });
    const poison = `poison-${kind}-3`;
    const attempts: number[] = [];
    sink.failEvent = (e, attempt) => (e.id === poison ? (attempts.push(attempt), 'receiver crashed on this payload') : null);
    const { svc, start } = setup(sink);
    const s = await createStream(svc);
    const events = Array.from({ length: 12 }, (_, i) => message(`poison-${kind}-${i}`, i % 2 === 1 ? `gp-${kind}` : `gq-${kind}`));
    await appendEvents(t.store.db, appId, events);
    start({ retrySchedule: [0, 60, 60] });
    await until('all but the poison delivered', () => sink.received.length === events.length - 1);
    const st = await until('dead-lettered, hold released', async () => {
      const r = await svc.status(appId, s.id);
      return r.deadLetters === 1 && r.held.grants === 0 ? r : null;
    });
    expect(st.stream.status).toBe('active');
    // The first attempt plus one per retry of the schedule, each numbered.
    expect(attempts).toEqual([1, 2, 3, 4]);
    const dl = (await svc.deadLetters(appId, s.id, { limit: 5 })).rows;
    expect(dl.map((d) => [d.event_id, d.reason])).toEqual([[poison, 'gave up after 4 attempts: receiver crashed on this payload']]);
    for (const g of [`gp-${kind}`, `gq-${kind}`]) {
      expect(sink.received.filter((e) => e.grantId === g).map((e) => e.id)).toEqual(events.filter((e) => e.grantId === g && e.id !== poison).map((e) => e.id));
    }
    expect(new Set(sink.ids()).size).toBe(sink.ids().length);
  });

  it('a hold survives a restart of the engine and keeps its events from retention; after the fix they arrive in order', async () => {
    const sink = new FakeSink({ maxBatch: 10, maxWaitMs: 0, maxInFlight: 2, ordering: 'per-grant' });
    const stuck = `gs-${kind}`;
    let broken = true;
    sink.failEvent = (e) => (broken && e.grantId === stuck ? 'tenant endpoint is down' : null);
    const { svc, start } = setup(sink);
    const s = await createStream(svc);
    const events = Array.from({ length: 10 }, (_, i) => message(`rs-${kind}-${i}`, i % 2 ? stuck : `go-${kind}`));
    await appendEvents(t.store.db, appId, events);
    const first = start({ retrySchedule: [0, 3_600_000] });
    await until('others delivered, grant held', async () => sink.received.length === 5 && (await svc.status(appId, s.id)).held.grants === 1);
    const st = await svc.status(appId, s.id);
    expect(st.lagEvents).toBe(0); // the offset moved past everything; the hold owns the stuck grant's events
    // Retention with a zero window must not delete what the hold still owes.
    await pruneEvents(t.store.db, { retentionDays: 0, now: new Date(Date.now() + 60_000) });
    const left = await t.store.db.selectFrom('events').select('id').where('application_id', '=', appId).execute();
    expect(left.map((r) => r.id).sort()).toEqual(events.filter((e) => e.grantId === stuck).map((e) => e.id).sort());
    await first.stop();
    engines = [];
    broken = false;
    // Due now (the hour's wait belongs to the old schedule; a restart does not reset it).
    await t.store.db.updateTable('stream_holds').set({ next_retry_at: new Date() }).where('stream_id', '=', s.id).execute();
    start({ retrySchedule: [0, 3_600_000] });
    await until('held grant delivered', () => sink.received.length === events.length);
    expect(sink.received.filter((e) => e.grantId === stuck).map((e) => e.id)).toEqual(events.filter((e) => e.grantId === stuck).map((e) => e.id));
    await until('hold released', async () => (await svc.status(appId, s.id)).held.grants === 0);
    expect(new Set(sink.ids()).size).toBe(events.length);
  });
});
