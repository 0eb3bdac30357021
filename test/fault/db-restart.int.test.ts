import { afterAll, describe, expect, it } from 'vitest';
import { FaultRig } from './harness.js';

/**
 * PostgreSQL restarts twice (fast shutdown: every session is terminated with 57P01) while
 * IMAP mail flows through two workers into a webhook: the workers stay up, reconnect by
 * themselves, and every message arrives, once per event id, in per-grant order.
 */
describe('PostgreSQL restarts during a steady stream', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => rig?.close());

  it('workers survive two restarts and deliver everything', async () => {
    rig = await FaultRig.start({ workers: 2, grants: 4 });
    await rig.baselined();
    rig.startAppending(300);
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 2_000));
      rig.restartPostgres();
    }
    await new Promise((r) => setTimeout(r, 2_000));
    await rig.stopAppend();
    const tally = await rig.settle(60_000);
    expect(rig.live().length, rig.output()).toBe(2);
    expect(tally.expected).toBeGreaterThan(0);
    expect(tally, rig.output()).toMatchObject({ missingEvents: 0, extraEvents: 0, lost: 0, reordered: 0, idMismatches: 0 });
    expect(tally.delivered).toBe(tally.expected);
  }, 180_000);
});
