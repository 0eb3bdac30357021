import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/domain/event.js';
import type { ChangeBatch, Cursor, GrantHandle, ProviderSession } from '../../src/providers/provider.js';
import { backfillPass, pipeline } from '../../src/providers/imap/sync.js';
import { getProvider } from '../../src/providers/registry.js';
import { Dovecot } from '../helpers/dovecot.js';
import { rfc822 } from './messages.js';

/**
 * ADR 0512: a backfill pass runs on past the old 5,000-UID slice while no new mail is waiting,
 * and still lets new mail through within its check interval; the batches it commits are the
 * ones the old slicing committed.
 */
const PASSWORD = 'pass-secret-41c7';
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const defaults = { pass: { ...backfillPass }, pipeline: { ...pipeline } };

interface Pass {
  batches: Extract<ChangeBatch, { events: NewEvent[] }>[];
  hints: string[];
}

async function open(dovecot: Dovecot, user: string, hints: string[]): Promise<ProviderSession> {
  const handle: GrantHandle = {
    id: `grant-${user}`,
    applicationId: 'app-pass',
    email: `${user}@pass.test`,
    credentials: { username: user, password: PASSWORD },
    settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none', backfill_days: 36500 },
    integration: { id: 'int-pass', clientId: null, clientSecret: null, settings: {}, scope: [] },
    createdAt: new Date(),
  };
  const session = await getProvider('imap')!.open(handle, { logger: silent, now: () => new Date('2026-06-01T00:00:00Z'), fetch, urls: {}, saveCredentials: async () => {} });
  await session.watch!((reason) => hints.push(reason));
  return session;
}

/** One pass from `cursor`; `each` runs after every batch (the engine's commit would be there). */
async function pass(session: ProviderSession, cursor: Cursor, hints: string[], each: (i: number) => Promise<void> = async () => {}): Promise<Pass> {
  const from = hints.length;
  const batches: Pass['batches'] = [];
  for await (const batch of session.changes(cursor, new AbortController().signal)) {
    if (!('events' in batch)) continue;
    batches.push(batch);
    await each(batches.length - 1);
  }
  return { batches, hints: hints.slice(from) };
}

/** Passes until one announces nothing; every batch, in order. */
async function drain(session: ProviderSession, cursor: Cursor, hints: string[]): Promise<{ passes: Pass[]; batches: NewEvent[][] }> {
  const passes: Pass[] = [];
  for (;;) {
    const p = await pass(session, cursor, hints);
    passes.push(p);
    if (p.batches.length === 0) break;
    cursor = p.batches.at(-1)!.cursor;
  }
  return { passes, batches: passes.flatMap((p) => p.batches.map((b) => b.events)) };
}

const backfillOf = (b: ChangeBatch) => ('progress' in b ? (b.progress as { backfill?: { status: string; done: number } }).backfill : undefined);

describe('IMAP backfill passes (ADR 0512)', () => {
  let dovecot: Dovecot;
  beforeAll(async () => {
    dovecot = await Dovecot.start();
  });
  afterAll(async () => {
    await dovecot?.destroy();
  });
  afterEach(() => {
    Object.assign(backfillPass, defaults.pass);
    Object.assign(pipeline, defaults.pipeline);
  });

  it('covers more than the old 5,000-UID slice in one pass when no new mail comes', async () => {
    const user = 'long';
    dovecot.addUser(user, PASSWORD);
    dovecot.writeMessages(user, Array.from({ length: 6_000 }, (_, i) => rfc822({ subject: `long ${i}`, text: 'x' })));
    const hints: string[] = [];
    const session = await open(dovecot, user, hints);
    try {
      const first = await pass(session, await session.baseline(), hints);
      expect(first.batches.reduce((n, b) => n + b.events.length, 0)).toBe(6_000);
      expect(backfillOf(first.batches.at(-1)!)?.status).toBe('done');
      expect(first.hints).not.toContain('backfill continues');
    } finally {
      await session.close();
    }
  }, 120_000);

  it('stops queuing backfill chunks once new mail is seen, so the next pass announces it before the backfill ends', async () => {
    backfillPass.checkMs = 50;
    const user = 'interrupted';
    dovecot.addUser(user, PASSWORD);
    dovecot.writeMessages(user, Array.from({ length: 4_000 }, (_, i) => rfc822({ subject: `old ${i}`, text: 'x' })));
    const hints: string[] = [];
    const session = await open(dovecot, user, hints);
    try {
      let cursor = await session.baseline();
      // The engine's commit is slow here (300 ms a batch): the check (every 50 ms) sees the new mail during the first one.
      const first = await pass(session, cursor, hints, async (i) => {
        if (i === 0) dovecot.deliver(user, rfc822({ subject: 'new while backfilling', text: 'hello' }));
        await new Promise((r) => setTimeout(r, 300));
      });
      // Only what was already queued when the mail was seen: the first chunk and at most `lookahead` + 1 more.
      expect(first.batches.length).toBeLessThanOrEqual(2 + pipeline.lookahead);
      expect(backfillOf(first.batches.at(-1)!)?.status).toBe('running');
      expect(first.hints).toContain('backfill continues');
      cursor = first.batches.at(-1)!.cursor;
      const second = await pass(session, cursor, hints);
      const realtime = second.batches[0]!.events;
      expect(realtime.map((e) => [e.source, (e.object as { subject?: string }).subject])).toEqual([['/imap/emails/realtime', 'new while backfilling']]);
      const rest = await drain(session, second.batches.at(-1)!.cursor, hints);
      const historic = [...first.batches, ...second.batches.slice(1)].flatMap((b) => b.events).concat(rest.batches.flat());
      const subjects = historic.map((e) => (e.object as { subject?: string }).subject);
      expect(subjects.length).toBe(4_000);
      expect(new Set(subjects).size).toBe(4_000);
      expect(historic.every((e) => e.source === '/imap/emails/historic')).toBe(true);
    } finally {
      await session.close();
    }
  }, 120_000);

  it('commits the same batches as the 5,000-UID passes did (here 500-UID passes)', async () => {
    const user = 'same';
    dovecot.addUser(user, PASSWORD);
    dovecot.writeMessages(user, Array.from({ length: 1_700 }, (_, i) => rfc822({ subject: `same ${i}`, text: `body ${i}`, html: `<p>body <b>${i}</b></p>` })));
    const run = async () => {
      const hints: string[] = [];
      const session = await open(dovecot, user, hints);
      try {
        return await drain(session, await session.baseline(), hints);
      } finally {
        await session.close();
      }
    };
    Object.assign(backfillPass, { maxUids: 500, checkMs: Infinity });
    Object.assign(pipeline, { lookahead: 2, readAhead: false });
    const old = await run();
    Object.assign(backfillPass, defaults.pass);
    Object.assign(pipeline, defaults.pipeline);
    const now = await run();
    expect(old.passes.filter((p) => p.batches.length > 0).length).toBe(4);
    expect(now.passes.filter((p) => p.batches.length > 0).length).toBe(1);
    expect(now.batches.map((b) => b.length)).toEqual([500, 500, 500, 200]);
    // `time` is when the event was made (the wall clock), the rest is the message.
    const content = (bs: NewEvent[][]) => bs.map((b) => b.map(({ time: _time, ...e }) => e));
    expect(content(now.batches)).toEqual(content(old.batches));
  }, 120_000);
});
