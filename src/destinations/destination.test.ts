import { describe, expect, it } from 'vitest';
import { chunked, eachLimited, RequestPacker } from './destination.js';

describe('chunked', () => {
  it('cuts at the item count or the byte budget, whichever comes first; an oversized item goes alone', () => {
    expect(chunked([1, 2, 3, 4, 5], 2, 100, () => 1)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunked([4, 4, 4, 9, 1], 10, 8, (n) => n)).toEqual([[4, 4], [4], [9], [1]]);
    expect(chunked([], 2, 8, () => 1)).toEqual([]);
  });
});

describe('eachLimited', () => {
  it('keeps at most `limit` calls in flight and visits every item', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await eachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(n);
      running -= 1;
    });
    expect(peak).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('starts nothing after a failure and rejects with the first one once the running calls settled', async () => {
    const started: number[] = [];
    let settled = 0;
    const run = eachLimited([1, 2, 3, 4, 5], 2, async (n) => {
      started.push(n);
      await new Promise((r) => setTimeout(r, n === 1 ? 1 : 20));
      settled += 1;
      if (n === 1) throw new Error('first');
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toEqual([1, 2]);
    expect(settled).toBe(2);
  });
});

describe('RequestPacker', () => {
  const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

  it('packs items per key within the item and byte limits, sends full requests while items are still added, at most inFlight at once', async () => {
    const sent: { key: string; items: number[]; at: number }[] = [];
    let running = 0;
    let peak = 0;
    let added = 0;
    const packer = new RequestPacker<string, number>({ maxItems: 3, maxBytes: 10, inFlight: 2 }, async (key, items) => {
      sent.push({ key, items, at: added });
      running += 1;
      peak = Math.max(peak, running);
      await tick();
      running -= 1;
    });
    for (let i = 1; i <= 10; i++) {
      await packer.add(i % 2 ? 'odd' : 'even', i, i === 7 ? 10 : 1);
      added += 1;
    }
    await packer.finish();
    expect(peak).toBe(2);
    // Items keep their order within a key; the 10-byte item fills a request of its own.
    expect(sent.filter((s) => s.key === 'odd').map((s) => s.items)).toEqual([[1, 3, 5], [7], [9]]);
    expect(sent.filter((s) => s.key === 'even').map((s) => s.items)).toEqual([[2, 4, 6], [8, 10]]);
    // The first request went out before the last item was added.
    expect(sent[0]!.at).toBeLessThan(10);
  });

  it('after a failure sends nothing more and rejects with the first failure once the running requests settled', async () => {
    let settled = 0;
    const keys: number[] = [];
    const packer = new RequestPacker<number, number>({ maxItems: 1, maxBytes: 100, inFlight: 2 }, async (key) => {
      keys.push(key);
      await tick(key === 1 ? 1 : 20);
      settled += 1;
      if (key === 1) throw new Error('first');
    });
    const run = (async () => {
      for (let i = 1; i <= 6; i++) await packer.add(i, i, 1);
      await packer.finish();
    })();
    await expect(run).rejects.toThrow('first');
    expect(settled).toBe(keys.length);
    expect(keys.length).toBeLessThan(6);
  });

  it('gives a request in flight turns of the event loop while the caller keeps adding items synchronously', async () => {
    const immediate = () => new Promise<void>((r) => setImmediate(r));
    let done = false;
    // A send that needs several I/O turns (writing a large body, reading the answer).
    const packer = new RequestPacker<string, number>({ maxItems: 100, maxBytes: 100, inFlight: 2 }, async (key) => {
      if (key !== 'first') return;
      for (let i = 0; i < 5; i++) await immediate();
      done = true;
    });
    await packer.add('first', 1, 100);
    await packer.add('first', 2, 1); // over the byte limit: dispatches the first request; 'rest' never fills one
    let doneWhileAdding = false;
    for (let i = 0; i < 20 && !doneWhileAdding; i++) {
      const until = performance.now() + 5; // mapping one event's rows: CPU, no await of I/O
      while (performance.now() < until);
      await packer.add('rest', i, 1);
      doneWhileAdding = done;
    }
    expect(doneWhileAdding).toBe(true);
    await packer.finish();
  });

  it('finish() with nothing added resolves without a request', async () => {
    let calls = 0;
    await new RequestPacker<string, number>({ maxItems: 2, maxBytes: 2, inFlight: 1 }, async () => void (calls += 1)).finish();
    expect(calls).toBe(0);
  });
});
