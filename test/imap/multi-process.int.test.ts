import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext, TEST_KEYS, type TestContext } from '../helpers/context.js';
import { Dovecot } from '../helpers/dovecot.js';
import { eventually, seedGrants } from '../helpers/grants.js';
import { spawnTributary, type TributaryProcess } from '../helpers/process.js';
import { rfc822 } from './messages.js';

const GRANTS = 200;

/**
 * Two `tributary worker` processes share 200 IMAP grants on one PostgreSQL. Dovecot allows one
 * connection per user and address, so a grant synced by both workers at once would show up as
 * a refused login in its log. Killing one worker hands its grants to the other.
 */
describe('two worker processes sharing 200 IMAP grants (PostgreSQL)', () => {
  let dovecot: Dovecot;
  let t: TestContext;
  const workers: TributaryProcess[] = [];

  beforeAll(async () => {
    dovecot = await Dovecot.start({ maxUserIpConnections: 1, imapClientLimit: 50, imapProcessLimit: 50 });
    t = await testContext('postgres');
  });
  afterAll(async () => {
    for (const w of workers) await w.kill('SIGKILL');
    await t?.close();
    await dovecot?.destroy();
  });

  it('splits the grants, never syncs one twice, announces each message once, and survives a kill -9', async () => {
    for (let i = 0; i < GRANTS; i++) dovecot.addUser(`mp${i}`, 'pw');
    const { grants } = await seedGrants(t, GRANTS, {
      credentials: (i) => ({ username: `mp${i}`, password: 'pw' }),
      settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none' },
    });
    const env = { DATABASE_URL: t.store.connectionString!, TRIBUTARY_SECRET_KEYS: TEST_KEYS, TRIBUTARY_DATA_DIR: '/nonexistent', TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'true', LOG_LEVEL: 'warn' };
    workers.push(spawnTributary(['worker'], env), spawnTributary(['worker'], env));
    await Promise.all(workers.map((w) => w.waitForOutput(/\(worker\) is running/, 45_000)));

    const holders = async () => {
      const rows = await t.store.db.selectFrom('leases').select(['holder']).where('name', 'like', 'grant-sync:%').where('expires_at', '>', new Date()).execute();
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r.holder, (counts.get(r.holder) ?? 0) + 1);
      return counts;
    };
    const split = await eventually(async () => {
      const c = await holders();
      return c.size === 2 && [...c.values()].every((n) => n === GRANTS / 2) ? c : null;
    }, 60_000, 'an even split of the grants across both workers');
    expect([...split.values()]).toEqual([GRANTS / 2, GRANTS / 2]);
    await eventually(async () => {
      const n = await t.store.db.selectFrom('grants').select('id').where('last_sync_at', 'is not', null).execute();
      return n.length === GRANTS;
    }, 60_000, 'every grant baselined').catch((err: unknown) => {
      console.log(workers.map((w) => w.output().slice(-3000)).join('\n----\n'));
      console.log(dovecot.log().split('\n').filter((l) => /rror|arn|atal|Maximum/.test(l)).slice(0, 20).join('\n'));
      throw err;
    });

    const perGrant = async () => {
      const rows = await t.store.db.selectFrom('events').select(['grant_id']).where('type', '=', 'message.created').execute();
      const counts = new Map<string, number>();
      for (const r of rows) counts.set(r.grant_id!, (counts.get(r.grant_id!) ?? 0) + 1);
      return counts;
    };
    for (let i = 0; i < GRANTS; i++) dovecot.deliver(`mp${i}`, rfc822({ subject: `first ${i}`, text: 'x' }));
    await eventually(async () => [...(await perGrant()).values()].reduce((a, b) => a + b, 0) === GRANTS, 60_000, 'first round announced');
    expect(new Set((await perGrant()).values())).toEqual(new Set([1]));

    // kill -9 one worker: the survivor takes its grants over once their leases expire.
    const [victim, survivor] = workers as [TributaryProcess, TributaryProcess];
    await victim.kill('SIGKILL');
    await eventually(async () => {
      const c = await holders();
      return c.size === 1 && [...c.values()][0] === GRANTS;
    }, 60_000, 'take-over by the surviving worker');
    for (let i = 0; i < GRANTS; i++) dovecot.deliver(`mp${i}`, rfc822({ subject: `second ${i}`, text: 'y' }));
    await eventually(async () => [...(await perGrant()).values()].reduce((a, b) => a + b, 0) === 2 * GRANTS, 60_000, 'second round announced');
    const counts = await perGrant();
    expect(counts.size).toBe(GRANTS);
    expect(new Set(counts.values())).toEqual(new Set([2]));
    expect(grants.every((g) => counts.get(g.id) === 2)).toBe(true);
    expect(survivor.child.exitCode).toBeNull();
    // Dovecot refuses a second concurrent session per user: a double sync would be logged here.
    expect(dovecot.log()).not.toMatch(/Maximum number of connections/);
  }, 240_000);
});
