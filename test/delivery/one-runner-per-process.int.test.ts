import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryEngine, type DeliveryEngine } from '../../src/delivery/engine.js';
import { streamLease } from '../../src/delivery/stream-store.js';
import { appendEvents } from '../../src/event-log/append.js';
import { DATABASES, testContext, type TestContext } from '../helpers/context.js';
import { catalogOf, FakeSink } from './fake-destination.js';
import { engineDeps, message, services, until } from './helpers.js';

// A lease taken again by its own holder keeps its token (that is a renewal), so two engines of one
// process with the same worker id both got a stream's lease and both ran the stream: every window
// was written twice. A process-wide claim per stream (src/delivery/local-runners.ts) lets only one
// of them run it, while an engine with that worker id still takes over its own leases at once.
describe.each(DATABASES)('one runner per stream in a process, whatever the engines (%s)', (kind) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await testContext(kind);
  });
  afterAll(() => t.close());

  const setup = async (name: string) => {
    const appId = (await t.repos.applications.create({ name, environment: 'test', region: 'local' })).id;
    const sink = new FakeSink({ maxBatch: 5, maxWaitMs: 0, maxInFlight: 2, ordering: 'per-grant' });
    sink.delayMs = () => 2;
    const catalog = catalogOf(sink.definition());
    const s = await services(t, catalog).create(appId, { name: 's', dataTypes: ['message.created'], destination: { type: 'fake', config: { label: 'x' } } });
    return { appId, sink, catalog, streamId: s.id };
  };
  const runnersOf = (engines: DeliveryEngine[], id: string) => engines.filter((e) => e.running().includes(id)).length;

  it('two engines with the same worker id, scanning at once and one after the other, start one runner; the other takes over once it stops', async () => {
    const { appId, sink, catalog, streamId } = await setup('two-engines');
    const deps = () => {
      const d = engineDeps(t, catalog, {}, 'w1');
      // Every acquire answers 30 ms late, so concurrent scans overlap between the check and the lease.
      const acquire = d.leases.acquire;
      d.leases = { ...d.leases, acquire: (...a: Parameters<typeof acquire>) => new Promise((r) => setTimeout(r, 30)).then(() => acquire(...a)) };
      return d;
    };
    const a = createDeliveryEngine(deps());
    const b = createDeliveryEngine(deps());
    try {
      await Promise.all([a.scan(), b.scan(), a.scan(), b.scan()]);
      await b.scan();
      await a.scan();
      expect(runnersOf([a, b], streamId)).toBe(1);
      const first = a.running().includes(streamId) ? a : b;
      const second = first === a ? b : a;
      const events = Array.from({ length: 60 }, (_, i) => message(`one-${kind}-${i}`, `g${i % 3}`));
      await appendEvents(t.store.db, appId, events);
      await until('all events', () => sink.received.length >= events.length);
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.received.length).toBe(events.length);
      expect(t.logs.lines.filter((l) => l.includes('stream runner started') && l.includes(streamId))).toHaveLength(1);

      // The runner that stops gives lease and claim back: the other engine runs the stream at its next scan, without waiting for the lease to expire.
      await first.stop();
      await second.scan();
      expect(second.running()).toEqual([streamId]);
      const more = Array.from({ length: 10 }, (_, i) => message(`one-${kind}-more-${i}`, 'g0'));
      await appendEvents(t.store.db, appId, more);
      await until('the later events', () => sink.received.length >= events.length + more.length);
      await new Promise((r) => setTimeout(r, 100));
      expect(sink.ids().sort()).toEqual([...events, ...more].map((e) => e.id).sort());
      expect(t.logs.lines.filter((l) => l.includes(streamId) && l.includes('stopping this runner'))).toEqual([]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it("an engine takes over a lease its worker id still holds from a process that is gone, without waiting for it to expire", async () => {
    const { appId, sink, catalog, streamId } = await setup('own-lease');
    // What a process that died while running the stream leaves: the lease, held for another minute.
    const old = await t.repos.leases.acquire(streamLease(streamId), 'w1', 60_000);
    const engine = createDeliveryEngine(engineDeps(t, catalog, {}, 'w1'));
    try {
      await engine.scan();
      expect(engine.running()).toContain(streamId);
      expect((await t.repos.leases.get(streamLease(streamId)))?.token).toBe(old?.token);
      await appendEvents(t.store.db, appId, [message(`own-${kind}`, 'g0')]);
      await until('delivered', () => sink.received.length === 1);
    } finally {
      await engine.stop();
    }
  });
});
