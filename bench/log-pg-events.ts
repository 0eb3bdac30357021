import type { NewEvent } from '../src/domain/event.js';

const WORDS = 'the quick brown fox jumps over lazy dog mail stream event grant folder inbox report quarterly meeting notes draft review'.split(' ');
const words = (n: number, salt: number) => Array.from({ length: n }, (_, i) => WORDS[(i * 7 + n + salt) % WORDS.length]).join(' ');

/**
 * A `message.created` event shaped like the IMAP source's for the bench mailbox
 * (bench/imap-fixtures.ts): an HTML body of 10–16 paragraphs, about 12 KB of JSON in all.
 */
export function mailEvent(grantId: string, key: string, n: number): NewEvent {
  const paragraphs = Array.from({ length: 10 + (n % 7) }, (_, p) => words(130 + ((n + p) % 40), n));
  const html = `<html><body>${paragraphs.map((p) => `<p style="margin:0 0 12px 0;font-family:Arial">${p}</p>`).join('')}</body></html>`;
  return {
    id: `ev-${key}`,
    type: 'message.created',
    source: '/imap/emails/historic',
    time: 1_780_000_000 + n,
    grantId,
    provider: 'imap',
    object: {
      id: `msg-${key}`,
      grant_id: grantId,
      object: 'message',
      thread_id: `thread-${n % 97}`,
      subject: `Bench message ${n}`,
      from: [{ name: `Sender ${n % 50}`, email: `sender${n % 50}@bench.test` }],
      to: [{ name: 'Recipient', email: 'rcpt@bench.test' }, { name: '', email: `other${n % 7}@bench.test` }],
      cc: [],
      bcc: [],
      reply_to: [],
      date: 1_780_000_000 + n,
      snippet: paragraphs[0]!.slice(0, 200),
      body: html,
      folders: ['INBOX'],
      unread: true,
      starred: false,
      attachments: n % 20 < 3 ? [{ id: `att-${key}`, filename: `file-${n}.pdf`, content_type: 'application/pdf', size: 20_000 + (n % 5) * 10_000, is_inline: false }] : [],
    },
  };
}
