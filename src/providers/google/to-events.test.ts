import { describe, expect, it } from 'vitest';
import { messageEventId, parseAddresses, toMessageObject } from './to-events.js';

const b64 = (s: string) => Buffer.from(s).toString('base64url');

describe('Gmail message → message.created object', () => {
  it('parses address lists with quoted names and commas', () => {
    expect(parseAddresses('"Hopper, Grace" <grace@navy.example>, ada@example.com, Bob <bob@example.com>')).toEqual([
      { name: 'Hopper, Grace', email: 'grace@navy.example' },
      { name: '', email: 'ada@example.com' },
      { name: 'Bob', email: 'bob@example.com' },
    ]);
    expect(parseAddresses('undisclosed-recipients:;')).toEqual([]);
  });

  it('takes the HTML part, else escapes the text part; labels → folders and flags; attachments from named parts', () => {
    const headers = [
      { name: 'Subject', value: 'Hi' },
      { name: 'From', value: 'A <a@x.example>' },
      { name: 'Message-ID', value: '<m1@x.example>' },
    ];
    const o = toMessageObject('g1', {
      id: 'abc',
      threadId: 't1',
      labelIds: ['INBOX', 'STARRED'],
      internalDate: '1700000000123',
      payload: { mimeType: 'multipart/mixed', headers, parts: [{ mimeType: 'text/plain', body: { data: b64('1 < 2') } }, { mimeType: 'image/png', filename: 'a.png', headers: [{ name: 'Content-Disposition', value: 'inline' }, { name: 'Content-ID', value: '<img1>' }], body: { attachmentId: 'att1', size: 10 } }] },
    });
    expect(o).toMatchObject({ id: 'abc', thread_id: 't1', subject: 'Hi', from: [{ name: 'A', email: 'a@x.example' }], body: '<pre>1 &#60; 2</pre>', folders: ['INBOX', 'STARRED'], unread: false, starred: true, date: 1700000000 });
    expect(o.attachments).toEqual([{ id: 'att1', filename: 'a.png', content_type: 'image/png', size: 10, is_inline: true, content_id: 'img1' }]);
    // The event id follows the Message-ID: the same message seen twice is one event.
    expect(messageEventId('app', 'g1', { id: 'abc', payload: { headers } })).toBe(messageEventId('app', 'g1', { id: 'other', payload: { headers } }));
  });
});
