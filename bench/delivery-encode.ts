/**
 * `node --import tsx bench/delivery-encode.ts` — CPU per event of what the webhook writer does
 * before a request reaches undici: the body (planUnits), the signatures and the request headers,
 * for the body of a typical IMAP `message.created` event held as the log's text (a JS string, how
 * readAfter hands it over) and as UTF-8 bytes (readAfterAsBytes). No network, no database: it
 * isolates the per-event encoding cost that `npm run bench:delivery` mixes with everything else.
 * BENCH_EVENTS (default 20,000) events per round, BENCH_ROUNDS (default 5) rounds, medians;
 * BENCH_ASCII=1 keeps every text ASCII (a one-byte string in V8; by default the subject holds an
 * em dash, which makes the whole text a two-byte string, as any mail with such a character does).
 */
import { withObjectJson } from '../src/domain/event-json.js';
import type { StoredEvent } from '../src/domain/event.js';
import { requestHeaders } from '../src/destinations/webhook/headers.js';
import { Signer } from '../src/destinations/webhook/signing.js';
import { planUnits, type Batching } from '../src/destinations/webhook/units.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');

/** About what the IMAP plug-in logs for one bench mail (ADR 0502's mailbox: ~5 KB of HTML body). */
function objectText(i: number): string {
  const paragraph = 'the quick brown fox jumps over lazy dog mail stream event grant folder inbox report quarterly meeting notes draft review '.repeat(6);
  const object = {
    id: `msg-${i}`,
    grant_id: 'grant-1',
    object: 'message',
    thread_id: `thread-${i}`,
    subject: process.env.BENCH_ASCII === '1' ? `Bench message ${i} - resume` : `Bench message ${i} — résumé`,
    from: [{ name: `Sender ${i % 50}`, email: `sender${i % 50}@bench.test` }],
    to: [{ name: 'Recipient', email: 'rcpt@bench.test' }],
    date: 1_700_000_000 + i,
    folders: ['INBOX'],
    snippet: paragraph.slice(0, 200),
    body: `<html><body>${Array.from({ length: 6 }, () => `<p style="margin:0 0 12px 0;font-family:Arial">${paragraph}</p>`).join('')}</body></html>`,
  };
  // The database's print of jsonb: a space after ':' and ','.
  return JSON.stringify(object).replace(/":/g, '": ').replace(/,"/g, ', "');
}

function events(form: 'text' | 'bytes'): StoredEvent[] {
  return Array.from({ length: EVENTS }, (_, i) => {
    const text = objectText(i);
    const fields = { id: `evt-${i}`, seq: String(i + 1), applicationId: 'app-1', type: 'message.created' as const, source: '/imap/emails/historic', time: 1_700_000_000 + i, grantId: 'grant-1', provider: null };
    return withObjectJson<StoredEvent>(fields, form === 'text' ? text : Buffer.from(text));
  });
}

const SINGLE: Batching = { maxEvents: 1, maxBytes: 1024 * 1024, format: 'json' };

/** µs of this thread's CPU per event to build, sign and head every request of `batch`. */
function round(batch: StoredEvent[], signer: Signer): number {
  const t0 = process.cpuUsage();
  const now = new Date();
  let bytes = 0;
  for (const unit of planUnits(batch, 1, SINGLE)) {
    const headers = requestHeaders({}, unit, signer.headers(unit.id, now, unit.json));
    bytes += unit.json.length + Object.keys(headers).length;
  }
  const t = process.cpuUsage(t0);
  if (bytes === 0) throw new Error('nothing encoded');
  return (t.user + t.system) / batch.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const signer = new Signer({ secret: SECRET });
const results: Record<string, number[]> = { text: [], bytes: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const form of r % 2 === 0 ? (['text', 'bytes'] as const) : (['bytes', 'text'] as const)) {
    // Fresh events every round, as every read makes them (a text not yet flattened, bytes not yet touched).
    const batch = events(form);
    results[form]!.push(round(batch, signer));
  }
}
for (const [form, xs] of Object.entries(results)) console.log(`${form.padEnd(6)} ${median(xs).toFixed(2)} µs/event (rounds ${xs.map((x) => x.toFixed(2)).join(', ')})`);
