import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DestinationDefinition, DestinationWriter } from '../../src/destinations/destination.js';
import type { StoredEvent } from '../../src/domain/event.js';
import { appendEvents } from '../../src/event-log/append.js';
import { DATABASES, testContext, type TestContext } from '../helpers/context.js';
import { catalogOf, FakeSink } from './fake-destination.js';
import { message, services, startEngine, until } from './helpers.js';

/** The sink's definition, with `before` awaited ahead of every write (to change the database while a write is under way). */
function withBeforeWrite(def: DestinationDefinition, before: (batch: StoredEvent[], attempt: number) => Promise<void>): DestinationDefinition {
  return {
    ...def,
    create(config, ctx): DestinationWriter {
      const w = def.create(config, ctx);
      return {
        test: () => w.test(),
        close: () => w.close(),
        write: async (batch, signal, attempt) => {
          await before(batch, attempt);
          return w.write(batch, signal, attempt);
        },
      };
    },
  };
}

// A hold retry ends with a fenced save (the grant failed again) or release (it caught up). When
// that changed nothing because the hold row was gone while the lease was still ours, the runner
// used to treat it as a lost lease and stop ("stopping this runner"); the next runner then loaded
// no hold and never delivered the events the hold owed. Now the save writes the row again and the
// release counts as done; the runner goes on.
describe.each(DATABASES)('hold rows that disappear under the hold retrier (%s)', (kind) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await testContext(kind);
  });
  afterAll(() => t.close());

  it('a save recreates the row, a release of a missing row is done; the runner keeps running and every held event arrives once, in order', async () => {
    const appId = (await t.repos.applications.create({ name: 'hold-rows', environment: 'test', region: 'local' })).id;
    const sink = new FakeSink({ maxBatch: 10, maxWaitMs: 0, maxInFlight: 2, ordering: 'per-grant' });
    const stuck = `gs-${kind}`;
    let broken = true;
    sink.failEvent = (e) => (broken && e.grantId === stuck ? 'tenant endpoint is down' : null);
    let rowSeenBeforeSecondDelete: { retry_attempt: number } | undefined;
    let streamId = '';
    const deleteHold = () => t.store.db.deleteFrom('stream_holds').where('stream_id', '=', streamId).execute();
    // Hold retries write only the held grant's events, with attempt 2, 3, …; the main window's is 1.
    const def = withBeforeWrite(sink.definition(), async (batch, attempt) => {
      if (attempt < 2 || !batch.every((e) => e.grantId === stuck)) return;
      if (attempt === 2) {
        await deleteHold(); // this retry fails again: its save finds no row
      } else if (attempt === 3) {
        rowSeenBeforeSecondDelete = await t.store.db.selectFrom('stream_holds').select('retry_attempt').where('stream_id', '=', streamId).executeTakeFirst();
        broken = false;
        await deleteHold(); // this retry catches up: its release finds no row
      }
    });
    const catalog = catalogOf(def);
    const svc = services(t, catalog);
    const s = await svc.create(appId, { name: 's', dataTypes: ['message.created'], destination: { type: 'fake', config: { label: 'x' } } });
    streamId = s.id;
    const events = Array.from({ length: 10 }, (_, i) => message(`hr-${kind}-${i}`, i % 2 ? stuck : `go-${kind}`));
    await appendEvents(t.store.db, appId, events);
    const engine = startEngine(t, catalog, { retrySchedule: [0, 100, 100, 100] });
    try {
      await until('every event delivered', () => sink.received.length === events.length);
      expect(sink.received.filter((e) => e.grantId === stuck).map((e) => e.id)).toEqual(events.filter((e) => e.grantId === stuck).map((e) => e.id));
      expect(new Set(sink.ids()).size).toBe(events.length);
      // The failed retry's save wrote the row again, with its attempt.
      expect(rowSeenBeforeSecondDelete).toEqual({ retry_attempt: 2 });
      expect((await svc.status(appId, s.id)).held.grants).toBe(0);
      expect(engine.running()).toEqual([s.id]);
      await appendEvents(t.store.db, appId, [message(`hr-${kind}-after`, stuck)]);
      await until('the grant flows with the stream again', () => sink.received.length === events.length + 1);
      expect(t.logs.lines.filter((l) => l.includes(s.id) && l.includes('stopping this runner'))).toEqual([]);
      expect(t.logs.lines.filter((l) => l.includes('stream runner started') && l.includes(s.id))).toHaveLength(1);
    } finally {
      await engine.stop();
      await t.store.db.updateTable('streams').set({ status: 'pause' }).where('id', '=', s.id).execute();
    }
  });
});
