import { randomBytes } from 'node:crypto';
import type { Cursor, ProviderSession } from '../src/providers/provider.js';
import { rfc822 } from '../test/imap/messages.js';

const WORDS = 'the quick brown fox jumps over lazy dog mail stream event grant folder inbox report quarterly meeting notes draft review'.split(' ');
const words = (n: number) => Array.from({ length: n }, (_, i) => WORDS[(i * 7 + n) % WORDS.length]).join(' ');

/**
 * The bench mailbox: `count` messages averaging about 12 KB, 15 % of them with an attachment
 * (text + HTML alternatives, like real mail; attachment sizes 20–60 KB).
 */
export function benchMailbox(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const paragraphs = 2 + (i % 7);
    const text = Array.from({ length: paragraphs }, (_, p) => words(60 + ((i + p) % 40))).join('\n\n');
    const html = `<html><body>${text.split('\n\n').map((p) => `<p style="margin:0 0 12px 0;font-family:Arial">${p}</p>`).join('')}</body></html>`;
    const withAttachment = i % 20 < 3;
    out.push(
      rfc822({
        subject: `Bench message ${i}`,
        messageId: `bench-${i}-${randomBytes(4).toString('hex')}@bench.test`,
        date: new Date(Date.now() - (count - i) * 60_000),
        from: `"Sender ${i % 50}" <sender${i % 50}@bench.test>`,
        to: `"Recipient" <rcpt@bench.test>, other${i % 7}@bench.test`,
        text,
        html,
        ...(withAttachment ? { attachments: [{ filename: `file-${i}.pdf`, contentType: 'application/pdf', content: randomBytes(20_000 + (i % 5) * 10_000) }] } : {}),
      }),
    );
  }
  return out;
}

/**
 * Runs passes of a session from `cursor` until one announces nothing (without a watcher the
 * engine's next pass would continue a backfill slice, so a bench drives the passes itself).
 * Returns how many events were announced.
 */
export async function drainPasses(session: ProviderSession, cursor: Cursor): Promise<number> {
  let n = 0;
  for (let more = true; more; ) {
    more = false;
    for await (const batch of session.changes(cursor, new AbortController().signal)) {
      if (!('events' in batch)) continue;
      n += batch.events.length;
      cursor = batch.cursor;
      more ||= batch.events.length > 0;
    }
  }
  return n;
}
