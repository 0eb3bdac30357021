import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '../domain/event.js';
import { testContext } from './conformance/suite.js';
import { chunked, eachLimited, FatalError, RequestPacker, RetryableError, writerOnFirstUse, type DestinationWriter, type WriteResult } from './destination.js';

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

describe('writerOnFirstUse', () => {
  const ctx = testContext();
  const batch = (...ids: string[]): StoredEvent[] => ids.map((id, i) => ({ id, seq: String(i + 1), type: 'message.created', source: '/t', time: 1, grantId: 'g', applicationId: 'a', provider: 'imap', object: {} }));

  /** A writer whose answers a script decides; it records what it was asked. */
  class Scripted implements DestinationWriter {
    calls: string[] = [];
    constructor(readonly config: { script: (call: string) => WriteResult | Error }) {}
    async test(): Promise<void> {
      this.calls.push('test');
      const r = this.config.script('test');
      if (r instanceof Error) throw r;
    }
    async write(events: StoredEvent[], _signal: AbortSignal, attempt: number): Promise<WriteResult> {
      const call = `write ${events.map((e) => e.id).join(',')} #${attempt}`;
      this.calls.push(call);
      const r = this.config.script(call);
      if (r instanceof Error) throw r;
      return r;
    }
    async close(): Promise<void> {
      this.calls.push('close');
    }
  }
  type Config = Scripted['config'];
  const loader = () => {
    const built: Scripted[] = [];
    let loads = 0;
    const create = writerOnFirstUse<Config>('scripted', async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 5)); // an import takes a while: calls arrive meanwhile
      return (config) => {
        const w = new Scripted(config);
        built.push(w);
        return w;
      };
    });
    return { create, built, loads: () => loads };
  };
  const outcome = (p: Promise<unknown>) => p.then(
    (value) => ({ value }),
    (err: Error) => ({ error: `${err.name}: ${err.message}`, retryAfterMs: (err as RetryableError).retryAfterMs, status: (err as FatalError).status }),
  );
  const script = (call: string): WriteResult | Error => {
    if (call === 'test') return new FatalError('bad credentials', 403);
    if (call.startsWith('write b')) return new RetryableError('busy', 2000, 503);
    if (call.startsWith('write c')) return { rejected: [{ id: 'c', reason: 'too large', status: 413 }], failed: [{ id: 'd', reason: 'timeout' }] };
    return { rejected: [] };
  };
  /** The same calls, in the same order, to a writer; what each answered and what the writer saw. */
  const exercise = async (w: DestinationWriter) => {
    const signal = new AbortController().signal;
    const answers = await Promise.all([outcome(w.write(batch('a1', 'a2'), signal, 1)), outcome(w.write(batch('b'), signal, 1)), outcome(w.test())]);
    answers.push(await outcome(w.write(batch('c', 'd'), signal, 2)));
    answers.push(await outcome(w.close()));
    return answers;
  };

  it('loads nothing until a writer tests or writes; the stand-in answers every call as the writer it stands for does', async () => {
    const l = loader();
    const unused = l.create({ script }, ctx);
    await unused.close();
    await expect(unused.write(batch('e'), new AbortController().signal, 1)).rejects.toThrow('the destination writer is closed');
    expect(l.loads()).toBe(0);

    const deferred = l.create({ script }, ctx);
    expect(deferred).not.toBeInstanceOf(Scripted);
    const viaStandIn = await exercise(deferred);
    expect(l.loads()).toBe(1);
    expect(l.built).toHaveLength(1);
    // Once loaded, create builds the writer itself: the path every later writer of the type takes.
    const direct = l.create({ script }, ctx);
    expect(direct).toBeInstanceOf(Scripted);
    const viaWriter = await exercise(direct);
    expect(viaStandIn).toEqual(viaWriter);
    expect(viaStandIn.map((a) => ('error' in a ? a.error : 'ok'))).toEqual(['ok', 'RetryableError: busy', 'FatalError: bad credentials', 'ok', 'ok']);
    expect(l.built[0]!.calls).toEqual(l.built[1]!.calls);
    expect(l.loads()).toBe(1);
  });

  it('a stand-in closed while the module loads closes the writer once built, after the write that was waiting for it', async () => {
    const l = loader();
    const w = l.create({ script }, ctx);
    const writing = outcome(w.write(batch('a'), new AbortController().signal, 1));
    await w.close();
    expect(await writing).toEqual({ value: { rejected: [] } });
    expect(l.built[0]!.calls).toEqual(['write a #1', 'close']);
  });

  it('a module that cannot be loaded fails the call with a FatalError, and is imported again by the next call', async () => {
    let tries = 0;
    const create = writerOnFirstUse<Config>('flaky', async () => {
      if (++tries === 1) throw new Error("Cannot find package '@vendor/sdk'");
      return (config) => new Scripted(config);
    });
    const w = create({ script }, ctx);
    await expect(w.write(batch('a'), new AbortController().signal, 1)).rejects.toMatchObject({ name: 'FatalError', message: "the flaky destination cannot be loaded in this process: Cannot find package '@vendor/sdk'" });
    expect(await w.write(batch('a'), new AbortController().signal, 1)).toEqual({ rejected: [] });
    expect(tries).toBe(2);
  });

  it('a writer that cannot be built fails its first call as a throwing create fails the stream: FatalError, or the error the writer chose', async () => {
    const broken = () =>
      writerOnFirstUse<{ fail: Error }>('broken', async () => (config) => {
        throw config.fail;
      });
    const signal = new AbortController().signal;
    const create = broken();
    await expect(create({ fail: new TypeError('x is not a function') }, ctx).test()).rejects.toMatchObject({ name: 'FatalError', message: 'cannot open the destination: x is not a function' });
    // Loaded now: create itself throws, and the runner turns that into the same FatalError.
    expect(() => create({ fail: new TypeError('x is not a function') }, ctx)).toThrow(TypeError);
    await expect(broken()({ fail: new RetryableError('key vault unreachable') }, ctx).write(batch('a'), signal, 1)).rejects.toMatchObject({ name: 'RetryableError', message: 'key vault unreachable' });
  });
});
