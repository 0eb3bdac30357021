import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfillSpan, baselineSearch, candidatesSince, firstUidSince } from '../../src/providers/imap/baseline-search.js';
import type { Cursor } from '../../src/providers/provider.js';
import type { ImapCursor } from '../../src/providers/imap/sync.js';
import { getProvider } from '../../src/providers/registry.js';
import { Dovecot } from '../helpers/dovecot.js';
import { rfc822 } from './messages.js';
import { dovecotGrant } from './sessions.js';

/**
 * A new grant's baseline (ADR 0514) against Dovecot, which advertises WITHIN: the first UID dated
 * at or after the grant's creation must be the one the definition gives (every message's
 * INTERNALDATE read and compared), through the WITHIN window and through the day window of a
 * server without WITHIN (the capability hidden from imapflow, which then sends SEARCH SINCE),
 * for any batch size of the date reading. The mailboxes hold mail before and after the creation,
 * in the second of the creation on both sides, an APPEND after the creation with an old
 * INTERNALDATE and one before it with a future date.
 */
const PASSWORD = 'baseline-pw';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Fixture {
  user: string;
  created: Date;
  /** Subject → UID. */
  uids: Map<string, number>;
}

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
});
afterAll(async () => {
  await dovecot?.destroy();
});

/** Appends `before` (dates relative to the creation), waits for the creation to pass, then appends `after` (null: the server's clock). */
async function fixture(user: string, before: [string, number][], after: [string, number | null][]): Promise<Fixture> {
  dovecot.addUser(user, PASSWORD);
  // The creation 400 ms into a second a little ahead, so that the second it falls in has mail on both sides of it.
  const created = new Date((Math.floor(Date.now() / 1000) + 3) * 1000 + 400);
  const c = await dovecot.client(user, PASSWORD);
  const uids = new Map<string, number>();
  const put = async (subject: string, offset: number | null) => {
    const r = await c.append('INBOX', rfc822({ subject, text: subject }), [], offset === null ? undefined : new Date(created.getTime() + offset));
    if (!r || !r.uid) throw new Error('APPEND gave no UID');
    uids.set(subject, r.uid);
  };
  try {
    for (const [s, o] of before) await put(s, o);
    while (Date.now() <= created.getTime() + 20) await sleep(20);
    for (const [s, o] of after) await put(s, o);
  } finally {
    await c.logout();
  }
  return { user, created, uids };
}

/** The definition: every message's INTERNALDATE, the lowest UID at or after the creation. */
async function reference(c: ImapFlow, created: Date, uidNext: number): Promise<number> {
  let first = uidNext;
  for (const m of await c.fetchAll('1:*', { uid: true, internalDate: true }, { uid: true })) {
    if (m.uid < uidNext && m.internalDate instanceof Date && m.internalDate.getTime() >= created.getTime() && m.uid < first) first = m.uid;
  }
  return first;
}

async function opened(user: string, hideWithin: boolean): Promise<{ c: ImapFlow; uidNext: number }> {
  const c = await dovecot.client(user, PASSWORD);
  expect(c.capabilities.has('WITHIN')).toBe(true);
  // imapflow compiles `since` to YOUNGER only when the server advertised WITHIN: hidden, it sends SEARCH SINCE <date>.
  if (hideWithin) c.capabilities.delete('WITHIN');
  const st = await c.status('INBOX', { uidNext: true });
  if (!st || st.uidNext === undefined) throw new Error('STATUS gave no UIDNEXT');
  await c.mailboxOpen('INBOX');
  return { c, uidNext: st.uidNext };
}

const BEFORE: [string, number][] = [
  ['three days before', -3 * 86_400_000],
  ['ten seconds before', -10_000],
  ['a second before', -1_000],
  ['same second, before', -400],
];

