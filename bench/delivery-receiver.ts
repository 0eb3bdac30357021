/**
 * The webhook receiver of `npm run bench:delivery`, in its own process so that it does not
 * share an event loop with the engine it measures. Answers 200 at once; records, per event,
 * the time from its append (carried in the event as `appended_at_ms`) to receipt. A body may be
 * one event or a JSON array of them (batched delivery). `count` counts distinct event ids;
 * `outOfOrder` counts first deliveries of an event older (per grant, by its `bench-N` id) than
 * one already received. The parent asks for the figures over IPC.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let latencies: number[] = [];
let count = 0;
let firstAt = 0;
let lastAt = 0;
let outOfOrder = 0;
let seen = new Set<string>();
let newest = new Map<string, number>();

interface Delivered {
  id: string;
  data: { grant_id?: string; object: { appended_at_ms?: number } };
}

function receive(e: Delivered, now: number): void {
  if (seen.has(e.id)) return;
  seen.add(e.id);
  const n = Number(e.id.slice(e.id.lastIndexOf('-') + 1));
  const grant = e.data.grant_id ?? '';
  if (n < (newest.get(grant) ?? -1)) outOfOrder++;
  else newest.set(grant, n);
  const at = e.data.object.appended_at_ms;
  if (typeof at === 'number') latencies.push(now - at);
  count++;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    if (req.method === 'GET') {
      res.end(new URL(req.url ?? '/', 'http://x').searchParams.get('challenge') ?? '');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Delivered | Delivered[];
    if (count === 0) firstAt = now;
    lastAt = now;
    for (const e of Array.isArray(body) ? body : [body]) receive(e, now);
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));

process.on('message', (m: { op: 'stats' | 'reset' }) => {
  if (m.op === 'reset') {
    latencies = [];
    count = 0;
    outOfOrder = 0;
    seen = new Set();
    newest = new Map();
    firstAt = lastAt = 0;
  }
  process.send!({ count, outOfOrder, firstAt, lastAt, latencies: m.op === 'stats' ? latencies : [] });
});
process.on('disconnect', () => process.exit(0));
