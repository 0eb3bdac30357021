import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_EVENT_BYTES, messageEvent, serializedSizeOver, type MessageObject } from './event.js';

const message = (body: string | undefined): MessageObject => ({
  id: 'm1',
  grant_id: 'g1',
  object: 'message',
  thread_id: 't1',
  subject: 'Grüße',
  from: [{ name: 'A', email: 'a@example.com' }],
  to: [],
  cc: [],
  bcc: [],
  reply_to: [],
  date: 1_700_000_000,
  snippet: 'hello',
  ...(body === undefined ? {} : { body }),
  folders: ['INBOX'],
  unread: true,
  starred: false,
  attachments: [],
});

const exactlyOver = (m: MessageObject, limit: number) => Buffer.byteLength(JSON.stringify(m)) > limit;

describe('serializedSizeOver', () => {
  it('agrees with measuring the serialized message, at and around the limit', () => {
    const base = Buffer.byteLength(JSON.stringify(message('')));
    for (const unit of ['a', '"', '\u0001', 'é', '✉', '😀', '\ud800']) {
      for (const limit of [base - 1, base, base + 10, base + 100, base + 1000]) {
        for (let n = 0; n < 200; n += 7) {
          const m = message(unit.repeat(n));
          expect(serializedSizeOver(m, limit), `${JSON.stringify(unit)} × ${n}, limit ${limit}`).toBe(exactlyOver(m, limit));
        }
      }
    }
    expect(serializedSizeOver(message(undefined), base)).toBe(exactlyOver(message(undefined), base));
    expect(serializedSizeOver(message(undefined), 10)).toBe(true);
  });
});

describe('messageEvent', () => {
  const args = (body: string) => ({ id: 'e1', source: '/imap/emails/realtime', provider: 'imap', message: message(body) });

  it('keeps a body that fits and drops one that does not', () => {
    const small = messageEvent(args('x'.repeat(1000)));
    expect(small.type).toBe('message.created');
    expect(small.object.body).toBe('x'.repeat(1000));
    // 200,000 control characters are 1.2 MB of JSON although the string is short.
    const escaped = messageEvent(args('\u0001'.repeat(200_000)));
    expect(escaped.type).toBe('message.created.truncated');
    expect('body' in escaped.object).toBe(false);
    const exact = messageEvent(args('y'.repeat(MAX_MESSAGE_EVENT_BYTES - Buffer.byteLength(JSON.stringify(message(''))))));
    expect(Buffer.byteLength(JSON.stringify(message(String(exact.object.body))))).toBe(MAX_MESSAGE_EVENT_BYTES);
    expect(exact.type).toBe('message.created');
  });
});
