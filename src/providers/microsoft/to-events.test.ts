import { describe, expect, it } from 'vitest';
import { graphMessageEvent, messageEventId, toMessageObject } from './to-events.js';

const base = { id: 'AAkALgimm', internetMessageId: '<m1@example.com>', conversationId: 'conv', subject: 'Hi', receivedDateTime: '2026-01-02T03:04:05Z' };

describe('Graph message → message.created', () => {
  it('maps participants, flags, folders and text bodies', () => {
    const m = toMessageObject('g1', {
      ...base,
      from: { emailAddress: { name: 'A', address: 'a@x.test' } },
      toRecipients: [{ emailAddress: { address: 'b@x.test' } }, { emailAddress: {} }],
      body: { contentType: 'text', content: '1 < 2 & "ok"' },
      isRead: false,
      flag: { flagStatus: 'flagged' },
      parentFolderId: 'inbox-id',
    }, [{ id: 'att', name: 'f.pdf', contentType: 'application/pdf', size: 3, isInline: true, contentId: 'cid1' }]);
    expect(m).toMatchObject({
      id: 'AAkALgimm',
      grant_id: 'g1',
      thread_id: 'conv',
      from: [{ name: 'A', email: 'a@x.test' }],
      to: [{ name: '', email: 'b@x.test' }],
      cc: [],
      date: Date.parse(base.receivedDateTime) / 1000,
      body: '<pre>1 &#60; 2 &#38; &#34;ok&#34;</pre>',
      folders: ['inbox-id'],
      unread: true,
      starred: true,
      attachments: [{ id: 'att', filename: 'f.pdf', content_type: 'application/pdf', size: 3, is_inline: true, content_id: 'cid1' }],
    });
  });

  it('ids are stable per grant and prefer the Internet Message-ID', () => {
    expect(messageEventId('app', 'g1', base)).toBe(messageEventId('app', 'g1', { ...base, id: 'other-id' }));
    expect(messageEventId('app', 'g1', base)).not.toBe(messageEventId('app', 'g2', base));
    expect(messageEventId('app', 'g1', { id: 'x' })).toBe(messageEventId('app', 'g1', { id: 'x', internetMessageId: '' }));
  });

  it('over 1 MB becomes message.created.truncated without body; backfill is historic', () => {
    const big = graphMessageEvent({ applicationId: 'a', grantId: 'g', message: { ...base, body: { contentType: 'html', content: 'x'.repeat(1_100_000) } }, attachments: [], historic: true, now: new Date(5000) });
    expect(big.type).toBe('message.created.truncated');
    expect(big.object.body).toBeUndefined();
    expect(big.source).toBe('/microsoft/emails/historic');
    expect(big.time).toBe(5);
  });
});
