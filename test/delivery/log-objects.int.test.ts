import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDeliveryEngine, type DeliveryEngine } from '../../src/delivery/engine.js';
import { objectBytes, objectJson } from '../../src/domain/event-json.js';
import type { DestinationDefinition } from '../../src/destinations/destination.js';
import { appendEvents } from '../../src/event-log/append.js';
import { DATABASES, testContext, type TestContext } from '../helpers/context.js';
import { catalogOf, FakeSink } from './fake-destination.js';
import { engineDeps, message, services, until } from './helpers.js';

/**
 * A destination that declares `logObjects: 'bytes'` gets events holding the log's UTF-8 bytes
 * when the store is PostgreSQL (ADR 0229), and the same events, in the same order, as with text;
 * one that does not declare it, or on PGlite, gets the decoded text as before.
 */
describe.each(DATABASES)('objects of log-read events by the destination\'s declaration on %s', (kind) => {
  let t: TestContext;
  let pool: pg.Pool | undefined;
  let engines: DeliveryEngine[] = [];
  beforeAll(async () => {
    t = await testContext(kind);
    if (kind === 'postgres') pool = new pg.Pool({ connectionString: t.store.connectionString!, max: 4 });
  });
  // Each delivery runs alone: an engine still running would take the next stream too and hand it
  // to its own destination, and an earlier stream left active would reach the next engine's sink.
  async function stopEarlier(): Promise<void> {
    await Promise.all(engines.map((e) => e.stop()));
    engines = [];
    await t.store.db.updateTable('streams').set({ status: 'pause' }).execute();
  }
  afterEach(stopEarlier);
  afterAll(async () => {
    await pool?.end();
    await t.close();
  });

  /** Delivers `count` events to a fake destination declaring `logObjects`; what each event held when written. */
  async function deliver(logObjects: DestinationDefinition['logObjects'], count: number) {
    await stopEarlier();
    const appId = (await t.repos.applications.create({ name: 'objects', environment: 'test', region: 'local' })).id;
    const sink = new FakeSink({ maxBatch: 7, maxWaitMs: 0, maxInFlight: 2, ordering: 'per-grant' });
    const fake = sink.definition();
    const held: { id: string; bytes: boolean; text: string }[] = [];
    const def: DestinationDefinition = {
      ...fake,
      ...(logObjects ? { logObjects } : {}),
      create(config, ctx) {
        const writer = fake.create(config, ctx);
        return {
          ...writer,
          test: () => writer.test(),
          close: () => writer.close(),
          write(batch, signal, attempt) {
            // Before the fake reads any object.
            for (const e of batch) held.push({ id: e.id, bytes: objectBytes(e) !== null, text: objectJson(e) });
            return writer.write(batch, signal, attempt);
          },
        };
      },
    };
    const catalog = catalogOf(def);
    await services(t, catalog).create(appId, { name: 's', dataTypes: ['message.created'], destination: { type: 'fake', config: { label: 'x' } }, start: 'earliest' });
    const events = Array.from({ length: count }, (_, i) => message(`obj-${kind}-${logObjects}-${i}`, `g${i % 3}`, { body: `ünïcödé 😀 ${'x'.repeat(i * 50)}`, n: i }));
    await appendEvents(t.store.db, appId, events);
    const engine = createDeliveryEngine({ ...engineDeps(t, catalog), ...(pool ? { pool } : {}) });
    engines.push(engine);
    engine.start();
    await until('all delivered', () => sink.received.length >= count);
    expect(sink.ids().sort()).toEqual(events.map((e) => e.id).sort());
    for (const e of sink.received) expect(e.object).toEqual(events.find((x) => x.id === e.id)!.object);
    for (const h of held) expect(JSON.parse(h.text)).toEqual(events.find((x) => x.id === h.id)!.object);
    return held;
  }

  it('bytes where declared and readable (PostgreSQL), text otherwise; the same events either way', async () => {
    const declared = await deliver('bytes', 40);
    expect(declared.every((h) => h.bytes === (kind === 'postgres'))).toBe(true);
    const plain = await deliver(undefined, 40);
    expect(plain.some((h) => h.bytes)).toBe(false);
  });
});
