import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MessageObject } from '../../src/domain/event.js';
import { startSync } from '../../src/sync/index.js';
import type { SchedulerOptions, SyncScheduler } from '../../src/sync/scheduler.js';
import { DATABASES, testContext, type TestContext } from '../helpers/context.js';
import { Dovecot } from '../helpers/dovecot.js';
import { eventually, seedGrants } from '../helpers/grants.js';
import { rfc822 } from './messages.js';
import { oddMimeCorpus } from './odd-mime.js';

const FAST: Partial<SchedulerOptions> = { leaseTtlMs: 3000, tickMs: 300, hintPollMs: 200, fallbackSyncMs: 60_000, backoff: { baseMs: 100, maxMs: 800 }, startSpreadMs: 0, reauthWindowMs: 0 };

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
});
afterAll(async () => {
  await dovecot?.destroy();
});

describe.each(DATABASES)('IMAP source robustness on %s', (kind) => {
  let t: TestContext;
  let scheduler: SyncScheduler | null = null;
  let user: string;
  const password = 'pw-robust';

  const grantFor = async (u: string, settings: Record<string, unknown> = {}) =>
    (await seedGrants(t, 1, { credentials: () => ({ username: u, password }), settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none', ...settings } })).grants[0]!;
  const messageEvents = (grantId: string) => t.store.db.selectFrom('events').where('grant_id', '=', grantId).where('type', 'like', 'message.%');
  const messages = async (grantId: string) =>
    (await messageEvents(grantId).select(['id', 'type', 'object']).orderBy('seq').execute()).map((e) => ({ type: e.type, m: e.object as unknown as MessageObject }));
  // What a wait polls: reading thousands of full events every 25 ms starves the sync it waits for
  // (on PGlite both share one thread and one connection), so waits count and read the events once.
  const countMessages = async (grantId: string) => Number((await messageEvents(grantId).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  beforeEach(async () => {
    t = await testContext(kind);
    user = `r${Math.random().toString(36).slice(2, 10)}`;
    dovecot.addUser(user, password);
  });
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = null;
    await t.close();
  });

  it('announces every message of the odd-MIME corpus with what could be parsed', async () => {
    const corpus = oddMimeCorpus();
    const g = await grantFor(user);
    scheduler = await startSync(t, 'w1', FAST);
    await eventually(async () => (await t.repos.grants.getById(g.id))!.sync_state.cursor, 10_000, 'baseline');
    for (const c of corpus) await dovecot.append(user, password, c.raw);
    await eventually(async () => (await countMessages(g.id)) >= corpus.length, 30_000, 'all corpus messages');
    const got = await messages(g.id);
    expect(got).toHaveLength(corpus.length);
    corpus.forEach((c, i) => {
      const { type, m } = got[i]!;
      const what = `${c.name}: ${JSON.stringify({ ...m, body: m.body?.slice(0, 200) })}`;
      if (typeof c.expect.subject === 'string') expect(m.subject, what).toBe(c.expect.subject);
      if (c.expect.subject instanceof RegExp) expect(m.subject, what).toMatch(c.expect.subject);
      if (c.expect.bodyIncludes) expect(m.body ?? '', what).toContain(c.expect.bodyIncludes);
      if (c.expect.attachments !== undefined) expect(m.attachments, what).toHaveLength(c.expect.attachments);
      if (c.expect.truncated) {
        expect(type, what).toBe('message.created.truncated');
        expect(m.body, what).toBeUndefined();
        expect(m.snippet, what).toContain('start of a long page');
      } else expect(type, what).toBe('message.created');
      expect(m.date, what).toBeGreaterThan(0);
    });
    const huge = got.find((e) => e.m.subject === 'with a huge attachment')!.m;
    expect(huge.attachments[0]!.size).toBeGreaterThan(29 * 1024 * 1024);
  });

  it('survives a server restart in the middle of a backfill: every message announced exactly once', async () => {
    const total = 5200; // more than one backfill slice per pass
    dovecot.writeMessages(user, Array.from({ length: total }, (_, i) => rfc822({ subject: `backfill ${i}`, messageId: `bf-${i}@x`, text: `message ${i} `.repeat(50) })));
    const g = await grantFor(user, { backfill_days: 7 });
    scheduler = await startSync(t, 'w1', FAST);
    await eventually(async () => (await countMessages(g.id)) > 0, 15_000, 'backfill started');
    await dovecot.restart();
    await dovecot.append(user, password, rfc822({ subject: 'after restart', text: 'x' }));
    await eventually(async () => (await countMessages(g.id)) >= total + 1, 60_000, 'all messages after restart');
    const ms = await messages(g.id);
    expect(ms).toHaveLength(total + 1);
    expect(new Set(ms.map((e) => e.m.id)).size).toBe(total + 1);
    expect(ms.some((e) => e.m.subject === 'after restart')).toBe(true);
    const progress = (await t.repos.grants.getById(g.id))!.sync_state.progress as { backfill: { status: string; done: number } };
    expect(progress.backfill).toMatchObject({ status: 'done', done: total });
    // 5,200 messages through a restart: on the embedded database under a full parallel suite this
    // legitimately takes longer than the default test timeout (about 12 s alone, 27 s at load 20).
  }, 90_000);

  it('expires the grant once after repeated login failures, and keeps syncing other grants', async () => {
    const other = `o${user}`;
    dovecot.addUser(other, password);
    const g = await grantFor(user);
    const ok = await grantFor(other);
    scheduler = await startSync(t, 'w1', FAST);
    await eventually(async () => (await t.repos.grants.getById(g.id))!.sync_state.cursor, 10_000, 'baseline');
    // The user changes their password on the server; the worker's connection is dropped.
    const passwd = join(dovecot.dir, 'passwd');
    writeFileSync(passwd, readFileSync(passwd, 'utf8').replace(`${user}:{PLAIN}${password}`, `${user}:{PLAIN}changed`));
    await dovecot.restart();
    await eventually(async () => (await t.repos.grants.getById(g.id))!.status === 'expired', 30_000, 'grant expired');
    await dovecot.append(other, password, rfc822({ subject: 'still flowing', text: 'x' }));
    await eventually(async () => (await countMessages(ok.id)) === 1, 15_000, 'other grant still syncing');
    await new Promise((r) => setTimeout(r, 500));
    const expired = await t.store.db.selectFrom('events').select('id').where('grant_id', '=', g.id).where('type', '=', 'grant.expired').execute();
    expect(expired).toHaveLength(1);
  }, 60_000);
});
