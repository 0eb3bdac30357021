import { describe, expect, it } from 'vitest';
import { uidSet } from './uid-set.js';
import { dedupeKey, SNIPPET_FETCH_BYTES, toMessageEvent, type FetchedMessage, type MessageContext } from './to-events.js';

const ctx: MessageContext = { applicationId: 'app', grantId: 'g1', folder: 'INBOX', uidValidity: '7', historic: false, now: () => new Date('2026-05-01T00:00:00Z') };
const msg = (over: Partial<FetchedMessage> = {}): FetchedMessage => ({
  uid: 5,
  flags: new Set(['\\Seen']),
  envelope: { messageId: '<m1@x>', date: new Date('2026-04-01T00:00:00Z'), subject: 's', from: [{ name: 'A', address: 'a@x' }, { name: 'group' }] },
  internalDate: new Date('2026-04-02T00:00:00Z'),
  ...over,
});

describe('toMessageEvent', () => {
  it('gives a re-uploaded copy (new UID, same Message-ID and Date) the same event and message id', () => {
    const a = toMessageEvent(msg(), null, undefined, ctx);
    const b = toMessageEvent(msg({ uid: 99 }), null, undefined, { ...ctx, uidValidity: '8' });
    expect(b.id).toBe(a.id);
    expect((b.object as { id: string }).id).toBe((a.object as { id: string }).id);
    expect(toMessageEvent(msg({ envelope: { ...msg().envelope, date: new Date('2026-04-03T00:00:00Z') } }), null, undefined, ctx).id).not.toBe(a.id);
  });

  it('falls back to the UID without a Message-ID, and to INTERNALDATE without a Date', () => {
    expect(dedupeKey(msg({ envelope: {} }), ctx)).toBe('uid:INBOX:7:5');
    const e = toMessageEvent(msg({ envelope: {} }), null, undefined, ctx);
    expect((e.object as { date: number }).date).toBe(Date.parse('2026-04-02T00:00:00Z') / 1000);
    expect((e.object as { from: unknown[] }).from).toEqual([]);
  });

  it('keeps entries with an address only, and maps flags', () => {
    const e = toMessageEvent(msg(), null, undefined, ctx);
    expect(e.object).toMatchObject({ from: [{ name: 'A', email: 'a@x' }], unread: false, starred: false, folders: ['INBOX'] });
    expect(e.source).toBe('/imap/emails/realtime');
    expect(toMessageEvent(msg(), null, undefined, { ...ctx, historic: true }).source).toBe('/imap/emails/historic');
  });

  it('announces a body fetched only in part as truncated, with its snippet', () => {
    const choice = { section: '1', html: false, encoding: '7bit', charset: 'utf-8', size: 5 * 1024 * 1024 };
    const e = toMessageEvent(msg(), choice, Buffer.alloc(SNIPPET_FETCH_BYTES, 'a'), ctx);
    expect(e.type).toBe('message.created.truncated');
    expect(e.object.body).toBeUndefined();
    expect(String(e.object.snippet)).toMatch(/^a+$/);
  });
});

describe('uidSet', () => {
  it('compresses runs', () => {
    expect(uidSet([9, 1, 2, 3, 7, 10])).toBe('1:3,7,9:10');
    expect(uidSet([4])).toBe('4');
  });
});
