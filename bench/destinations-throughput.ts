/**
 * `npm run bench:destinations` — 200,000 `message.created` events of ~5 KB written through the
 * `postgres` destination (a real PostgreSQL started here) and through the `file` destination
 * (Parquet), one process, driving each writer directly at its declared maxBatch and maxInFlight.
 * In the same run, the same rows go into PostgreSQL with a plain `COPY … FROM STDIN`, the
 * ceiling a bulk loader can reach, and the ratio is printed. Each measurement runs ROUNDS
 * times; medians are quoted. Rates are over the wall clock: generating the events, mapping
 * them to rows, serializing and writing are all inside.
 * Knobs: BENCH_EVENTS (default 200000), BENCH_ROUNDS (default 3). The COPY baseline's tables
 * get exactly the destination's DDL (same column types, keys and compression).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { StoredEvent } from '../src/domain/event.js';
import { messageCreated } from '../src/destinations/conformance/events.js';
import { CaptureLogger } from '../src/destinations/conformance/capture-logger.js';
import { destinationContext, type DestinationContext, type DestinationDefinition } from '../src/destinations/destination.js';
import { getDestination } from '../src/destinations/registry.js';
import { copyRows } from '../src/destinations/postgres/copy.js';
import { LZ4_SUPPORTED_SQL, qualified, schemaSql } from '../src/destinations/postgres/ddl.js';
import { TABLES, rowsByTable, toRows } from '../src/destinations/tables.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { machineLine } from './machine.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BODY_BYTES = 4_600; // the serialized event comes to ~5 KB
const AIM_PG = 20_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function* batches(size: number, prefix: string): Generator<StoredEvent[]> {
  for (let i = 0; i < EVENTS; i += size) {
    const batch: StoredEvent[] = [];
    for (let j = i; j < Math.min(EVENTS, i + size); j += 1) batch.push(messageCreated(j, { prefix, grants: 1000, bodyBytes: BODY_BYTES }));
    yield batch;
  }
}

function ctx(dataDir: string): DestinationContext {
  return destinationContext({ logger: new CaptureLogger(), now: () => new Date(), allowPrivateAddresses: true, streamId: 'bench', dataDir });
}

/**
 * Feeds every event through `write` in batches of `size`, keeping up to `inFlight` batches
 * outstanding (what the delivery engine does for a destination declaring that limit).
 * Returns events/s over the wall clock, generation of the events included.
 */
async function drive(size: number, inFlight: number, prefix: string, write: (batch: StoredEvent[]) => Promise<void>): Promise<number> {
  const started = performance.now();
  const pending = new Set<Promise<void>>();
  for (const batch of batches(size, prefix)) {
    const p: Promise<void> = write(batch).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  return EVENTS / ((performance.now() - started) / 1000);
}

/** One destination writer at its declared maxBatch and maxInFlight, close() included. */
async function throughWriter(def: DestinationDefinition, config: Record<string, unknown>, dataDir: string, prefix: string): Promise<number> {
  const writer = def.create(config, ctx(dataDir));
  const started = performance.now();
  await drive(def.limits.maxBatch, def.limits.maxInFlight, prefix, async (batch) => {
    const r = await writer.write(batch, new AbortController().signal, 1);
    if (r.rejected.length) throw new Error(`unexpected rejections: ${JSON.stringify(r.rejected.slice(0, 3))}`);
  });
  await writer.close();
  return EVENTS / ((performance.now() - started) / 1000);
}

/** The same rows through plain COPY, one transaction per batch, with the same batch size and concurrency. */
async function throughCopy(url: string, schema: string, prefix: string, size: number, inFlight: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: inFlight });
  const rate = await drive(size, inFlight, prefix, async (batch) => {
    const now = new Date();
    const grouped = rowsByTable(batch.flatMap((e) => toRows(e, now)));
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      for (const [table, rows] of grouped) await copyRows(client, schema, TABLES[table], rows);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });
  await pool.end();
  return rate;
}

async function main() {
  console.log(machineLine());
  console.log(`${fmt(EVENTS)} message.created events of ~${(Buffer.byteLength(JSON.stringify(messageCreated(0, { prefix: 'x', bodyBytes: BODY_BYTES }))) / 1024).toFixed(1)} KB, ${ROUNDS} rounds`);
  const pgServer = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-dest-'));
  try {
    const admin = new pg.Client({ connectionString: pgServer.url() });
    await admin.connect();
    await admin.query('CREATE DATABASE bench');
    await admin.end();
    const url = pgServer.url('bench');
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const lz4 = (await db.query<{ lz4: boolean }>(LZ4_SUPPORTED_SQL)).rows[0]?.lz4 === true;
    for (const stmt of schemaSql('copy_baseline', { lz4 })) await db.query(stmt);

    const postgres = getDestination('postgres')!;
    const file = getDestination('file')!;
    const results = { postgres: [] as number[], copy: [] as number[], parquet: [] as number[] };
    for (let round = 1; round <= ROUNDS; round += 1) {
      await db.query('DROP SCHEMA IF EXISTS sink CASCADE');
      await db.query(`TRUNCATE ${['message', 'participant'].map((t) => qualified('copy_baseline', t)).join(', ')}`);
      await db.query('CHECKPOINT');
      results.postgres.push(await throughWriter(postgres, { connection_string: url, schema: 'sink' }, dir, `r${round}`));
      await db.query('CHECKPOINT');
      results.copy.push(await throughCopy(url, 'copy_baseline', `r${round}`, postgres.limits.maxBatch, postgres.limits.maxInFlight));
      const root = join(dir, `parquet-${round}`);
      results.parquet.push(await throughWriter(file, { root, format: 'parquet' }, dir, `r${round}`));
      rmSync(root, { recursive: true, force: true });
      console.log(
        `  round ${round}: postgres destination ${fmt(results.postgres.at(-1)!)} ev/s, plain COPY ${fmt(results.copy.at(-1)!)} ev/s, file (Parquet) ${fmt(results.parquet.at(-1)!)} ev/s`,
      );
    }
    const [count] = (await db.query<{ n: string }>('SELECT count(*) AS n FROM sink.message')).rows;
    if (Number(count!.n) !== EVENTS) throw new Error(`postgres destination holds ${count!.n} messages, expected ${EVENTS}`);
    await db.end();

    const pgMedian = median(results.postgres);
    const copyMedian = median(results.copy);
    console.log(
      `medians over ${ROUNDS} rounds (each writer at its declared limits: postgres ${postgres.limits.maxBatch} × ${postgres.limits.maxInFlight} in flight, file ${file.limits.maxBatch} × ${file.limits.maxInFlight}; COPY like postgres):`,
    );
    console.log(`  postgres destination: ${fmt(pgMedian)} events/s  (aim ≥ ${fmt(AIM_PG)}: ${pgMedian >= AIM_PG ? 'met' : 'NOT met'})`);
    console.log(`  plain COPY, same rows: ${fmt(copyMedian)} events/s  → destination / COPY = ${(pgMedian / copyMedian).toFixed(2)}`);
    console.log(`  file destination (Parquet): ${fmt(median(results.parquet))} events/s`);
  } finally {
    pgServer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
