import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, testContext, type TestContext } from '../../test/helpers/context.js';
import { FakeMailboxes } from '../../test/helpers/fake-provider.js';
import { eventually, seedGrants } from '../../test/helpers/grants.js';
import { ProviderError, type ProviderSource } from '../providers/provider.js';
import type { GrantRow } from '../store/database.js';
import { queueHint, requestSync } from './hints.js';
import { startSync } from './index.js';
import { grantLeaseName } from './leases.js';
import { watchLog } from '../event-log/notify.js';
import { commitBatch, GrantGoneError, LeaseLostError } from './outbox.js';
import type { SchedulerOptions, SyncScheduler } from './scheduler.js';

const FAST: Partial<SchedulerOptions> = {
  leaseTtlMs: 1500,
  tickMs: 200,
  hintPollMs: 100,
  fallbackSyncMs: 60_000,
  backoff: { baseMs: 50, maxMs: 200 },
  startSpreadMs: 50,
  reauthWindowMs: 0,
};

describe.each(DATABASES)('sync engine on %s', (kind) => {
  let t: TestContext;
  let fake: FakeMailboxes;
  const schedulers: SyncScheduler[] = [];
  const start = async (holder: string, overrides: Partial<SchedulerOptions> = {}) => {
    const s = await startSync(t, holder, { ...FAST, ...overrides }, (p) => (p === 'imap' ? fake.definition() : undefined));
    schedulers.push(s);
    return s;
  };
  const messageEvents = (grantId: string) =>
    t.store.db.selectFrom('events').select(['id', 'type', 'object']).where('grant_id', '=', grantId).where('type', '=', 'message.created').orderBy('seq').execute();
  const cursorOf = async (grantId: string) => ((await t.repos.grants.getById(grantId))!.sync_state as { cursor?: { seen: number } }).cursor;

  beforeEach(async () => {
    t = await testContext(kind);
    fake = new FakeMailboxes();
  });
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop();
    await t.close();
  });

  it('starts a fresh grant at "now", then announces new mail once and saves the cursor with it', async () => {
    const { grants } = await seedGrants(t, 1);
    const g = grants[0]!;
    fake.add(g.id, 'old-1', 'old-2');
    await start('w1');
    expect(await eventually(() => cursorOf(g.id), 5000, 'baseline')).toEqual({ seen: 2 });
    expect(await messageEvents(g.id)).toHaveLength(0);

    fake.add(g.id, 'new-1', 'new-2', 'new-3');
    fake.push(g.id);
    const events = await eventually(async () => ((await messageEvents(g.id)).length === 3 ? messageEvents(g.id) : null), 5000, 'three events');
    expect(events.map((e) => (e.object as { id: string }).id)).toEqual(['new-1', 'new-2', 'new-3']);
    expect(await cursorOf(g.id)).toEqual({ seen: 5 });
    const row = await t.repos.grants.getById(g.id);
    expect(row!.last_sync_at).not.toBeNull();
  });

  it('wakes the lease holder within milliseconds through requestSync, in-process and through the hints table', async () => {
    const { grants } = await seedGrants(t, 1);
    const g = grants[0]!;
    await start('w1');
    await eventually(() => cursorOf(g.id), 5000, 'baseline');

    fake.add(g.id, 'a');
    const t0 = Date.now();
    expect(await requestSync(t, g.id, 'inbound notification')).toBe('local');
    await eventually(async () => (await messageEvents(g.id)).length === 1, 5000, 'local hint');
    expect(Date.now() - t0).toBeLessThan(1000);

    // The path another process takes: a row in sync_hints (+ NOTIFY on PostgreSQL).
    fake.add(g.id, 'b');
    await queueHint(t, g.id, 'graph notification');
    await eventually(async () => (await messageEvents(g.id)).length === 2, 5000, 'queued hint');
    await eventually(async () => (await t.store.db.selectFrom('sync_hints').select('grant_id').execute()).length === 0, 3000, 'hint consumed');
  });

  it('re-baselines without announcing when the provider loses the position', async () => {
    const { grants } = await seedGrants(t, 1);
    const g = grants[0]!;
    await start('w1');
    await eventually(() => cursorOf(g.id), 5000, 'baseline');
    fake.add(g.id, 'x1', 'x2');
    fake.resets.add(g.id);
    fake.push(g.id);
    await eventually(async () => (await cursorOf(g.id))?.seen === 2, 5000, 'new baseline');
    fake.push(g.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(await messageEvents(g.id)).toHaveLength(0);
  });

  it('expires a grant after repeated credential failures with exactly one grant.expired, and keeps others syncing', async () => {
    const { grants } = await seedGrants(t, 2);
    const [bad, good] = [grants[0]!, grants[1]!];
    fake.failures.set(bad.id, new ProviderError('reauth', 'AUTHENTICATIONFAILED'));
    await start('w1');
    await eventually(async () => (await t.repos.grants.getById(bad.id))!.status === 'expired', 8000, 'expired');
    await eventually(() => cursorOf(good.id), 5000, 'good baseline');
    fake.add(good.id, 'g1');
    fake.push(good.id);
    await eventually(async () => (await messageEvents(good.id)).length === 1, 5000, 'good grant keeps syncing');
    await new Promise((r) => setTimeout(r, 500));
    const expired = await t.store.db.selectFrom('events').select('id').where('grant_id', '=', bad.id).where('type', '=', 'grant.expired').execute();
    expect(expired).toHaveLength(1);
    expect((await t.repos.grants.getById(bad.id))!.error).toContain('AUTHENTICATIONFAILED');
  });

  it('does not expire a grant whose logins are refused only briefly (reauth window)', async () => {
    const { grants } = await seedGrants(t, 1);
    const g = grants[0]!;
    fake.failures.set(g.id, new ProviderError('reauth', 'AUTHENTICATIONFAILED'));
    await start('w1', { reauthWindowMs: 60_000 });
    await eventually(() => (t.logs.text.match(/backing off/g) ?? []).length >= 4, 8000, 'several refused logins');
    expect((await t.repos.grants.getById(g.id))!.status).toBe('valid');
    fake.failures.delete(g.id);
    await eventually(() => cursorOf(g.id), 5000, 'recovered');
    expect((await t.store.db.selectFrom('events').select('id').where('type', '=', 'grant.expired').execute()).length).toBe(0);
  });

  it('expires at once, within the reauth window, when the refusal is unambiguous (revoked user)', async () => {
    const { grants } = await seedGrants(t, 1);
    const g = grants[0]!;
    fake.failures.set(g.id, new ProviderError('reauth', 'AADSTS50173: the grant was revoked', undefined, true));
    await start('w1', { reauthWindowMs: 60 * 60_000 });
    await eventually(async () => (await t.repos.grants.getById(g.id))!.status === 'expired', 8000, 'expired');
    const expired = await t.store.db.selectFrom('events').select('id').where('grant_id', '=', g.id).where('type', '=', 'grant.expired').execute();
    expect(expired).toHaveLength(1);
  });

  it('backs off a transiently failing grant and recovers when the provider does', async () => {
    const { grants } = await seedGrants(t, 1);
    const g = grants[0]!;
    fake.failures.set(g.id, new Error('ECONNRESET'));
    await start('w1');
    await new Promise((r) => setTimeout(r, 600));
    expect((await t.repos.grants.getById(g.id))!.status).toBe('valid');
    expect(t.logs.text).toContain('backing off');
    fake.failures.delete(g.id);
    await eventually(() => cursorOf(g.id), 5000, 'recovered');
  });

  it('refuses a commit from a holder whose lease moved (fencing token)', async () => {
    const { grants, applicationId } = await seedGrants(t, 1);
    const g = grants[0]!;
    const name = grantLeaseName(g.id);
    const first = (await t.repos.leases.acquire(name, 'old', 1))!;
    await new Promise((r) => setTimeout(r, 20));
    const second = (await t.repos.leases.acquire(name, 'new', 10_000))!;
    expect(second.token).not.toBe(first.token);
    await expect(commitBatch(t.store.db, { name, holder: 'old', token: first.token }, { id: g.id, applicationId }, { events: [], cursor: { seen: 9 } })).rejects.toBeInstanceOf(LeaseLostError);
    await commitBatch(t.store.db, { name, holder: 'new', token: second.token }, { id: g.id, applicationId }, { events: [], cursor: { seen: 1 } });
    expect(await cursorOf(g.id)).toEqual({ seen: 1 });
  });

  it('keeps counting tokens across a release: a late commit of the same holder’s earlier tenure is refused', async () => {
    const { grants, applicationId } = await seedGrants(t, 1);
    const g = grants[0]!;
    const name = grantLeaseName(g.id);
    const earlier = (await t.repos.leases.acquire(name, 'w', 10_000))!;
    await t.repos.leases.release(name, 'w');
    expect(await t.repos.leases.holds(name, 'w', earlier.token)).toBe(false);
    expect(await t.repos.leases.list(name)).toEqual([]);
    const again = (await t.repos.leases.acquire(name, 'w', 10_000))!;
    expect(Number(again.token)).toBeGreaterThan(Number(earlier.token));
    await expect(commitBatch(t.store.db, { name, holder: 'w', token: earlier.token }, { id: g.id, applicationId }, { events: [], cursor: { seen: 9 } })).rejects.toBeInstanceOf(LeaseLostError);
    // A live lease renewed by its holder keeps its token.
    expect((await t.repos.leases.acquire(name, 'w', 10_000))!.token).toBe(again.token);
  });

  it('reads ahead for a session that allows it, and still commits every batch once, in order, with its cursor', async () => {
    fake.readAhead = true;
    const { grants } = await seedGrants(t, 1);
    const g = grants[0]!;
    await start('w-ahead');
    await eventually(() => cursorOf(g.id), 5000, 'baseline');
    const ids = Array.from({ length: 9 }, (_, i) => `ahead-${i}`);
    fake.add(g.id, ...ids);
    fake.delayMs = 20;
    fake.push(g.id);
    const events = await eventually(async () => ((await messageEvents(g.id)).length === 9 ? messageEvents(g.id) : null), 10_000, 'nine events');
    expect(events.map((e) => (e.object as { id: string }).id)).toEqual(ids);
    expect(await cursorOf(g.id)).toEqual({ seen: 9 });
    // Five batches of two, each asked for once, in order.
    expect(fake.asked.get(g.id)).toEqual([0, 1, 2, 3, 4]);
  });

  it('commits a batch with its cursor atomically: replays dropped, nothing written without the lease or the grant, the log notified', async () => {
    const { grants, applicationId } = await seedGrants(t, 1);
    const g = grants[0]!;
    const name = grantLeaseName(g.id);
    const held = (await t.repos.leases.acquire(name, 'w', 10_000))!;
    const lease = { name, holder: 'w', token: held.token };
    const ev = (id: string) => ({ id, type: 'message.created' as const, source: '/test', time: 1, grantId: g.id, provider: 'imap' as const, object: { id } });
    const log = await watchLog(t.store);
    const heard: string[] = [];
    const off = log.subscribe((app) => heard.push(app));
    try {
      await t.repos.grants.update(g.id, { syncState: { other: 'kept' } });
      const first = await commitBatch(t.store.db, lease, { id: g.id, applicationId }, { events: [ev('c1'), ev('c2')], cursor: { seen: 2 }, progress: { backfill: { done: 2 } } });
      expect(first.map((e) => e.id)).toEqual(['c1', 'c2']);
      await eventually(() => heard.includes(applicationId), 5000, 'the commit notification');
      // A replay of c2 next to a new event: only c3 is new, and the cursor moves.
      const second = await commitBatch(t.store.db, lease, { id: g.id, applicationId }, { events: [ev('c2'), ev('c3')], cursor: { seen: 3 } });
      expect(second.map((e) => e.id)).toEqual(['c3']);
      expect((await t.repos.grants.getById(g.id))!.sync_state).toEqual({ other: 'kept', cursor: { seen: 3 }, progress: { backfill: { done: 2 } } });
      await expect(commitBatch(t.store.db, { ...lease, token: '0' }, { id: g.id, applicationId }, { events: [ev('c4')], cursor: { seen: 4 } })).rejects.toBeInstanceOf(LeaseLostError);
      await t.repos.grants.update(g.id, { status: 'revoked' });
      await expect(commitBatch(t.store.db, lease, { id: g.id, applicationId }, { events: [ev('c5')], cursor: { seen: 5 } })).rejects.toBeInstanceOf(GrantGoneError);
      const ids = (await t.store.db.selectFrom('events').select('id').where('grant_id', '=', g.id).orderBy('seq').execute()).map((r) => r.id);
      expect(ids).toEqual(['c1', 'c2', 'c3']);
      expect(await cursorOf(g.id)).toEqual({ seen: 3 });
    } finally {
      off();
      await log.close();
    }
  });

  it('gives a grant back only after a login still in flight at the stop has landed and been closed', async () => {
    await seedGrants(t, 1);
    let open = 0;
    let started = 0;
    let landed = 0;
    const slowOpen: ProviderSource = {
      id: 'imap',
      classifyTokenError: () => 'transient',
      open: async () => {
        started++;
        await new Promise((r) => setTimeout(r, 600)); // a slow login: the stop comes in the middle
        landed++;
        open++;
        return { baseline: async () => ({}), changes: async function* () {}, close: async () => void open-- };
      },
    };
    const s = await startSync(t, 'slow', { ...FAST, startSpreadMs: 0 }, (p) => (p === 'imap' ? slowOpen : undefined));
    await eventually(() => started === 1, 5000, 'the login started');
    await s.stop();
    // The login landed after the stop began, and its session is closed by the time the stop (and the lease) is given back.
    expect(landed).toBe(1);
    expect(open).toBe(0);
  });

  it('spreads grants across workers, never syncs one grant twice at once, and moves a dead worker’s grants', async () => {
    const { grants } = await seedGrants(t, 30);
    fake.delayMs = 5;
    const a = await start('wa');
    const b = await start('wb');
    await eventually(() => a.held().length === 15 && b.held().length === 15, 10_000, 'even split');
    expect(new Set([...a.held(), ...b.held()]).size).toBe(30);
    for (const g of grants) fake.add(g.id, `${g.id}-m`);
    for (const g of grants) fake.push(g.id);
    await eventually(async () => (await t.store.db.selectFrom('events').select('id').where('type', '=', 'message.created').execute()).length === 30, 10_000, 'all announced');

    expect(fake.maxOpen).toBe(1);

    // "Kill" worker a: its timers stop without giving leases back; b takes over after the TTL.
    const orphaned = a.held();
    (a as unknown as { stopped: boolean }).stopped = true;
    clearTimeout((a as unknown as { timer: NodeJS.Timeout }).timer);
    await eventually(() => b.held().length === 30, 10_000, 'take-over');
    for (const id of orphaned) fake.add(id, `${id}-after`);
    for (const id of orphaned) fake.push(id);
    await eventually(async () => (await t.store.db.selectFrom('events').select('id').where('type', '=', 'message.created').execute()).length === 45, 10_000, 'announced after take-over');
    // a's syncers still run (its "process" is frozen, not gone) but every commit of theirs is fenced.
    await a.stop();
    schedulers.splice(schedulers.indexOf(a), 1);
  });
});

