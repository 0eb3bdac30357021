import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MessageObject } from '../../src/domain/event.js';
import { startSync } from '../../src/sync/index.js';
import type { SchedulerOptions, SyncScheduler } from '../../src/sync/scheduler.js';
import { DATABASES, testContext, type TestContext } from '../helpers/context.js';
import { Dovecot } from '../helpers/dovecot.js';
import { eventually, seedGrants } from '../helpers/grants.js';
import { rfc822 } from './messages.js';

const FAST: Partial<SchedulerOptions> = { leaseTtlMs: 3000, tickMs: 300, hintPollMs: 200, fallbackSyncMs: 60_000, backoff: { baseMs: 100, maxMs: 1000 }, startSpreadMs: 0, reauthWindowMs: 0 };

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
});
afterAll(async () => {
  await dovecot?.destroy();
});

describe.each(DATABASES)('IMAP sync against Dovecot on %s', (kind) => {
  let t: TestContext;
  let scheduler: SyncScheduler | null = null;
  let user: string;
  const password = 'pw-' + Math.random().toString(36).slice(2);

  const grantFor = async (u: string, settings: Record<string, unknown> = {}) => {
    const { grants } = await seedGrants(t, 1, {
      credentials: () => ({ username: u, password }),
      settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none', ...settings },
    });
    return grants[0]!;
  };
  const messages = async (grantId: string) =>
    (await t.store.db.selectFrom('events').select(['id', 'type', 'source', 'object', 'created_at']).where('grant_id', '=', grantId).where('type', 'like', 'message.%').orderBy('seq').execute()).map((e) => ({
      ...e,
      message: e.object as unknown as MessageObject,
    }));
  const baselined = (grantId: string) => eventually(async () => (await t.repos.grants.getById(grantId))!.sync_state.cursor, 10_000, 'baseline');

  beforeEach(async () => {
    t = await testContext(kind);
    user = `u${Math.random().toString(36).slice(2, 10)}`;
    dovecot.addUser(user, password);
  });
  afterEach(async () => {
    await scheduler?.stop();
    scheduler = null;
    await t.close();
  });

  it('starts at "now" and announces new mail once, with the shared message fields', async () => {
    dovecot.writeMessages(user, [rfc822({ subject: 'old mail', text: 'old' })]);
    const g = await grantFor(user);
    scheduler = await startSync(t, 'w1', FAST);
    await baselined(g.id);

    const raw = rfc822({
      from: '"Ada Lovelace" <ada@example.test>',
      to: 'Bob <bob@example.test>, carol@example.test',
      cc: 'Dan <dan@example.test>',
      subject: '=?UTF-8?B?w4ljaGFuZ2Ugc3VyIGxlcyBub3Rlcw==?=',
      messageId: 'reply-1@example.test',
      references: '<root-1@example.test> <mid-1@example.test>',
      date: new Date('2026-01-02T03:04:05Z'),
      text: 'plain version',
      html: '<html><head><style>p{}</style></head><body><p>Hello &amp; welcome, <b>Bob</b></p></body></html>',
      attachments: [
        { filename: 'report.pdf', contentType: 'application/pdf', content: Buffer.alloc(3000, 1) },
        { filename: 'logo.png', contentType: 'image/png', content: Buffer.alloc(300, 2), inline: true, contentId: 'logo@x' },
      ],
    });
    await dovecot.append(user, password, raw, 'INBOX', ['\\Flagged']);
    const [e] = await eventually(async () => ((await messages(g.id)).length === 1 ? messages(g.id) : null), 10_000, 'message.created');
    const m = e!.message;
    expect(e!.type).toBe('message.created');
    expect(e!.source).toBe('/imap/emails/realtime');
    expect(m.subject).toBe('Échange sur les notes');
    expect(m.from).toEqual([{ name: 'Ada Lovelace', email: 'ada@example.test' }]);
    expect(m.to).toEqual([
      { name: 'Bob', email: 'bob@example.test' },
      { name: '', email: 'carol@example.test' },
    ]);
    expect(m.cc).toEqual([{ name: 'Dan', email: 'dan@example.test' }]);
    expect(m.date).toBe(Date.parse('2026-01-02T03:04:05Z') / 1000);
    expect(m.body).toContain('<b>Bob</b>');
    expect(m.snippet).toBe('Hello & welcome, Bob');
    expect(m.unread).toBe(true);
    expect(m.starred).toBe(true);
    expect(m.folders).toEqual(['INBOX']);
    expect(m.grant_id).toBe(g.id);
    expect(m.attachments).toEqual([
      expect.objectContaining({ filename: 'report.pdf', content_type: 'application/pdf', is_inline: false }),
      expect.objectContaining({ filename: 'logo.png', content_type: 'image/png', is_inline: true, content_id: 'logo@x' }),
    ]);
    expect(m.attachments[0]!.size).toBe(3000); // decoded, not the wrapped base64 Dovecot reports

    // A reply in the same thread shares the thread id (derived from References / In-Reply-To).
    await dovecot.append(user, password, rfc822({ subject: 'Re: x', messageId: 'reply-2@example.test', references: '<root-1@example.test>', text: 'second' }));
    const both = await eventually(async () => ((await messages(g.id)).length === 2 ? messages(g.id) : null), 10_000, 'second message');
    expect(both[1]!.message.thread_id).toBe(m.thread_id);
    expect(both[1]!.message.body).toBe('<div>second</div>');
    // Nothing older than the grant was announced, and nothing twice.
    await new Promise((r) => setTimeout(r, 300));
    expect(await messages(g.id)).toHaveLength(2);
  });

  it('announces through IDLE quickly, without waiting for the fallback pass', async () => {
    const g = await grantFor(user);
    scheduler = await startSync(t, 'w1', FAST);
    await baselined(g.id);
    await new Promise((r) => setTimeout(r, 500)); // let the connection enter IDLE
    const latencies: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      await dovecot.append(user, password, rfc822({ subject: `idle ${i}`, text: 'x' }));
      await eventually(async () => (await messages(g.id)).length === i + 1, 5000, `idle message ${i}`);
      latencies.push(Date.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[2]!).toBeLessThan(1500);
  });

  it('re-baselines a folder whose UIDVALIDITY changed without announcing its mail', async () => {
    dovecot.writeMessages(user, [rfc822({ subject: 'a', text: 'a' }), rfc822({ subject: 'b', text: 'b' })]);
    const g = await grantFor(user);
    scheduler = await startSync(t, 'w1', FAST);
    const before = (await baselined(g.id)) as { folders: { INBOX: { uidValidity: string } } };
    await scheduler.stop();
    dovecot.setUidValidity(user, 777);
    scheduler = await startSync(t, 'w1', FAST);
    await eventually(async () => ((await t.repos.grants.getById(g.id))!.sync_state.cursor as typeof before).folders.INBOX.uidValidity === '777', 10_000, 'new uidvalidity saved');
    expect(before.folders.INBOX.uidValidity).not.toBe('777');
    expect(await messages(g.id)).toHaveLength(0);
    await dovecot.append(user, password, rfc822({ subject: 'after', text: 'after' }));
    const after = await eventually(async () => ((await messages(g.id)).length === 1 ? messages(g.id) : null), 10_000, 'new mail after re-baseline');
    expect(after[0]!.message.subject).toBe('after');
  });

  it('announces a re-uploaded message once', async () => {
    const g = await grantFor(user);
    scheduler = await startSync(t, 'w1', FAST);
    await baselined(g.id);
    const raw = rfc822({ subject: 'uploaded twice', messageId: 'same@example.test', date: new Date('2026-03-01T00:00:00Z'), text: 'x' });
    await dovecot.append(user, password, raw);
    await eventually(async () => (await messages(g.id)).length === 1, 10_000, 'first upload');
    await dovecot.append(user, password, raw);
    await dovecot.append(user, password, rfc822({ subject: 'other', text: 'y' }));
    await eventually(async () => (await messages(g.id)).length === 2, 10_000, 'the other message');
    expect((await messages(g.id)).map((e) => e.message.subject)).toEqual(['uploaded twice', 'other']);
  });

  it('backfills backfill_days of older mail as historic events with progress on the grant', async () => {
    const day = 86_400_000;
    dovecot.writeMessages(user, [rfc822({ subject: 'ancient', text: 'x', date: new Date(Date.now() - 90 * day) })]);
    dovecot.writeMessages(user, [rfc822({ subject: 'recent 1', text: 'x' }), rfc822({ subject: 'recent 2', text: 'x' })]);
    // Maildir files get their INTERNALDATE from mtime: make the ancient one old.
    const { utimesSync, readdirSync } = await import('node:fs');
    const cur = `${dovecot.maildir(user)}/cur`;
    const oldest = readdirSync(cur).sort()[0]!;
    utimesSync(`${cur}/${oldest}`, new Date(Date.now() - 90 * day), new Date(Date.now() - 90 * day));
    const g = await grantFor(user, { backfill_days: 30 });
    scheduler = await startSync(t, 'w1', FAST);
    const progress = await eventually(async () => {
      const p = (await t.repos.grants.getById(g.id))!.sync_state.progress as { backfill?: { status: string; done: number; total: number } } | undefined;
      return p?.backfill?.status === 'done' ? p.backfill : null;
    }, 10_000, 'backfill done');
    expect(progress.total).toBe(2);
    const ms = await messages(g.id);
    expect(ms.map((e) => e.message.subject).sort()).toEqual(['recent 1', 'recent 2']);
    expect(ms.every((e) => e.source === '/imap/emails/historic')).toBe(true);
  });
});
