/**
 * The webhook receiver of the end-to-end benches, in its own process (it must not share an event
 * loop with the engine it measures). Answers 200 at once and records, per POST, the event id, its
 * grant, its subject and the receipt time. The parent asks over IPC for a summary: how many
 * arrived, distinct ids, duplicates, first/last receipt, per-grant order of first receipts and
 * receipt times by subject (for latency).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

interface Row {
  id: string;
  grant: string;
  subject: string;
  at: number;
}
let rows: Row[] = [];
// Kept as events arrive, so the parent's frequent progress question costs nothing to answer.
let seen = new Set<string>();

type Body = { id: string; data: { grant_id?: string; object: { subject?: string } } };

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = Date.now();
    if (req.method === 'GET') {
      res.end(new URL(req.url ?? '/', 'http://x').searchParams.get('challenge') ?? '');
      return;
    }
    // One event per request, or an array of them (the webhook's opt-in batched mode).
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body | Body[];
    for (const ce of Array.isArray(body) ? body : [body]) {
      rows.push({ id: ce.id, grant: ce.data.grant_id ?? '', subject: ce.data.object.subject ?? '', at });
      seen.add(ce.id);
    }
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));

export interface ReceiverSummary {
  count: number;
  distinct: number;
  duplicates: number;
  firstAt: number;
  lastAt: number;
  /** grant → event ids in order of first receipt. */
  order: Record<string, string[]>;
  /** subject → first receipt time. */
  bySubject: Record<string, number>;
}

function summary(): ReceiverSummary {
  const seen = new Set<string>();
  const order: Record<string, string[]> = {};
  const bySubject: Record<string, number> = {};
  for (const r of rows) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    (order[r.grant] ??= []).push(r.id);
    bySubject[r.subject] ??= r.at;
  }
  return { count: rows.length, distinct: seen.size, duplicates: rows.length - seen.size, firstAt: rows[0]?.at ?? 0, lastAt: rows.at(-1)?.at ?? 0, order, bySubject };
}

process.on('message', (m: { op: 'summary' | 'count' | 'progress' | 'reset' }) => {
  if (m.op === 'reset') [rows, seen] = [[], new Set()];
  if (m.op === 'summary') process.send!(summary());
  else if (m.op === 'progress') process.send!({ count: rows.length, distinct: seen.size });
  else process.send!({ count: rows.length });
});
process.on('disconnect', () => process.exit(0));
