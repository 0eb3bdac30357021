/**
 * `node --import tsx bench/s3-mapping-cpu.ts` — the s3 Parquet writer's own work on log-read
 * messages without the store: map (logRows) and encode (ParquetEncoder, the writer's options)
 * the same pregenerated events, the SQL mapping (ADR 0228) and the JS one (ADR 0227) alternating
 * round by round, with the CPU of this process's JS thread and of its other threads per event.
 * Knobs: BENCH_EVENTS (default 40000, generated once), BENCH_ROUNDS (default 3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '../src/domain/event.js';
import { messageCreated } from '../src/destinations/conformance/events.js';
import { fromLog, pgText } from '../src/destinations/conformance/log-events.js';
import { ParquetEncoder } from '../src/destinations/parquet.js';
import { logRows, parquetOptions } from '../src/destinations/s3/log-rows.js';
import { rowsByTable } from '../src/destinations/tables.js';
import { threadCpu } from './thread-cpu.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 40_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BATCH = 10_000; // the s3 destination's maxBatch

// Flat texts as the driver decodes them (bench/destinations-analytics.ts says why).
const texts = Array.from({ length: EVENTS }, (_, i) => {
  const e = messageCreated(i, { prefix: 'cpu', grants: 1000, bodyBytes: 4_600 });
  return { e, text: Buffer.from(pgText(e.object)).toString('utf8') };
});

async function run(sql: boolean, encoder: ParquetEncoder, dir: string): Promise<{ main: number; others: number; wall: number }> {
  const before = threadCpu();
  const at = performance.now();
  const now = new Date();
  for (let from = 0; from < EVENTS; from += BATCH) {
    // Fresh log-shaped events each run (a getter parses at most once); building one is a spread
    // and a closure, the same small cost in both mappings' figures.
    const batch: StoredEvent[] = texts.slice(from, from + BATCH).map(({ e, text }) => fromLog(e, text));
    const tables = rowsByTable(batch.flatMap((e) => logRows(e, now, sql)));
    await Promise.all([...tables].map(([table, rows]) => encoder.writeParquetFile(table, rows, join(dir, `${table}-${from}.parquet`), parquetOptions(table))));
  }
  const after = threadCpu();
  return { main: after.main - before.main, others: after.others - before.others, wall: (performance.now() - at) / 1000 };
}

const us = (s: number) => `${((s * 1e6) / EVENTS).toFixed(1)} µs`;
const dir = mkdtempSync(join(tmpdir(), 'bench-s3-mapping-'));
const encoder = new ParquetEncoder();
try {
  await run(true, encoder, dir); // warm-up
  for (let r = 1; r <= ROUNDS; r += 1) {
    for (const sql of [true, false]) {
      const c = await run(sql, encoder, dir);
      console.log(`round ${r} ${sql ? 'sql' : 'js '}: ${Math.round(EVENTS / c.wall).toLocaleString('en-US')} ev/s, JS thread ${us(c.main)}/event, other threads ${us(c.others)}/event, total ${us(c.main + c.others)}/event`);
    }
  }
} finally {
  await encoder.close();
  rmSync(dir, { recursive: true, force: true });
}
