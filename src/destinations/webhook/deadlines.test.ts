import { describe, expect, it } from 'vitest';
import { DeadlineQueue, type Expirable } from './deadlines.js';

class Entry implements Expirable {
  settled = false;
  expiredAt: number | null = null;
  readonly deadline: number;
  constructor(ms: number) {
    this.deadline = performance.now() + ms;
  }
  expire() {
    this.expiredAt = performance.now();
    this.settled = true;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DeadlineQueue (one timer for every request of a writer)', () => {
  it('expires each unsettled entry once its own deadline has passed, never before it', async () => {
    const q = new DeadlineQueue();
    const a = new Entry(30);
    q.add(a);
    await sleep(15);
    const b = new Entry(30);
    q.add(b);
    await sleep(25);
    expect(a.expiredAt).not.toBeNull();
    expect(a.expiredAt!).toBeGreaterThanOrEqual(a.deadline);
    expect(b.expiredAt).toBeNull();
    await sleep(30);
    expect(b.expiredAt).not.toBeNull();
    expect(b.expiredAt!).toBeGreaterThanOrEqual(b.deadline);
  });

  it('never expires an entry that settled in time, and goes on to the next one behind it', async () => {
    const q = new DeadlineQueue();
    const early = new Entry(20);
    const later = new Entry(40);
    q.add(early);
    q.add(later);
    early.settled = true;
    await sleep(70);
    expect(early.expiredAt).toBeNull();
    expect(later.expiredAt).not.toBeNull();
    expect(q.size).toBe(0);
  });

  it('drops settled entries at the front as new ones arrive, so it holds about what is in flight', () => {
    const q = new DeadlineQueue();
    for (let i = 0; i < 10_000; i++) {
      const e = new Entry(10_000);
      q.add(e);
      e.settled = true;
    }
    expect(q.size).toBe(1);
    const stuck = new Entry(10_000);
    q.add(stuck);
    for (let i = 0; i < 100; i++) q.add(new Entry(10_000));
    expect(q.size).toBe(101); // the last settled one went when `stuck` arrived
    q.clear();
    expect(q.size).toBe(0);
  });

  it('clear() stops the timer: nothing left expires afterwards', async () => {
    const q = new DeadlineQueue();
    const e = new Entry(10);
    q.add(e);
    q.clear();
    await sleep(30);
    expect(e.expiredAt).toBeNull();
  });
});
