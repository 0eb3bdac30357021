import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/sync/index.js';
import type { SyncScheduler } from '../../src/sync/scheduler.js';
import { DATABASES, testContext, type TestContext } from '../helpers/context.js';
import { Dovecot } from '../helpers/dovecot.js';
import { eventually, seedGrants } from '../helpers/grants.js';
import { rfc822 } from './messages.js';

/**
 * A big backfill on Dovecot: every message of the mailbox becomes exactly one historic event
 * (past ~100k UIDs a spread over the UID list threw a RangeError). Fixtures go straight into
 * Maildir. Size: TRIBUTARY_TEST_BACKFILL_SIZE (default 20,000; the 200,000 run is done by hand).
 */
const SIZE = Number(process.env.TRIBUTARY_TEST_BACKFILL_SIZE ?? 20_000);

describe.each(DATABASES.slice(0, 1))(`IMAP backfill of ${SIZE} messages on Dovecot (%s)`, (kind) => {
  let dovecot: Dovecot;
  let t: TestContext;
  let scheduler: SyncScheduler | null = null;
  beforeAll(async () => {
    dovecot = await Dovecot.start();
    t = await testContext(kind);
  });
  afterAll(async () => {
    await scheduler?.stop();
    await t?.close();
    await dovecot?.destroy();
  });

  it(`announces ${SIZE} historic messages exactly once`, async () => {
    const user = 'big';
    const password = 'pw-' + Math.random().toString(36).slice(2);
    dovecot.addUser(user, password);
    for (let i = 0; i < SIZE; i += 5000) {
      dovecot.writeMessages(user, Array.from({ length: Math.min(5000, SIZE - i) }, (_, k) => rfc822({ subject: `m${i + k}`, text: 'x' })));
    }
    expect(dovecot.count(user)).toBe(SIZE);
    const { grants } = await seedGrants(t, 1, {
      credentials: () => ({ username: user, password }),
      settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none', backfill_days: 30 },
    });
    const g = grants[0]!;
    const started = Date.now();
    scheduler = await startSync(t, 'w1', { leaseTtlMs: 10_000, tickMs: 300, hintPollMs: 200, fallbackSyncMs: 60_000, backoff: { baseMs: 100, maxMs: 1000 }, startSpreadMs: 0, reauthWindowMs: 0 });
    let shown = Date.now();
    const progress = await eventually(async () => {
      const p = (await t.repos.grants.getById(g.id))!.sync_state.progress as { backfill?: { status: string; done: number; total: number } } | undefined;
      if (Date.now() - shown > 10_000) {
        shown = Date.now();
        console.log(`imap backfill: ${JSON.stringify(p?.backfill)} after ${((shown - started) / 1000).toFixed(0)} s`);
      }
      return p?.backfill?.status === 'done' ? p.backfill : null;
    }, Math.max(60_000, SIZE * 5), 'backfill done');
    console.log(`imap backfill: ${SIZE} messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(progress.total).toBe(SIZE);
    const rows = await t.store.db.selectFrom('events').select(['source', 'object']).where('grant_id', '=', g.id).where('type', 'like', 'message.created%').execute();
    expect(rows.length).toBe(SIZE);
    expect(new Set(rows.map((r) => (r.object as { subject?: string }).subject)).size).toBe(SIZE);
    expect(new Set(rows.map((r) => r.source))).toEqual(new Set(['/imap/emails/historic']));
  }, 1_200_000);
});
