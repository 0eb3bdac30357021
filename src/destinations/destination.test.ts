import { describe, expect, it } from 'vitest';
import { chunked, eachLimited } from './destination.js';

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
