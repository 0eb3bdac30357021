import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GRANT_LEASE_PREFIX, liveWorkers } from '../../src/sync/leases.js';
import { TEST_KEYS } from '../helpers/context.js';
import { eventually } from '../helpers/grants.js';
import { spawnTributary, type TributaryProcess } from '../helpers/process.js';
import { microsoftHarness, type Harness } from './harness.js';

/**
 * The API (this process) receives Graph notifications; two `tributary worker` processes share
 * the grants on PostgreSQL. Hints cross processes (sync_hints + NOTIFY); every grant is synced by
 * exactly one worker at a time; a killed worker's grants move to the survivor without losing or
 * doubling mail. PostgreSQL only: the embedded database admits one process.
 */
describe('Microsoft grants across two worker processes (postgres)', () => {
  let h: Harness;
  const workers: TributaryProcess[] = [];
  const mails = Array.from({ length: 6 }, (_, i) => `w${i}@contoso.com`);
  const grants: string[] = [];

  const count = async () => {
    const rows = await h.api.ctx.store.db.selectFrom('events').select(['id', 'grant_id']).where('type', '=', 'message.created').execute();
    return { total: rows.length, unique: new Set(rows.map((r) => r.id)).size };
  };
  const holders = async () => {
    return h.api.ctx.repos.leases.list(GRANT_LEASE_PREFIX);
  };

  beforeAll(async () => {
    h = await microsoftHarness('postgres', { env: { TRIBUTARY_FALLBACK_SYNC_MS: '600000' } });
    const env = {
      DATABASE_URL: h.api.ctx.store.connectionString!,
      PUBLIC_URL: h.publicUrl,
      TRIBUTARY_SECRET_KEYS: TEST_KEYS,
      TRIBUTARY_DATA_DIR: '/nonexistent',
      TRIBUTARY_MICROSOFT_LOGIN_URL: h.sb.url,
      TRIBUTARY_MICROSOFT_GRAPH_URL: h.sb.graphUrl,
      TRIBUTARY_FALLBACK_SYNC_MS: '600000',
      LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < 2; i++) workers.push(spawnTributary(['worker'], env));
    // Each worker runs the TypeScript sources (tsx): under a loaded CI machine its start-up alone
    // takes tens of seconds. Wait for both heartbeats here, so the test's own waits measure sync
    // work, not start-up, and the grants are shared from the start instead of being claimed by
    // whichever worker came up first and then handed over mid-pass.
    const died = workers.map((w) => w.exited.then((code) => Promise.reject(new Error(`a worker exited (${code}) during start-up:\n${w.output()}`))));
    await Promise.race([eventually(async () => (await liveWorkers(h.api.ctx.store.db)) === workers.length, 100_000, 'both workers to start (their sync-worker heartbeats)'), ...died]);
    for (const d of died) d.catch(() => undefined);
    for (const m of mails) {
      h.sb.control.createUser({ mail: m });
      grants.push((await h.grant(m)).grant_id);
    }
  }, 150_000);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await h?.close();
  });

  it('spreads the grants, syncs each once, and survives kill -9 of a worker', async () => {
    await eventually(() => h.sb.control.listSubscriptions().length === mails.length, 60_000, 'a subscription per grant');
    await eventually(async () => new Set((await holders()).map((l) => l.holder)).size === 2 && (await holders()).length === mails.length, 30_000, 'grants spread over both workers');
    // One holder per grant lease, by construction of the table (name is the primary key): check it is a worker of ours.
    expect((await holders()).every((l) => !l.holder.startsWith('token-refresh:'))).toBe(true);

    for (let round = 0; round < 3; round++) for (const m of mails) h.sb.control.deliverMail(m, { from: 'a@example.com', subject: `round ${round}` });
    await eventually(async () => (await count()).total === 18, 20_000, '18 events');

    // kill -9 one worker: its leases expire and the survivor takes its grants over.
    const victim = workers[0]!;
    await victim.kill('SIGKILL');
    for (const m of mails) h.sb.control.deliverMail(m, { from: 'a@example.com', subject: 'after the crash' });
    await eventually(async () => (await count()).total === 24, 45_000, '24 events after takeover');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await count()).toEqual({ total: 24, unique: 24 });
    expect(new Set((await holders()).map((l) => l.holder)).size).toBe(1);
  }, 120_000);
});
