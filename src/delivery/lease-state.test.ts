import { describe, expect, it } from 'vitest';
import { describeLoss, leaseState, leaseStillOurs } from './lease-state.js';

const mine = { holder: 'w1', token: '4' };
const row = (holder: string, token: string, live = true) => ({ name: 'stream:s', holder, token, expiresAt: new Date(0), live });

describe('leaseState', () => {
  it('tells an expired lease still ours (the fence still passes) from one released, re-taken or taken', () => {
    expect(leaseState(row('w1', '4'), mine)).toBe('ours');
    expect(leaseState(row('w1', '4', false), mine)).toBe('ours-expired');
    expect(leaseState(row('', '4', false), mine)).toBe('released');
    expect(leaseState(row('w1', '5'), mine)).toBe('retaken');
    expect(leaseState(row('w2', '5'), mine)).toBe('taken');
    expect(leaseState(null, mine)).toBe('missing');
  });

  it('names another process only when another holder has the lease', () => {
    expect(describeLoss('taken', row('w2', '5'), mine)).toContain('taken by another holder (now holder "w2" token 5; ours was "w1" token 4)');
    expect(describeLoss('retaken', row('w1', '5'), mine)).toContain('taken again by this holder under a new token');
    expect(describeLoss('released', row('', '4', false), mine)).toContain('released while this runner still ran');
    for (const s of ['released', 'retaken', 'ours', 'ours-expired'] as const) expect(describeLoss(s, row('w1', '4'), mine)).not.toContain('another');
  });

  it('after a fenced write that changed nothing, goes on only while the lease is ours (expired or not)', async () => {
    const asked: string[] = [];
    const leases = (r: ReturnType<typeof row> | null) => ({ get: async (name: string) => (asked.push(name), r) });
    expect(await leaseStillOurs(leases(row('w1', '4')), 's', mine)).toBe(true);
    expect(await leaseStillOurs(leases(row('w1', '4', false)), 's', mine)).toBe(true);
    for (const r of [row('', '4', false), row('w1', '5'), row('w2', '5'), null]) expect(await leaseStillOurs(leases(r), 's', mine)).toBe(false);
    expect(new Set(asked)).toEqual(new Set(['stream:s']));
  });
});
