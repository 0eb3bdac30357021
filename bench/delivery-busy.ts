/**
 * `node --import tsx bench/delivery-busy.ts` — the webhook writer on a busy thread. With delivery on the
 * worker's main thread, mailbox sync keeps that thread busy in chunks of synchronous work during a
 * burst; a pipelined lane can only take its answers and send its next requests between two chunks,
 * so one grant advances by at most `pipelining` events per turn of the event loop whatever the
 * receiver's speed. This bench reproduces that without IMAP: a hog takes the thread for CHUNK ms,
 * yields one turn (setImmediate), and again, while the writer sends one grant's EVENTS events to a
 * receiver in its own process; once per `pipelining` setting, interleaved over ROUNDS, plus once
 * with the thread idle. Prints events/s (medians) and events per turn of the hog.
 * Usage: node --import tsx bench/delivery-busy.ts [--events 2000 --chunk 20 --rounds 3]
 */
import { fork } from 'node:child_process';
import { destinationContext } from '../src/destinations/destination.js';
import { WebhookWriter } from '../src/destinations/webhook/writer.js';
import type { StoredEvent } from '../src/domain/event.js';
import { createLogger } from '../src/observability/logger.js';
import { arg } from './e2e/harness.js';
import { machineLine } from './machine.js';

const EVENTS = arg('events', 2000);
const CHUNK_MS = arg('chunk', 20);
const ROUNDS = arg('rounds', 3);
const DEPTHS = [8, 16, 32];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const child = fork(new URL('./delivery-receiver.ts', import.meta.url), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const ask = (op: 'stats' | 'reset') =>
  new Promise<{ count: number; outOfOrder: number }>((resolve) => {
    child.once('message', (m: { count: number; outOfOrder: number }) => resolve(m));
    child.send({ op });
  });
const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));

let serial = 0;
function events(n: number): StoredEvent[] {
  const now = Date.now();
  return Array.from({ length: n }, () => {
    const id = `busy-${serial++}`;
    return { seq: String(serial), id, applicationId: 'app', type: 'message.created', source: '/imap/inbox', time: Math.floor(now / 1000), grantId: 'grant-1', provider: 'imap', object: { id, subject: 'Quarterly numbers', body: 'Lorem ipsum dolor sit amet. '.repeat(20), appended_at_ms: now } };
  });
}

/** Busy-waits CHUNK_MS, yields one turn, repeats until stopped; counts the turns. */
function hog(): { stop(): number } {
  let running = true;
  let turns = 0;
  const chunk = () => {
    if (!running) return;
    turns++;
    const until = performance.now() + CHUNK_MS;
    while (performance.now() < until) {
      /* the synchronous part of a sync pass (parsing, building events) */
    }
    setImmediate(chunk);
  };
  setImmediate(chunk);
  return {
    stop() {
      running = false;
      return turns;
    },
  };
}

async function once(depth: number, busy: boolean): Promise<{ rate: number; perTurn: number; outOfOrder: number }> {
  const ctx = destinationContext({ logger: createLogger('warn'), now: () => new Date(), allowPrivateAddresses: true, streamId: 'bench', dataDir: '/nonexistent', fileRoots: [] });
  const writer = new WebhookWriter({ url: `http://127.0.0.1:${port}/hook`, secret: 'whsec_busy-bench-secret-0123456789', pipelining: depth }, ctx);
  await writer.write(events(depth), new AbortController().signal, 1); // the connection is open before the clock starts
  await ask('reset');
  const batch = events(EVENTS);
  const h = busy ? hog() : null;
  const t0 = performance.now();
  const result = await writer.write(batch, new AbortController().signal, 1);
  const ms = performance.now() - t0;
  const turns = h?.stop() ?? 0;
  await writer.close();
  const st = await ask('stats');
  if ((result.failed?.length ?? 0) > 0 || st.count !== EVENTS) throw new Error(`depth ${depth}: ${st.count} of ${EVENTS} received`);
  return { rate: EVENTS / (ms / 1000), perTurn: turns ? EVENTS / turns : NaN, outOfOrder: st.outOfOrder };
}

console.log(machineLine());
console.log(`one grant × ${fmt(EVENTS)} events through the webhook writer; busy: the thread is taken ${CHUNK_MS} ms at a time with one turn between (median of ${ROUNDS})`);
const rows = new Map<string, { rate: number[]; perTurn: number[]; outOfOrder: number }>();
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? DEPTHS : [...DEPTHS].reverse();
  for (const depth of order) {
    for (const busy of [false, true]) {
      const key = `${busy ? 'busy' : 'idle'} thread, pipelining ${depth}`;
      const x = await once(depth, busy);
      const row = rows.get(key) ?? { rate: [], perTurn: [], outOfOrder: 0 };
      row.rate.push(x.rate);
      row.perTurn.push(x.perTurn);
      row.outOfOrder += x.outOfOrder;
      rows.set(key, row);
    }
  }
}
for (const [key, row] of [...rows].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
  const perTurn = median(row.perTurn);
  console.log(`  ${key.padEnd(30)} ${fmt(median(row.rate)).padStart(7)} events/s${Number.isNaN(perTurn) ? '' : `, ${perTurn.toFixed(1)} events per turn`}; runs ${row.rate.map(fmt).join(', ')}; out of order ${row.outOfOrder}`);
}
child.disconnect();
