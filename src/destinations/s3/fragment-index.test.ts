import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../domain/event.js';
import { eventRange } from '../conformance/events.js';
import { FragmentIndex, type ClaimIo } from './fragment-index.js';
import type { Fragment } from './layout.js';

/** A store holding written fragments in memory; counts listings and reads. */
function store(existing: { fragment: Fragment; ids: string[] }[] = []) {
  const io = {
    lists: 0,
    reads: 0,
    list: async () => {
      io.lists += 1;
      await Promise.resolve();
      return existing.map((x) => x.fragment);
    },
    read: async (key: string) => {
      io.reads += 1;
      await Promise.resolve();
      return new Set(existing.find((x) => x.fragment.key === key)?.ids ?? []);
    },
    keyOf: (fresh: StoredEvent[]): Fragment => ({ key: `f-${fresh[0]!.seq}-${fresh[fresh.length - 1]!.seq}-${fresh.length}`, first: BigInt(fresh[0]!.seq), last: BigInt(fresh[fresh.length - 1]!.seq) }),
  } satisfies ClaimIo & { lists: number; reads: number };
  return io;
}

const events = eventRange(0, 40, { prefix: 'fi', grants: 2 });
const ids = (list: readonly StoredEvent[]) => list.map((e) => e.id);
/** A promise's state after the queue of pending callbacks has run. */
async function settledYet(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
  return done;
}

describe('fragment index', () => {
  it('lists a partition once for batches asking together; disjoint batches in flight do not wait for each other', async () => {
    const io = store();
    const index = new FragmentIndex();
    const laneA = events.filter((e) => e.grantId === events[0]!.grantId);
    const laneB = events.filter((e) => e.grantId !== events[0]!.grantId);
    const [a, b] = await Promise.all([index.claim('p', laneA, io), index.claim('p', laneB, io)]);
    expect(io.lists).toBe(1);
    // Interleaved position ranges, no shared event: both claimed while neither is uploaded.
    expect(ids(a!.fresh)).toEqual(ids(laneA));
    expect(ids(b!.fresh)).toEqual(ids(laneB));
    a!.settle('kept');
    b!.settle('kept');
    // Written by this index: their ids are known without reading the objects back.
    expect(await index.claim('p', events, io)).toBeNull();
    expect(io.reads).toBe(0);
  });

  it('a redelivery that shares events with a fragment still uploading waits: kept → only the rest is written', async () => {
    const io = store();
    const index = new FragmentIndex();
    const first = (await index.claim('p', events.slice(0, 20), io))!;
    const again = index.claim('p', events.slice(10, 30), io);
    expect(await settledYet(again)).toBe(false);
    first.settle('kept');
    expect(ids((await again)!.fresh)).toEqual(ids(events.slice(20, 30)));
  });

  it('… failed → the waiting redelivery writes all of its events, and the failed fragment is forgotten', async () => {
    const io = store();
    const index = new FragmentIndex();
    const first = (await index.claim('p', events.slice(0, 20), io))!;
    const again = index.claim('p', events.slice(5, 25), io);
    first.settle('failed');
    const claim = (await again)!;
    expect(ids(claim.fresh)).toEqual(ids(events.slice(5, 25)));
    claim.settle('kept');
    expect(ids((await index.claim('p', events.slice(0, 20), io))!.fresh)).toEqual(ids(events.slice(0, 5)));
  });

  it('… unknown (the primary PUT failed without an answer) → the fragment is read back: what landed is held, what did not is written', async () => {
    const landed = store();
    const index = new FragmentIndex();
    const first = (await index.claim('p', events.slice(0, 10), landed))!;
    first.settle('unknown');
    // The store says the object is there with its ids: a redelivery adds nothing.
    const io = { ...landed, read: async () => new Set(ids(events.slice(0, 10))) };
    expect(await index.claim('p', events.slice(0, 10), io)).toBeNull();
    // Not there (the in-memory store has no such object, so it answers no ids): written again.
    expect(landed.reads).toBe(0);
    const other = (await index.claim('q', events.slice(10, 20), landed))!;
    other.settle('unknown');
    expect(ids((await index.claim('q', events.slice(10, 20), landed))!.fresh)).toEqual(ids(events.slice(10, 20)));
    expect(landed.reads).toBe(1);
  });

  it('reads back the ids of an overlapping fragment it did not write, and skips the events it holds', async () => {
    const written = { fragment: { key: 'old', first: 1n, last: 10n }, ids: ids(events.slice(0, 10)) };
    const io = store([written, { fragment: { key: 'far', first: 100n, last: 200n }, ids: [] }]);
    const index = new FragmentIndex();
    const claim = (await index.claim('p', events.slice(0, 15), io))!;
    expect(ids(claim.fresh)).toEqual(ids(events.slice(10, 15)));
    // Only the fragment whose positions overlap is read.
    expect(io.reads).toBe(1);
  });

  it('never forgets a partition with an upload in flight; a forgotten one is listed again', async () => {
    const io = store();
    const index = new FragmentIndex(1);
    const pending = (await index.claim('p1', events.slice(0, 5), io))!;
    (await index.claim('p2', events.slice(5, 10), io))!.settle('kept');
    (await index.claim('p3', events.slice(10, 15), io))!.settle('kept');
    expect(io.lists).toBe(3);
    // p1 kept its pending fragment: the same events wait for it instead of being claimed twice.
    const again = index.claim('p1', events.slice(0, 5), io);
    expect(await settledYet(again)).toBe(false);
    pending.settle('kept');
    expect(await again).toBeNull();
    expect(io.lists).toBe(3);
    // p2 was forgotten: listed again (the in-memory store lists nothing, so its events are fresh).
    expect((await index.claim('p2', events.slice(5, 10), io))!.fresh).toHaveLength(5);
    expect(io.lists).toBe(4);
  });
});