describe('a hung mailbox (PostgreSQL)', () => {
  let t: TestContext;
  const schedulers: SyncScheduler[] = [];
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop();
    await t.close();
  });

  it('neither stalls lease renewal of the worker\'s other grants nor its own retries', async () => {
    t = await testContext('postgres');
    const fake = new FakeMailboxes();
    const { grants } = await seedGrants(t, 3);
    const [stuck, released, healthy] = grants as [GrantRow, GrantRow, GrantRow];
    const s = await startSync(t, 'w-hang', { ...FAST, leaseTtlMs: 1000, callTimeoutMs: 500 }, (p) => (p === 'imap' ? fake.definition() : undefined));
    schedulers.push(s);
    await eventually(() => s.held().length === 3, 5000, 'all held');
    const tokenOf = async (id: string) => (await t.store.db.selectFrom('leases').select(['token', 'holder']).where('name', '=', grantLeaseName(id)).where('expires_at', '>', new Date()).executeTakeFirst()) ?? null;
    const before = await tokenOf(healthy.id);
    const opened = fake.opened;

    // Two mailboxes hang: one is abandoned by the call deadline and retried, one must be stopped.
    fake.hung.add(stuck.id).add(released.id);
    fake.push(stuck.id);
    fake.push(released.id);
    await new Promise((r) => setTimeout(r, 300));
    await t.store.db.updateTable('grants').set({ status: 'invalid' }).where('id', '=', released.id).execute();
    // Several lease lifetimes: a tick blocked on stopping `released` would let the others expire.
    await new Promise((r) => setTimeout(r, 3500));
    expect(await tokenOf(healthy.id)).toEqual(before);
    expect((await tokenOf(stuck.id))?.holder).toBe('w-hang');
    expect(s.held().sort()).toEqual([stuck.id, healthy.id].sort());
    // The hung pass was abandoned at its deadline, the session dropped, and the grant retried.
    expect(fake.opened).toBeGreaterThan(opened);
    fake.hung.clear();
    fake.add(healthy.id, 'still-flowing');
    fake.push(healthy.id);
    await eventually(async () => (await t.store.db.selectFrom('events').select('id').where('grant_id', '=', healthy.id).execute()).length === 1, 5000, 'the healthy grant syncing');
  }, 30_000);
});

describe('IMAP host re-check on every connect (DNS rebinding)', () => {
  let t: TestContext;
  const schedulers: SyncScheduler[] = [];
  afterEach(async () => {
    for (const s of schedulers.splice(0)) await s.stop();
    await t.close();
  });

  it('never opens a session to a host that now resolves to a private address', async () => {
    t = await testContext('pglite', { TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'false' });
    const fake = new FakeMailboxes();
    // Custom auth saw a public address; the name now answers with loopback.
    const { grants } = await seedGrants(t, 1, { settings: { imap_host: 'localhost', imap_port: 143 } });
    const s = await startSync(t, 'w-rebind', FAST, (p) => (p === 'imap' ? fake.definition() : undefined));
    schedulers.push(s);
    await eventually(() => t.logs.text.includes('refusing to connect: localhost resolves to'), 5000, 'the refusal logged');
    expect(fake.open.get(grants[0]!.id) ?? 0).toBe(0);
  });
});
