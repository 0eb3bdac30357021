/**
 * `node --import tsx bench/log-read-bytes.ts` — the delivery read of the log (readAfter) against
 * the same read with objects kept as UTF-8 bytes (readAfterAsBytes, COPY binary, ADR 0229), on
 * BENCH_EVENTS (default 100000) `message.created` of ~5 KB in a throwaway PostgreSQL, read in
 * windows of BENCH_WINDOW (default 20000, the s3 destination's) in alternating rounds
 * (BENCH_ROUNDS, default 4). Per round: events/s and this process's JS-thread CPU per event
 * (the driver's decoding and the collection of what it allocated included), and the server's.
 * Nothing reads the objects: what a destination that hands the text on pays for the read alone.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { messageCreated } from '../src/destinations/conformance/events.js';
import { appendEvents } from '../src/event-log/append.js';
import { readAfterAsBytes } from '../src/event-log/read-bytes.js';
import { LOG_START, readAfter, type ReadQuery, type ReadResult } from '../src/event-log/read.js';
import { openPostgres } from '../src/store/index.js';
import { migrate } from '../src/store/migrate.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { cpuSample, cpuLine } from './cpu-meter.js';
import { machineLine } from './machine.js';
import { threadCpu } from './thread-cpu.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);

async function main() {
  console.log(machineLine());
  const server = await startPostgres();
  try {
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const store = await openPostgres(server.url('bench'), 4);
    const pool = new pg.Pool({ connectionString: server.url('bench'), max: 2 });
    try {
      await migrate(store);
      const appId = 'bench-app';
      await sql`insert into applications (id, name, environment, region) values (${appId}, 'bench', 'test', 'local')`.execute(store.db);
      for (let from = 0; from < EVENTS; from += 5_000) {
        const batch = [];
        for (let i = from; i < Math.min(EVENTS, from + 5_000); i += 1) {
          const { id, type, source, time, grantId, provider, object } = messageCreated(i, { prefix: 'read', grants: 1000, bodyBytes: 4_600 });
          batch.push({ id, type, source, time, grantId, provider, object });
        }
        await appendEvents(store.db, appId, batch);
      }
      console.log(`${EVENTS.toLocaleString('en-US')} events of ~5 KB in the log; windows of ${WINDOW.toLocaleString('en-US')}, ${ROUNDS} rounds alternating`);
      const readers: [string, (q: ReadQuery) => Promise<ReadResult>][] = [
        ['text (readAfter)', (q) => readAfter(store.db, q)],
        ['bytes (readAfterAsBytes)', (q) => readAfterAsBytes(store.db, pool, q)],
      ];
      for (let round = 1; round <= ROUNDS; round += 1) {
        for (const [name, read] of round % 2 ? readers : [...readers].reverse()) {
          const classify = (pid: number) => (pid === server.pid() ? 'postgres' : null);
          const before = { cpu: threadCpu(), at: performance.now(), sample: cpuSample(classify, [server.pid()]) };
          let n = 0;
          let after = LOG_START;
          for (;;) {
            const r = await read({ after, filter: { applicationId: appId, types: ['message.created'] }, limit: WINDOW });
            n += r.events.length;
            after = r.next;
            if (r.events.length < WINDOW) break;
          }
          const wall = (performance.now() - before.at) / 1000;
          const cpu = threadCpu();
          const line = cpuLine(before.sample, cpuSample(classify, [server.pid()]), n);
          console.log(`  round ${round} ${name}: ${Math.round(n / wall).toLocaleString('en-US')} events/s, JS thread ${(((cpu.main - before.cpu.main) * 1e6) / n).toFixed(1)} µs/event, other threads ${(((cpu.others - before.cpu.others) * 1e6) / n).toFixed(1)} µs/event; ${line}`);
        }
      }
    } finally {
      await pool.end();
      await store.close();
    }
  } finally {
    server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