describe('IMAP baseline with and without WITHIN', () => {
  let fixtures: { f: Fixture; expected: string | null }[];
  beforeAll(async () => {
    fixtures = await Promise.all([
      // The lowest UID at or after the creation is an APPEND made before it with a future date.
      fixture('within-future', [...BEFORE, ['future-dated, appended before', 3_600_000]], [['old date, appended after', -2 * 86_400_000], ['first whole second after', 600], ['after', null]]).then((f) => ({ f, expected: 'future-dated, appended before' })),
      // The old-dated APPEND after the creation comes first, but its date says it is old (as before: the first dated one starts).
      fixture('within-after', BEFORE, [['old date, appended after', -2 * 86_400_000], ['first whole second after', 600], ['after', null]]).then((f) => ({ f, expected: 'first whole second after' })),
      // Nothing dated after the creation: the folder starts at UIDNEXT.
      fixture('within-none', BEFORE, [['old date, appended after', -2 * 86_400_000]]).then((f) => ({ f, expected: null })),
    ]);
  }, 30_000);

  it('gives the first UID of the definition, for both windows and any batch size', async () => {
    const saved = { ...baselineSearch };
    try {
      for (const { f, expected } of fixtures) {
        for (const hide of [false, true]) {
          for (const per of [1, 2, 500, Infinity]) {
            baselineSearch.datesPerFetch = per;
            const { c, uidNext } = await opened(f.user, hide);
            try {
              const want = await reference(c, f.created, uidNext);
              expect(want).toBe(expected === null ? uidNext : f.uids.get(expected));
              expect(await firstUidSince(c, f.created, uidNext), `${f.user}, WITHIN ${hide ? 'hidden' : 'advertised'}, ${per} per FETCH`).toBe(want);
            } finally {
              await c.logout();
            }
          }
        }
      }
    } finally {
      Object.assign(baselineSearch, saved);
    }
  }, 60_000);

  it('searches seconds around the creation with WITHIN and the day before without it', async () => {
    const { f } = fixtures[0]!;
    const inWindow = async (hide: boolean) => {
      const { c, uidNext } = await opened(f.user, hide);
      try {
        return new Set(await candidatesSince(c, f.created, uidNext));
      } finally {
        await c.logout();
      }
    };
    const within = await inWindow(false);
    const day = await inWindow(true);
    // Ten seconds before is outside the 2 s window but inside the day window; both hold everything from the creation's second on.
    expect(within.has(f.uids.get('ten seconds before')!)).toBe(false);
    expect(day.has(f.uids.get('ten seconds before')!)).toBe(true);
    for (const s of ['same second, before', 'future-dated, appended before', 'first whole second after', 'after']) {
      expect(within.has(f.uids.get(s)!), s).toBe(true);
      expect(day.has(f.uids.get(s)!), s).toBe(true);
    }
    expect(within.has(f.uids.get('three days before')!)).toBe(false);
  });

  it('finds the same backfill span by ESEARCH, by listing every UID, and on a server without ESEARCH', async () => {
    const saved = { ...baselineSearch };
    try {
      for (const { f } of fixtures) {
        for (const days of [1, 2.5, 10]) {
          const since = new Date(f.created.getTime() - days * 86_400_000);
          const spans: unknown[] = [];
          for (const [esearch, hide] of [[false, false], [true, false], [true, true]] as const) {
            baselineSearch.esearch = esearch;
            const { c } = await opened(f.user, false);
            expect(c.capabilities.has('ESEARCH')).toBe(true);
            // imapflow sends a plain SEARCH to a server without ESEARCH and returns the list.
            if (hide) c.capabilities.delete('ESEARCH');
            try {
              // Below the first UID dated from the creation (what the baseline passes) and below UIDNEXT.
              for (const end of [f.uids.get('a second before')!, f.uids.size + 1]) spans.push(await backfillSpan(c, since, end));
            } finally {
              await c.logout();
            }
          }
          expect(spans.slice(2), `${f.user}, ${days} days`).toEqual([...spans.slice(0, 2), ...spans.slice(0, 2)]);
          expect(spans[1]).not.toBeNull();
        }
      }
    } finally {
      Object.assign(baselineSearch, saved);
    }
  });

  it('starts the session cursor there (the session path)', async () => {
    for (const { f, expected } of fixtures) {
      const handle = dovecotGrant(dovecot, f.user, PASSWORD, { createdAt: f.created });
      const session = await getProvider('imap')!.open(handle, { logger: { debug() {}, info() {}, warn() {}, error() {} }, now: () => new Date(), fetch, urls: {}, saveCredentials: async () => {} });
      try {
        const cursor = (await session.baseline()) as Cursor & ImapCursor;
        const uidNext = f.uids.size + 1;
        expect(cursor.folders.INBOX!.uidNext, f.user).toBe(expected === null ? uidNext : f.uids.get(expected));
      } finally {
        await session.close();
      }
    }
  });
});
