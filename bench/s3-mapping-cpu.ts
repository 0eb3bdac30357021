/**
 * `node --import tsx bench/s3-mapping-cpu.ts` — the s3 Parquet writer's own work on log-read
 * messages without the store: map (logRows) and encode (ParquetEncoder, the writer's options)
 * the same events, alternating round by round between BENCH_MAPPINGS (default `bytes,sql`):
 * `bytes` (the SQL mapping of objects held as UTF-8 bytes, ADR 0229), `sql` (the SQL mapping of
 * decoded texts, ADR 0228) and `js` (ADR 0227), with the CPU of this process's JS thread and of
 * its other threads per event. Each batch's texts are made fresh from the same UTF-8 bytes, as
 * a read makes them (decoded strings, or views into one buffer), that making left out of the
 * figures; collecting them is in, as it is the writer's.
 * Knobs: BENCH_EVENTS (default 40000, generated once), BENCH_ROUNDS (default 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import type { StoredEvent } from '../src/domain/event.js';
import { messageCreated } from '../src/destinations/conformance/events.js';
import { withObjectJson } from '../src/domain/event-json.js';
import { fromLog, pgText } from '../src/destinations/conformance/log-events.js';
import { ParquetEncoder } from '../src/destinations/parquet.js';
import { logRows, parquetOptions } from '../src/destinations/s3/log-rows.js';
import { rowsByTable } from '../src/destinations/tables.js';
import { threadCpu } from './thread-cpu.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 10_000; // the s3 destination's maxBatch

const MAPPINGS = (process.env.BENCH_MAPPINGS ?? 'bytes,sql').split(',');
if (MAPPINGS.some((m) => m !== 'bytes' && m !== 'sql' && m !== 'js')) throw new Error('BENCH_MAPPINGS is a list of bytes, sql and js');

// The objects' texts as the database sends them (jsonb's form, UTF-8).
const texts = Array.from({ length: EVENTS }, (_, i) => {
  const e = messageCreated(i, { prefix: 'cpu', grants: 1000, bodyBytes: 4_600 });
  return { e, bytes: Buffer.from(pgText(e.object)) };
});

/** A batch as a read hands it over: decoded flat strings (the driver), or views into one buffer (a COPY read). */
function readBatch(from: number, mapping: string): StoredEvent[] {
  const slice = texts.slice(from, from + BATCH);
  if (mapping !== 'bytes') return slice.map(({ e, bytes }) => fromLog(e, bytes.toString('utf8')));
  const chunk = Buffer.concat(slice.map((t) => t.bytes));
  let at = 0;
  return slice.map(({ e, bytes }) => {
    const { object: _object, ...fields } = e;
    return withObjectJson<StoredEvent>(fields, chunk.subarray(at, (at += bytes.length)));
  });
}

/** Milliseconds of V8 garbage-collection pauses so far (the JS thread stands still for them). */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

async function run(mapping: string, encoder: ParquetEncoder, dir: string): Promise<{ main: number; others: number; wall: number; gc: number }> {
  const gcBefore = gcMs;
  const before = threadCpu();
  const at = performance.now();
  const now = new Date();
  const reading = { main: 0, wall: 0 };
  for (let from = 0; from < EVENTS; from += BATCH) {
    // Fresh log-shaped events each run (a getter parses at most once).
    const [cpu, wall] = [threadCpu().main, performance.now()];
    const batch = readBatch(from, mapping);
    reading.main += threadCpu().main - cpu;
    reading.wall += (performance.now() - wall) / 1000;
    const tables = rowsByTable(batch.flatMap((e) => logRows(e, now, mapping !== 'js')));
    await Promise.all([...tables].map(([table, rows]) => encoder.writeParquetFile(table, rows, join(dir, `${table}-${from}.parquet`), parquetOptions(table))));
  }
  const after = threadCpu();
  // Observer entries arrive asynchronously: let the last ones in.
  await new Promise((resolve) => setImmediate(resolve));
  return { main: after.main - before.main - reading.main, others: after.others - before.others, wall: (performance.now() - at) / 1000 - reading.wall, gc: (gcMs - gcBefore) / 1000 };
}

const us = (s: number) => `${((s * 1e6) / EVENTS).toFixed(1)} µs`;
const dir = mkdtempSync(join(tmpdir(), 'bench-s3-mapping-'));
const encoder = new ParquetEncoder();
try {
  for (const mapping of MAPPINGS) await run(mapping, encoder, dir); // warm-up
  for (let r = 1; r <= ROUNDS; r += 1) {
    for (const mapping of r % 2 ? MAPPINGS : [...MAPPINGS].reverse()) {
      const c = await run(mapping, encoder, dir);
      console.log(`round ${r} ${mapping.padEnd(5)}: ${Math.round(EVENTS / c.wall).toLocaleString('en-US')} ev/s, JS thread ${us(c.main)}/event (GC pauses ${us(c.gc)}), other threads ${us(c.others)}/event, total ${us(c.main + c.others)}/event`);
    }
  }
} finally {
  await encoder.close();
  rmSync(dir, { recursive: true, force: true });
}
