import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { WorkerContext } from '../../src/context.js';
import { registryCatalog } from '../../src/delivery/registry-catalog.js';
import { streamLease } from '../../src/delivery/stream-store.js';
import { DEFAULT_SUPERVISION } from '../../src/delivery/thread.js';
import { deliveryPlacement, startDelivery, type StartedDelivery } from '../../src/delivery/worker.js';
import { appendEvents } from '../../src/event-log/append.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { FAST, message, services, until } from './helpers.js';
import { Receiver } from './receiver.js';

/**
 * What one thread start may take. The thread loads the engine and every destination plug-in from
 * the TypeScript sources through tsx: about 6 s of CPU on the 2-core CI machine (the thread entry's
 * imports, measured with process.cpuUsage), which is 15 s of wall time at load 10 and 40 s at load
 * 14. A test's limit is the suite's default plus this for each thread it starts: the work is
 * proportional to the threads started, and the 30 s default alone was exceeded under load.
 */
const THREAD_START_MS = 45_000;
const DEFAULT_MS = 30_000;

describe('delivery in a thread of the worker (PostgreSQL)', () => {
  let t: TestContext | null = null;
  let rx: Receiver | null = null;
  let delivery: StartedDelivery | null = null;
  afterEach(async () => {
    await delivery?.stop();
    await rx?.stop();
    await t?.close();
    t = rx = delivery = null;
  });

  const setup = async (kind: 'postgres' | 'pglite' = 'postgres', env: Record<string, string> = {}) => {
    t = await testContext(kind, { LOG_LEVEL: 'warn', TRIBUTARY_DELIVERY_THREAD: 'auto', ...env });
    rx = await new Receiver().start();
    const { app } = await t.repos.applications.ensureDefault('local');
    const svc = services(t, registryCatalog);
    const stream = await svc.create(app.id, { name: 'thread', dataTypes: ['message.created'], destination: { type: 'webhook', config: { url: rx.url, secret: 'thread-secret-0123456789' } } });
    const wctx: WorkerContext = { ...t, workerId: `host:${process.pid}:thr` };
    return { t, rx, wctx, appId: app.id, streamId: stream.id };
  };
  const receivedIds = (r: Receiver) => r.posts().map((p) => (JSON.parse(p.body) as { id: string }).id);
  const holderOf = async (tc: TestContext, streamId: string) => (await tc.repos.leases.list('stream:')).find((l) => l.name === streamLease(streamId));

  it('runs the engine in its own thread: events appended on the main thread are delivered on their commit notification, metrics reach the process registry, stop ends the thread and frees the lease', async () => {
    const s = await setup();
    // Idle polling every 30 s: only the commit notification can explain a delivery within seconds.
    delivery = await startDelivery(s.wctx, registryCatalog, { ...FAST, idlePollMinMs: 30_000, idlePollMaxMs: 30_000 });
    expect(delivery.placement).toBe('thread');
    await delivery.engine.scan();
    expect(delivery.engine.running()).toEqual([s.streamId]);
    expect((await holderOf(s.t, s.streamId))?.holder).toBe(`${s.wctx.workerId}:delivery-1`);
    // Let the runner find the log empty and go to sleep.
    await new Promise((r) => setTimeout(r, 500));
    const appendedAt = Date.now();
    await appendEvents(s.t.store.db, s.appId, [1, 2, 3, 4, 5].map((i) => message(`wake-${i}`, 'g1')));
    await until('five deliveries', () => s.rx.posts().length >= 5, 10_000);
    expect(Date.now() - appendedAt).toBeLessThan(10_000);
    expect(receivedIds(s.rx)).toEqual(['wake-1', 'wake-2', 'wake-3', 'wake-4', 'wake-5']);
    await until('delivered counter in the process registry', async () => (await s.t.metrics.registry.getSingleMetricAsString('tributary_stream_events_delivered_total')).includes(`stream="${s.streamId}"} 5`), 5000);
    expect(await s.t.metrics.registry.metrics()).toContain('tributary_stream_write_duration_seconds_bucket');

    const thread = delivery.thread!.current()!;
    const exitCode = new Promise<number>((r) => thread.once('exit', r));
    const stopStarted = Date.now();
    await delivery.stop();
    delivery = null;
    expect(await exitCode).toBe(0);
    expect(Date.now() - stopStarted).toBeLessThan(DEFAULT_SUPERVISION.stopDeadlineMs);
    expect(await holderOf(s.t, s.streamId)).toBeUndefined();
    await appendEvents(s.t.store.db, s.appId, [message('after-stop', 'g1')]);
    await new Promise((r) => setTimeout(r, 500));
    expect(receivedIds(s.rx)).not.toContain('after-stop');
  }, DEFAULT_MS + THREAD_START_MS);

  it('survives a crash of the thread: logged, restarted under a new lease tenure, every event delivered in order per grant', async () => {
    const s = await setup();
    const started = await startDelivery(s.wctx, registryCatalog, FAST, { ...DEFAULT_SUPERVISION, restartMinMs: 200 });
    delivery = started;
    const engine = started.thread!;
    await started.engine.scan();
    const before = await holderOf(s.t, s.streamId);
    const grants = ['ga', 'gb', 'gc'];
    let n = 0;
    const all: { id: string; grant: string }[] = [];
    const append = async (count: number) => {
      const batch = Array.from({ length: count }, () => {
        const k = n++;
        const e = { id: `crash-${String(k).padStart(4, '0')}`, grant: grants[k % grants.length]! };
        all.push(e);
        return message(e.id, e.grant);
      });
      await appendEvents(s.t.store.db, s.appId, batch);
    };
    const appending = (async () => {
      for (let i = 0; i < 30; i++) {
        await append(10);
        await new Promise((r) => setTimeout(r, 30));
      }
    })();
    await until('first deliveries', () => s.rx.posts().length >= 20, 10_000);
    // The thread dies mid-stream, writes in flight (what an uncaught exception in it would do).
    await engine.current()!.terminate();
    await appending;
    // The restart is a second thread start.
    await until('every event delivered after the restart', () => new Set(receivedIds(s.rx)).size >= all.length, THREAD_START_MS + 10_000);
    expect(engine.tenures()).toBe(2);
    expect(s.t.logs.text).toContain('delivery thread stopped unexpectedly');
    const after = await holderOf(s.t, s.streamId);
    expect(after?.holder).toBe(`${s.wctx.workerId}:delivery-2`);
    expect(Number(after?.token)).toBeGreaterThan(Number(before?.token));
    const got = receivedIds(s.rx);
    expect(new Set(got)).toEqual(new Set(all.map((e) => e.id)));
    for (const g of grants) {
      // At least once: a write in flight when the thread died may come again, but never out of order.
      const firsts = [...new Set(got.filter((id) => all.find((e) => e.id === id)!.grant === g))];
      expect(firsts).toEqual(all.filter((e) => e.grant === g).map((e) => e.id));
    }
  }, DEFAULT_MS + 2 * THREAD_START_MS);

  it('terminates a thread that does not stop within the deadline and frees its leases, so the process never hangs on it', async () => {
    const s = await setup();
    delivery = await startDelivery(s.wctx, registryCatalog, FAST, { ...DEFAULT_SUPERVISION, stopDeadlineMs: 1 });
    await delivery.engine.scan();
    expect((await holderOf(s.t, s.streamId))?.holder).toBe(`${s.wctx.workerId}:delivery-1`);
    const exitCode = new Promise<number>((r) => delivery!.thread!.current()!.once('exit', r));
    await delivery.stop();
    delivery = null;
    expect(await exitCode).not.toBe(0);
    expect(s.t.logs.text).toContain('did not stop in time');
    expect(await holderOf(s.t, s.streamId)).toBeUndefined();
  }, DEFAULT_MS + THREAD_START_MS);

  it('keeps delivery on the main thread with the embedded database, with TRIBUTARY_DELIVERY_THREAD=off (the default), and for a catalog that cannot cross threads', async () => {
    const s = await setup('pglite');
    expect(deliveryPlacement(s.wctx, registryCatalog)).toBe('main');
    delivery = await startDelivery(s.wctx, registryCatalog, FAST);
    expect(delivery.placement).toBe('main');
    await delivery.engine.scan();
    await appendEvents(s.t.store.db, s.appId, [message('inline-1', 'g1')]);
    await until('inline delivery', () => s.rx.posts().length >= 1, 10_000);
    await delivery.stop();
    delivery = null;
    await rx!.stop();
    await t!.close();

    const off = await setup('postgres', { TRIBUTARY_DELIVERY_THREAD: 'off' });
    expect(deliveryPlacement(off.wctx, registryCatalog)).toBe('main');
    expect(deliveryPlacement({ ...off.wctx, config: { ...off.wctx.config, deliveryThread: loadConfig({}).deliveryThread } }, registryCatalog)).toBe('main');
    const pgAuto = { ...off.wctx, config: { ...off.wctx.config, deliveryThread: 'auto' as const } };
    expect(deliveryPlacement(pgAuto, registryCatalog)).toBe('thread');
    expect(deliveryPlacement(pgAuto, { ...registryCatalog })).toBe('main');
  });
});
