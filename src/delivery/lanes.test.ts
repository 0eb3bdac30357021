import { describe, expect, it } from 'vitest';
import { planLanes } from './lanes.js';

const ev = (seq: number, grantId: string | null) => ({ seq, grantId });

describe('planLanes', () => {
  it('keeps each grant in one lane, in order, and balances lanes', () => {
    const events = [ev(1, 'a'), ev(2, 'b'), ev(3, 'a'), ev(4, 'c'), ev(5, 'd'), ev(6, 'b'), ev(7, 'a'), ev(8, null)];
    const lanes = planLanes(events, { maxBatch: 2, maxInFlight: 3, ordering: 'per-grant' });
    expect(lanes.length).toBe(3);
    const laneOf = new Map<string, number>();
    lanes.forEach((lane, i) => {
      const flat = lane.batches.flat();
      for (const b of lane.batches) expect(b.length).toBeLessThanOrEqual(2);
      for (const e of flat) {
        const g = e.grantId ?? '';
        expect(laneOf.get(g) ?? i).toBe(i);
        laneOf.set(g, i);
      }
      // Within a lane, each grant's events keep log order.
      for (const g of new Set(flat.map((e) => e.grantId))) {
        const seqs = flat.filter((e) => e.grantId === g).map((e) => e.seq);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    });
    expect(lanes.flatMap((l) => l.batches.flat()).length).toBe(events.length);
  });

  it('one grant per lane when there are enough lanes; plain batches without ordering', () => {
    const events = Array.from({ length: 10 }, (_, i) => ev(i, `g${i % 5}`));
    expect(planLanes(events, { maxBatch: 1, maxInFlight: 50, ordering: 'per-grant' })).toHaveLength(5);
    const none = planLanes(events, { maxBatch: 4, maxInFlight: 2, ordering: 'none' });
    expect(none.map((l) => l.batches[0]!.map((e) => e.seq))).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  });
});
