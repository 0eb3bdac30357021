import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryEngine } from '../../src/delivery/engine.js';
import { appendEvents } from '../../src/event-log/append.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { catalogOf, FakeSink } from './fake-destination.js';
import { engineDeps, message, services, until } from './helpers.js';

// The e2e bench calls scan() right after creating a stream while the engine's own timer scans too.
// Two scans that both saw no runner used to start two runners of one stream with the same lease
// (same holder, same token): every window was written twice, and the first of them to finish
// released the lease under the other, which then reported it "lost to another process".
describe('one engine, one lease per stream (PostgreSQL)', () => {
  let t: TestContext;
  beforeAll(async () => {
    t = await testContext('postgres');
  });
  afterAll(() => t.close());

  it('concurrent scans start one runner per stream: nothing is delivered twice', async () => {
    const appId = (await t.repos.applications.create({ name: 'scan-race', environment: 'test', region: 'local' })).id;
    const sink = new FakeSink({ maxBatch: 5, maxWaitMs: 0, maxInFlight: 2, ordering: 'per-grant' });
    sink.delayMs = () => 2;
    const catalog = catalogOf(sink.definition());
    const s = await services(t, catalog).create(appId, { name: 's', dataTypes: ['message.created'], destination: { type: 'fake', config: { label: 'x' } } });
    const events = Array.from({ length: 120 }, (_, i) => message(`race-${i}`, `g${i % 3}`));
    await appendEvents(t.store.db, appId, events);
    const deps = engineDeps(t, catalog);
    // A database slow to answer (the bench ran at load 14) keeps each scan between its check for a
    // running runner and the lease it then takes; here every acquire waits 50 ms first.
    const acquire = deps.leases.acquire;
    deps.leases = { ...deps.leases, acquire: (...a: Parameters<typeof acquire>) => new Promise((r) => setTimeout(r, 50)).then(() => acquire(...a)) };
    const engine = createDeliveryEngine(deps);
    try {
      await Promise.all([engine.scan(), engine.scan(), engine.scan()]);
      await until('all events', () => sink.received.length >= events.length);
      await until('offset at the end', async () => Number((await t.store.db.selectFrom('streams').select('offset_seq').where('id', '=', s.id).executeTakeFirstOrThrow()).offset_seq) >= 120);
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.received.length).toBe(events.length);
      expect([...sink.ids()].sort()).toEqual(events.map((e) => e.id).sort());
      expect(engine.running()).toEqual([s.id]);
      const started = t.logs.lines.filter((l) => l.includes('stream runner started') && l.includes(s.id));
      expect(started).toHaveLength(1);
      expect(t.logs.text).not.toContain('stopping this runner');
    } finally {
      await engine.stop();
    }
  });

  // A renewal still on its way when the runner ended used to land after the release and take the
  // lease again (same holder, token + 1), then report that token change as a lease lost.
  it('a runner that ends gives its lease back after the renewal under way, which cannot take it again', async () => {
    const appId = (await t.repos.applications.create({ name: 'renew-race', environment: 'test', region: 'local' })).id;
    const sink = new FakeSink();
    const catalog = catalogOf(sink.definition());
    const s = await services(t, catalog).create(appId, { name: 's', dataTypes: ['message.created'], destination: { type: 'fake', config: { label: 'x' } } });
    const deps = engineDeps(t, catalog, { leaseTtlMs: 600 });
    // Renewals (every 200 ms) answer 250 ms late: one is nearly always under way.
    const acquire = deps.leases.acquire;
    deps.leases = { ...deps.leases, acquire: (...a: Parameters<typeof acquire>) => new Promise((r) => setTimeout(r, 250)).then(() => acquire(...a)) };
    const engine = createDeliveryEngine(deps);
    try {
      await engine.scan();
      await until('running', () => engine.running().includes(s.id));
      await new Promise((r) => setTimeout(r, 450));
      await t.store.db.updateTable('streams').set({ status: 'pause' }).where('id', '=', s.id).execute();
      await until('runner ended', () => !engine.running().includes(s.id));
      await new Promise((r) => setTimeout(r, 600));
      const lease = await t.repos.leases.get(`stream:${s.id}`);
      expect(lease?.holder).toBe('');
      expect(lease?.token).toBe('1');
      expect(t.logs.lines.filter((l) => l.includes(s.id) && l.includes('stopping this runner'))).toEqual([]);
    } finally {
      await engine.stop();
    }
  });
});
