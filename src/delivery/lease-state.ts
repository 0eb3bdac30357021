import type { Lease } from '../store/repositories/leases.js';
import { streamLease, type Fence } from './fence.js';

/** What a runner's fence sees of its stream lease now. */
export type LeaseState = 'ours' | 'ours-expired' | 'released' | 'retaken' | 'taken' | 'missing';

type Row = (Lease & { live: boolean }) | null;

/**
 * Compares the lease row with the runner's fence. Fenced writes check holder and token only (not
 * expiry), so 'ours-expired' still writes: a write that changed nothing then failed on something
 * else (a replay moved the offset, the stream or the hold row is gone), not on the lease.
 */
export function leaseState(row: Row, mine: Fence): LeaseState {
  if (!row) return 'missing';
  if (row.holder === mine.holder && row.token === mine.token) return row.live ? 'ours' : 'ours-expired';
  if (row.holder === '') return 'released';
  return row.holder === mine.holder ? 'retaken' : 'taken';
}

/**
 * After a fenced write changed nothing: true when the lease is still ours (the write failed on
 * something else, so the runner goes on), false when it is lost (the runner must stop).
 */
export async function leaseStillOurs(leases: { get(name: string): Promise<Row> }, streamId: string, mine: Fence): Promise<boolean> {
  const state = leaseState(await leases.get(streamLease(streamId)), mine);
  return state === 'ours' || state === 'ours-expired';
}

/** The runner's warning for a lease it no longer holds, saying who holds it now. */
export function describeLoss(state: LeaseState, row: Row, mine: Fence): string {
  const now = row ? `now holder "${row.holder}" token ${row.token}` : 'no lease row';
  switch (state) {
    case 'taken':
      return `stream lease taken by another holder (${now}; ours was "${mine.holder}" token ${mine.token}); stopping this runner`;
    case 'retaken':
      return `stream lease was released and taken again by this holder under a new token (${now}; ours was ${mine.token}); stopping this runner`;
    case 'released':
      return `stream lease was released while this runner still ran (token ${row!.token}); stopping this runner`;
    case 'missing':
      return 'stream lease row is gone; stopping this runner';
    default:
      return `a fenced write changed nothing though the stream lease is still ours (${state}, token ${mine.token}): the stream or its row changed meanwhile; stopping this runner`;
  }
}
