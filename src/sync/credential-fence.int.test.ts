import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, testContext, type TestContext } from '../../test/helpers/context.js';
import { FakeMailboxes } from '../../test/helpers/fake-provider.js';
import { eventually, seedGrants } from '../../test/helpers/grants.js';
import type { ProviderContext, ProviderSource } from '../providers/provider.js';
import { startSync } from './index.js';
import { grantLeaseName } from './leases.js';
import { LeaseLostError } from './outbox.js';

/**
 * A stop abandons a provider call that ignores its signal (grant-syncer.ts `deadline`), so the
 * call may finish after the lease was given back and another worker took the grant. Whatever it
 * then saves (a rotated refresh token, a Graph subscription) must not overwrite the new holder's.
 */
describe.each(DATABASES)('credentials saved by a session that lost its grant (%s)', (kind) => {
  let t: TestContext;
  beforeEach(async () => {
    t = await testContext(kind);
  });
  afterEach(() => t.close());

  it('are refused with LeaseLostError and leave the new holder’s credentials intact', async () => {
    const fake = new FakeMailboxes();
    const inner = fake.definition();
    let pctx: ProviderContext | null = null;
    const source: ProviderSource = {
      ...inner,
      open: async (grant, c) => {
        pctx = c;
        return inner.open(grant, c);
      },
    };
    const { grants } = await seedGrants(t, 1, { credentials: () => ({ refresh_token: 'rt-0' }) });
    const g = grants[0]!;
    const stored = async () => t.repos.grants.openCredentials((await t.repos.grants.getById(g.id))!);
    const sync = await startSync(t, 'w1', { tickMs: 200, hintPollMs: 100, startSpreadMs: 0, leaseTtlMs: 1500 }, (p) => (p === 'imap' ? source : undefined));
    const ctx = await eventually(() => pctx, 5000, 'the session');
    // While the lease is held, saves go through.
    await ctx.saveCredentials({ refresh_token: 'rt-1' });
    expect(await stored()).toEqual({ refresh_token: 'rt-1' });

    await sync.stop();
    const other = await t.repos.leases.acquire(grantLeaseName(g.id), 'w2', 10_000);
    expect(other?.holder).toBe('w2');
    await t.repos.grants.update(g.id, { credentials: { refresh_token: 'rt-2' } });

    // The first session's late save (an abandoned refresh finishing now) is fenced out.
    await expect(ctx.saveCredentials({ refresh_token: 'rt-1-stale' })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await stored()).toEqual({ refresh_token: 'rt-2' });
  });
});
