/**
 * The webhook receiver of `npm run bench:delivery`, in its own process so that it does not
 * share an event loop with the engine it measures. Answers 200 at once; records, per event,
 * the time from its append (carried in the event as `appended_at_ms`) to receipt. The parent
 * asks for the figures over IPC.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

let latencies: number[] = [];
let count = 0;
let firstAt = 0;
let lastAt = 0;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const now = Date.now();
    if (req.method === 'GET') {
      res.end(new URL(req.url ?? '/', 'http://x').searchParams.get('challenge') ?? '');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { object: { appended_at_ms?: number } } };
    const at = body.data.object.appended_at_ms;
    if (typeof at === 'number') latencies.push(now - at);
    if (count === 0) firstAt = now;
    lastAt = now;
    count++;
    res.end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));

process.on('message', (m: { op: 'stats' | 'reset' }) => {
  if (m.op === 'reset') {
    latencies = [];
    count = 0;
    firstAt = lastAt = 0;
  }
  process.send!({ count, firstAt, lastAt, latencies: m.op === 'stats' ? latencies : [] });
});
process.on('disconnect', () => process.exit(0));
