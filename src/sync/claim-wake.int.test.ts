import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, testContext, type TestContext } from '../../test/helpers/context.js';
import { FakeMailboxes } from '../../test/helpers/fake-provider.js';
import { eventually, seedGrants } from '../../test/helpers/grants.js';
import type { ProviderSource } from '../providers/provider.js';
import { startSync } from './index.js';
import type { SchedulerOptions, SyncScheduler } from './scheduler.js';

/**
 * A tick far longer than any wait below: whatever is claimed within WELL_UNDER_TICK was claimed
 * by a wake-up, never by the tick. Leases live longer than the tick so that nothing expires.
 */
const LONG_TICK: Partial<SchedulerOptions> = {
  tickMs: 120_000,
  leaseTtlMs: 300_000,
  hintPollMs: 100,
  fallbackSyncMs: 600_000,
  backoff: { baseMs: 50, maxMs: 200 },
  startSpreadMs: 50,
  reauthWindowMs: 0,
};
/** Generous for PGlite on a loaded machine (its first test there takes ~1.5 s); typically tens of ms. */
const WELL_UNDER_TICK = 5_000;

describe.each(DATABASES)('claiming without waiting for the tick, on %s', (kind) => {
  let t: TestContext;
  let fake: FakeMailboxes;
  /** When each grant's session was opened (ms since the epoch), in order. */
  let opens: Map<string, number>;
  const schedulers: SyncScheduler[] = [];
  const definition = (): ProviderSource => {
    const inner = fake.definition();
    return {
      ...inner,
      open: (grant, pctx) => {
        if (!opens.has(grant.id)) opens.set(grant.id, Date.now());
        return inner.open(grant, pctx);
      },
    };
  };
  const start = async (holder: string, overrides: Partial<SchedulerOptions> = {}) => {
    const s = await startSync(t, holder, { ...LONG_TICK, ...overrides }, (p) => (p === 'imap' ? definition() : undefined));
    schedulers.push(s);
    return s;
  };
  const baselined = async (grantId: string) => ((await t.repos.grants.getById(grantId))!.sync_state as { cursor?: unknown }).cursor !== undefined;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeEach(async () => {
    t = await testContext(kind);
    fake = new FakeMailboxes();
    opens = new Map();
  });
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop();
    await t.close();
  });

  it('starts a grant created after the worker started within milliseconds, not at the next tick (and only at the tick when switched off)', async () => {
    await seedGrants(t, 0);
    const on = await start('w-on');
    const t0 = Date.now();
    const { grants } = await seedGrants(t, 1);
    const g = grants[0]!;
    await eventually(() => baselined(g.id), WELL_UNDER_TICK, 'first pass of the new grant');
    expect(opens.get(g.id)! - t0).toBeLessThan(WELL_UNDER_TICK);
    expect(on.held()).toEqual([g.id]);
    await on.stop();
    schedulers.splice(0);

    // The same with the wake-up off: the grant waits for a tick that does not come in time.
    const off = await start('w-off', { wakeOnClaimable: false });
    const { grants: later } = await seedGrants(t, 1);
    await sleep(2_000);
    expect(opens.has(later[0]!.id)).toBe(false);
    expect(off.held()).not.toContain(later[0]!.id);
  });

  it('starts a grant that becomes valid again (re-authenticated) at once', async () => {
    const { grants } = await seedGrants(t, 1);
    const g = grants[0]!;
    await t.repos.grants.update(g.id, { status: 'expired', error: 'AUTHENTICATIONFAILED' });
    const s = await start('w1');
    await sleep(200);
    expect(s.held()).toEqual([]);
    const t0 = Date.now();
    await t.repos.grants.update(g.id, { status: 'valid', error: null });
    await eventually(() => baselined(g.id), WELL_UNDER_TICK, 'first pass after re-authentication');
    expect(opens.get(g.id)! - t0).toBeLessThan(WELL_UNDER_TICK);
  });

  it('wakes another scheduler on the same database: new grants split by fair share, and a stopping worker’s grants move at once', async () => {
    await seedGrants(t, 0);
    const a = await start('wa');
    const b = await start('wb');
    const { grants } = await seedGrants(t, 4);
    await eventually(() => a.held().length === 2 && b.held().length === 2, WELL_UNDER_TICK, 'two each');
    for (const g of grants) await eventually(() => baselined(g.id), WELL_UNDER_TICK, 'first passes');

    // a gives its grants and its worker lease back; b's share becomes 4 and it claims them now.
    const moved = a.held();
    const t0 = Date.now();
    await a.stop();
    schedulers.splice(schedulers.indexOf(a), 1);
    await eventually(() => b.held().length === 4, WELL_UNDER_TICK, 'b took over');
    expect(Date.now() - t0).toBeLessThan(WELL_UNDER_TICK);
    expect(b.held()).toEqual(expect.arrayContaining(moved));
    expect(fake.maxOpen).toBe(1);
  });

  it('still spreads the first passes of many grants that become claimable together', async () => {
    const { applicationId, integrationId } = await seedGrants(t, 0);
    await start('w1', { startSpreadMs: 1_000 });
    // 100 grants in one transaction: one commit, so one claim round takes them all (window min(1 s, 100 × 10 ms)).
    await t.store.db.transaction().execute(async (tx) => {
      for (let i = 0; i < 100; i++) {
        await t.repos.grants.create({ applicationId, integrationId, provider: 'imap', email: `bulk${i}@example.test`, scope: [], credentials: { password: 'x' }, providerUserId: `bulk${i}` }, tx);
      }
    });
    const t0 = Date.now();
    await eventually(() => opens.size === 100, 30_000, 'all started');
    const times = [...opens.values()].sort((x, y) => x - y);
    expect(times[0]! - t0).toBeLessThan(WELL_UNDER_TICK);
    // Uniform over 1 s: the middle half of them takes about 500 ms; all at once would be a few ms.
    expect(times[75]! - times[25]!).toBeGreaterThan(200);
  });
});
