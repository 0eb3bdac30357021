import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSync } from '../../src/sync/index.js';
import type { SchedulerOptions } from '../../src/sync/scheduler.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { Dovecot } from '../helpers/dovecot.js';
import { eventually, seedGrants } from '../helpers/grants.js';
import { rfc822 } from './messages.js';

const FAST: Partial<SchedulerOptions> = { leaseTtlMs: 3000, tickMs: 300, hintPollMs: 200, fallbackSyncMs: 60_000, backoff: { baseMs: 100, maxMs: 1000 }, startSpreadMs: 0 };

/**
 * "New mail" means mail that arrived after the grant was created, not after a worker first got
 * round to it: messages delivered while no worker ran (or during the start-up stagger) are
 * announced by the first pass; mail older than the grant is not.
 */
describe('IMAP baseline at grant creation', () => {
  let dovecot: Dovecot;
  let t: TestContext;
  beforeAll(async () => {
    dovecot = await Dovecot.start();
    t = await testContext('pglite');
  });
  afterAll(async () => {
    await t?.close();
    await dovecot?.destroy();
  });

  it('announces mail delivered between grant creation and the first sync pass, and nothing older', async () => {
    dovecot.addUser('gap', 'pw');
    dovecot.writeMessages('gap', [rfc822({ subject: 'before the grant', text: 'old' })]);
    // A Maildir fixture gets its UID at the server's next scan; a real delivery has one at once.
    const c = await dovecot.client('gap', 'pw');
    await c.status('INBOX', { uidNext: true });
    await c.logout();
    // INTERNALDATE has whole seconds: let the old message's second pass before the grant exists.
    await new Promise((r) => setTimeout(r, 1100));
    const { grants } = await seedGrants(t, 1, { credentials: () => ({ username: 'gap', password: 'pw' }), settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none' } });
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 15; i++) dovecot.deliver('gap', rfc822({ subject: `in the gap ${i}`, text: 'x' }));

    const scheduler = await startSync(t, 'w-gap', FAST);
    try {
      const subjects = async () =>
        (await t.store.db.selectFrom('events').select('object').where('grant_id', '=', grants[0]!.id).where('type', '=', 'message.created').orderBy('seq').execute()).map((e) => String((e.object as { subject: unknown }).subject));
      await eventually(async () => (await subjects()).length >= 15, 20_000, 'the gap announced');
      dovecot.deliver('gap', rfc822({ subject: 'after the first pass', text: 'y' }));
      await eventually(async () => (await subjects()).length >= 16, 20_000, 'later mail announced');
      const got = await subjects();
      // Maildir deliveries of the same moment get UIDs in directory order, so only the set is fixed.
      expect(got.slice(0, 15).sort()).toEqual(Array.from({ length: 15 }, (_, i) => `in the gap ${i}`).sort());
      expect(got.slice(15)).toEqual(['after the first pass']);
    } finally {
      await scheduler.stop();
    }
  }, 60_000);
});
