import type { DestinationLimits } from '../destinations/destination.js';

/**
 * Splits a window of events into lanes that may be written concurrently. With per-grant
 * ordering, every grant lives in exactly one lane and a lane writes its batches one after the
 * other, so a grant's events arrive in log order while different grants go out in parallel.
 * Grants are spread over at most `maxInFlight` lanes, each new grant to the lane with the fewest
 * events, so batches can still hold many grants (bulk sinks) and lanes stay balanced.
 */
export interface Lane<E> {
  batches: E[][];
}

interface Keyed {
  grantId: string | null;
}

function chunk<E>(items: E[], size: number): E[][] {
  const out: E[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function planLanes<E extends Keyed>(events: readonly E[], limits: Pick<DestinationLimits, 'maxBatch' | 'maxInFlight' | 'ordering'>): Lane<E>[] {
  const maxBatch = Math.max(1, limits.maxBatch);
  const maxLanes = Math.max(1, limits.maxInFlight);
  if (limits.ordering === 'none') {
    // No order to keep: contiguous batches, run with up to maxInFlight at a time.
    return chunk([...events], maxBatch).map((b) => ({ batches: [b] }));
  }
  const perGrant = new Map<string, E[]>();
  for (const e of events) {
    const key = e.grantId ?? '';
    const list = perGrant.get(key);
    if (list) list.push(e);
    else perGrant.set(key, [e]);
  }
  const lanes: E[][] = [];
  for (const group of perGrant.values()) {
    if (lanes.length < maxLanes) {
      lanes.push([...group]);
      continue;
    }
    let smallest = lanes[0]!;
    for (const l of lanes) if (l.length < smallest.length) smallest = l;
    smallest.push(...group);
  }
  return lanes.map((l) => ({ batches: chunk(l, maxBatch) }));
}
