import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/domain/event.js';
import type { ProviderSession } from '../../src/providers/provider.js';
import { bulkReader } from '../../src/providers/imap/sync.js';
import { getProvider } from '../../src/providers/registry.js';
import { benchMailbox } from '../../bench/imap-fixtures.js';
import { Dovecot } from '../helpers/dovecot.js';
import { rfc822 } from './messages.js';
import { dovecotGrant, everyBatch } from './sessions.js';

/**
 * The bulk connection a new grant's baseline opens ahead of its backfill (ADR 0514) examined
 * INBOX before the first pass fixed its ranges. Mail delivered in between must still come out
 * of that pass once, in order, exactly as when the connection is opened by the pass itself: here
 * 300 new mails (a bulk run of their own, which takes the early connection) arrive after the
 * baseline, and the backfill of 600 follows.
 */
const PASSWORD = 'early-pw';
const OLD = 600;
const NEW = 300;
const USERS = ['early-on', 'early-off'] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
  // Both users before any login: the second user, added after the first had logged in, was
  // refused (AUTHENTICATE NO) in about one run of three; Dovecot's auth process had not re-read
  // the passwd-file yet.
  for (const user of USERS) dovecot.addUser(user, PASSWORD);
});
afterAll(async () => {
  await dovecot?.destroy();
});

async function firstPasses(user: (typeof USERS)[number], early: boolean): Promise<NewEvent[][]> {
  dovecot.writeMessages(user, benchMailbox(OLD));
  // The fixtures get their UIDs now, and their dates are before the grant's creation.
  const c = await dovecot.client(user, PASSWORD);
  await c.status('INBOX', { uidNext: true });
  await c.logout();
  await sleep(1100);
  const handle = dovecotGrant(dovecot, user, PASSWORD, { settings: { backfill_days: 36500 } });
  const saved = bulkReader.openAtBaseline;
  bulkReader.openAtBaseline = early;
  const session: ProviderSession = await getProvider('imap')!.open(handle, { logger: quiet, now: () => new Date(), fetch, urls: {}, saveCredentials: async () => {} });
  try {
    const cursor = await session.baseline();
    // Let the early connection finish its EXAMINE, then deliver: that mail is not in its view yet.
    await sleep(500);
    for (let i = 0; i < NEW; i++) dovecot.deliver(user, rfc822({ subject: `new ${i}`, text: `new ${i}` }));
    // The imapflow connection IDLEs meanwhile, so its STATUS sees the new mail and the pass reads it first.
    await sleep(1500);
    return await everyBatch(session, cursor);
  } finally {
    bulkReader.openAtBaseline = saved;
    await session.close();
  }
}

describe('a bulk connection opened during the baseline', () => {
  it('reads mail delivered after it examined the folder, as a connection opened by the pass does', async () => {
    const withEarly = await firstPasses('early-on', true);
    const without = await firstPasses('early-off', false);
    const subjects = (batches: NewEvent[][]) => batches.map((b) => b.map((e) => String((e.object as { subject?: unknown }).subject)));
    const got = subjects(withEarly);
    const all = got.flat();
    expect(all).toHaveLength(OLD + NEW);
    expect(new Set(all).size).toBe(OLD + NEW);
    // New mail first (the realtime part of the pass), then the backfill.
    expect(all.slice(0, NEW).every((s) => s.startsWith('new '))).toBe(true);
    expect(got.map((b) => b.length)).toEqual(subjects(without).map((b) => b.length));
    const bySet = (batches: string[][]) => batches.map((b) => [...b].sort());
    expect(bySet(got)).toEqual(bySet(subjects(without)));
  }, 120_000);
});
