/**
 * `npm run bench:destinations:analytics` — 200,000 `message.created` events of ~5 KB over 1,000
 * grants through the analytics destinations, each writer driven directly at its declared
 * maxBatch and maxInFlight (lanes per grant, as the engine plans them), with a forced
 * redelivery of every tenth batch (what a retry after a lost acknowledgement does):
 *   - s3 (Parquet) into a real Ceph radosgw on loopback, against a plain PutObject of the same
 *     events as NDJSON (same batches, same partition split, same upload concurrency), the
 *     store's raw PUT ceiling, and the encoder alone writing the same rows to local Parquet;
 *   - bigquery and snowflake into their in-repo sandboxes (DuckDB behind the wire APIs), each in
 *     its own process as the real service would be (bench/sandbox-process.ts), with the CPU ms
 *     per event of this process and of the sandbox's (bench/cpu-meter.ts) under each result;
 * then every row is read back and duplicates counted (must be 0), and each sandbox's own ceiling
 * is measured (bench/warehouse-ceiling.ts: the same requests prebuilt, sent with plain fetch). Finally the postgres
 * destination against plain COPY is measured by bench/destinations-throughput.ts (one round).
 * Rates are over the wall clock, mapping, encoding and redeliveries included. The s3 runs hand
 * the writer (and the plain PutObject baseline) the events as the log reader does: the object as
 * the database's jsonb text, parsed only when read (withObjectJson) — a prebuilt object would
 * spare the writer the JSON.parse every production write pays. Building that text is the bench's
 * own work, not the writer's (the reader only decodes it), so the s3 rates leave the generation
 * time out and say how much it was; the warehouse runs still hand prebuilt objects, generation
 * included.
 * Knobs: BENCH_EVENTS (default 200000), BENCH_ONLY=s3,bigquery,snowflake,postgres (a subset),
 * BENCH_S3_MAPPING=bytes,bytes-inline,sql,js and BENCH_S3_ROUNDS (the s3 writer's mappings side by side, ADR 0228),
 * BENCH_CPU_PROFILE=<file> (a V8 profile of each s3 write phase, as <file>-<mapping>-<round>.cpuprofile).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import type { StoredEvent } from '../src/domain/event.js';
import { cloudEventJson, withObjectJson } from '../src/domain/event-json.js';
import { CaptureLogger } from '../src/destinations/conformance/capture-logger.js';
import { messageCreated } from '../src/destinations/conformance/events.js';
import { destinationContext, type DestinationDefinition, type DestinationLimits } from '../src/destinations/destination.js';
import { ParquetEncoder } from '../src/destinations/parquet.js';
import { getDestination } from '../src/destinations/registry.js';
import { partitionId, partitionOf } from '../src/destinations/s3/layout.js';
import { S3Writer, type S3Config } from '../src/destinations/s3/writer.js';
import { logRows, parquetOptions } from '../src/destinations/s3/log-rows.js';
import { rowsByTable, type Row, type TableName, type TableRows } from '../src/destinations/tables.js';
import { planLanes, type Lane } from '../src/delivery/lanes.js';
import { startCeph, type CephS3 } from '../test/helpers/ceph.js';
import { busyCores, cpuLine, cpuSample, type CpuSample } from './cpu-meter.js';
import { machineLine } from './machine.js';
import { startSandboxProcess, type SandboxProcess } from './sandbox-process.js';
import { threadCpu } from './thread-cpu.js';
import { bigqueryCeiling, snowflakeCeiling } from './warehouse-ceiling.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const BODY_BYTES = 4_600; // the serialized event comes to ~5 KB
const REDELIVER_EVERY = 10;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function batchOf(from: number, size: number, prefix = 'bench'): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (let i = from; i < Math.min(EVENTS, from + size); i += 1) out.push(messageCreated(i, { prefix, grants: 1000, bodyBytes: BODY_BYTES }));
  return out;
}

/** The same events under other ids, batch by batch (null after the last), for a sandbox's ceiling run. */
const ceilingBatches = (size: number) => (from: number) => (from < EVENTS ? batchOf(from, size, 'ceiling') : null);

/** jsonb's key order (by length, then bytes) of each key set seen, computed once per set. */
const jsonbKeyOrders = new Map<string, string[]>();

/** `v` with its object keys in jsonb's order, as `e.object::text` lists them. */
function jsonbOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(jsonbOrder);
  if (typeof v !== 'object' || v === null) return v;
  const own = Object.keys(v);
  const signature = own.join('\u0000');
  let keys = jsonbKeyOrders.get(signature);
  if (!keys) jsonbKeyOrders.set(signature, (keys = own.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))));
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = jsonbOrder((v as Record<string, unknown>)[k]);
  return out;
}

/**
 * The same events as the log reader hands them to a destination (src/event-log/read.ts): the
 * object as the database's JSON text (jsonb's key order), parsed only when something reads it.
 * The text is decoded from UTF-8 bytes as the driver decodes it, which leaves one flat string:
 * JSON.stringify's own result of a few KB is a chain of parts, and flattening it (10 KB copied
 * per event) would fall on the writer's clock though the reader never hands it such a string.
 */
function logBatchOf(from: number, size: number): StoredEvent[] {
  return batchOf(from, size).map(({ object, ...fields }) => withObjectJson<StoredEvent>(fields, Buffer.from(JSON.stringify(jsonbOrder(object))).toString('utf8')));
}

/**
 * The same events as a reader that keeps the driver's UTF-8 bytes hands them over (ADR 0229):
 * each object a view into one buffer per window, as slices of the network chunks a COPY
 * stream yields (no JS string of the text, no buffer of its own per event).
 */
function logBytesBatchOf(from: number, size: number): StoredEvent[] {
  const events = batchOf(from, size);
  const texts = events.map((e) => Buffer.from(JSON.stringify(jsonbOrder(e.object))));
  const chunk = Buffer.concat(texts);
  let at = 0;
  return events.map(({ object: _object, ...fields }, i) => withObjectJson<StoredEvent>(fields, chunk.subarray(at, (at += texts[i]!.length))));
}

type Events = (from: number, size: number) => StoredEvent[];

/**
 * logBytesBatchOf's events with every object's bytes made before the timed interval, so the
 * window's events are views and small objects only, as a COPY read hands them over. Made during
 * the run (logBytesBatchOf, `bytes-inline`), the bench's own strings (~15 KB per event: the
 * message, JSON.stringify's text) were excluded from the JS thread's time, but not their garbage
 * collection, which fell on the writer: in one pair at load ~12 (ADR 0232) its other threads
 * measured 135 vs 79 µs/event and its JS thread 107 vs 91. 200,000 objects hold ~1 GB (outside V8's heap).
 */
function bytesMadeAhead(): Events {
  const fields: Omit<StoredEvent, 'object'>[] = [];
  const views: Uint8Array[] = [];
  for (let from = 0; from < EVENTS; from += 10_000) {
    const events = batchOf(from, 10_000);
    const texts = events.map((e) => Buffer.from(JSON.stringify(jsonbOrder(e.object))));
    const chunk = Buffer.concat(texts);
    let at = 0;
    events.forEach(({ object: _object, ...f }, i) => {
      fields.push(f);
      views.push(chunk.subarray(at, (at += texts[i]!.length)));
    });
  }
  return (from, size) => {
    const out: StoredEvent[] = [];
    for (let i = from; i < Math.min(EVENTS, from + size); i += 1) out.push(withObjectJson<StoredEvent>(fields[i]!, views[i]!));
    return out;
  };
}

/** Calls `events`, adding its wall and JS-thread CPU time to `spent` (the bench's own work, not the writer's). */
function generate(events: Events, from: number, size: number, spent: { wall: number; cpu: number }): StoredEvent[] {
  const at = performance.now();
  const cpu = threadCpu().main;
  const out = events(from, size);
  spent.wall += (performance.now() - at) / 1000;
  spent.cpu += threadCpu().main - cpu;
  return out;
}

const benchContext = () => destinationContext({ logger: new CaptureLogger(), now: () => new Date(), allowPrivateAddresses: true, streamId: 'bench', dataDir: tmpdir() });

/**
 * Every batch once, every tenth twice (right after its first acknowledgement, in its lane);
 * returns events/s (first deliveries) over the wall clock, and the redelivered batch count.
 * Windows of maxBatch × maxInFlight events are split into lanes as the engine splits them
 * (planLanes: a grant in one lane), the lanes written concurrently, one window after the other.
 */
async function drive(def: DestinationDefinition, config: Record<string, unknown>, events: Events = batchOf, phase?: Phase): Promise<{ rate: number; redelivered: number; wall: number; generation: { wall: number; cpu: number } }> {
  const writer = def.create(config, benchContext());
  await phase?.start();
  const started = performance.now();
  const generation = { wall: 0, cpu: 0 };
  let redelivered = 0;
  let n = 0;
  const window = def.limits.maxBatch * def.limits.maxInFlight;
  const writeLane = async (lane: Lane<StoredEvent>) => {
    for (const batch of lane.batches) {
      const r = await writer.write(batch, new AbortController().signal, 1);
      if (r.rejected.length) throw new Error(`${def.type}: unexpected rejections ${JSON.stringify(r.rejected.slice(0, 2))}`);
      if (n++ % REDELIVER_EVERY === REDELIVER_EVERY - 1) {
        await writer.write(batch, new AbortController().signal, 2);
        redelivered += 1;
      }
    }
  };
  for (let from = 0; from < EVENTS; from += window) await Promise.all(planLanes(generate(events, from, window, generation), def.limits).map(writeLane));
  await writer.close();
  const wall = (performance.now() - started) / 1000;
  await phase?.stop();
  return { rate: EVENTS / wall, redelivered, wall, generation };
}

/** Hooks called right around the interval `drive` times, so what they measure covers exactly the rate's interval. */
interface Phase {
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/**
 * Runs `fn` with the CPU meter around it: CPU ms per event of this process (the writer, or the
 * ceiling's plain fetch client) and of the sandbox process, which on a shared machine say more
 * than a wall-clock rate does.
 */
async function metered<T>(sandbox: SandboxProcess, events: number, fn: () => Promise<T>): Promise<T & { cpu: string }> {
  const classify = (pid: number) => (pid === sandbox.pid ? 'sandbox' : null);
  const before = cpuSample(classify, [sandbox.pid]);
  const result = await fn();
  const line = cpuLine(before, cpuSample(classify, [sandbox.pid]), events).replace(/per message/g, 'per event').replace(/msg\/s/g, 'ev/s').replace(/worker/g, 'client');
  return { ...result, cpu: line };
}

async function s3Keys(s3: S3Client, Bucket: string, Prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * Removes every object of a bucket. The cluster's OSD keeps objects in 2 GiB of memory, and a
 * round's plain PutObject run alone stores ~1 GiB: without emptying each round's buckets the
 * OSD fills during the second round, every later PUT waits forever, and the bench never ends
 * (its cluster then outlived the bench when it was killed).
 */
async function emptyBucket(s3: S3Client, Bucket: string): Promise<void> {
  const keys = await s3Keys(s3, Bucket, '');
  for (let i = 0; i < keys.length; i += 1000) {
    const r = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
    if (r.Errors?.length) throw new Error(`emptying ${Bucket}: ${r.Errors.length} objects not deleted (${r.Errors[0]!.Code})`);
  }
}

/** Rows and distinct ids in the message Parquet objects, read back through the SDK (local copies for DuckDB). */
async function s3ReadBack(s3: S3Client, bucket: string): Promise<{ rows: number; distinct: number; objects: number; bytes: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-s3-'));
  const keys = await s3Keys(s3, bucket, 'message/');
  let bytes = 0;
  for (const [i, key] of keys.entries()) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = Buffer.from(await got.Body!.transformToByteArray());
    bytes += body.length;
    writeFileSync(join(dir, `${i}.parquet`), body);
  }
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const r = (await conn.runAndReadAll(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM read_parquet('${dir}/*.parquet')`)).getRowObjects()[0]!;
  conn.closeSync();
  db.closeSync();
  rmSync(dir, { recursive: true, force: true });
  return { rows: Number(r.n), distinct: Number(r.d), objects: keys.length, bytes };
}

/**
 * The baseline: the same events as plain NDJSON objects, in the same windows and lanes as
 * `drive` (the writer's batch size and batches in flight), each batch split by the same hourly
 * partitions the writer splits it into and its objects uploaded concurrently as the writer does.
 * It measures what moving the same event data to radosgw costs without mapping, Parquet
 * encoding or the exactly-once index.
 */
async function plainPut(s3: S3Client, bucket: string, limits: DestinationLimits, events: Events): Promise<{ rate: number; bytes: number }> {
  const started = performance.now();
  const generation = { wall: 0, cpu: 0 };
  let bytes = 0;
  let n = 0;
  const putBatch = (batch: StoredEvent[]) => {
    const parts = new Map<string, string[]>();
    for (const e of batch) {
      const hour = new Date(e.time * 1000).toISOString().slice(0, 13);
      // The log's own text of the object, as a webhook body is built (no parse, no re-serialization).
      (parts.get(hour) ?? parts.set(hour, []).get(hour)!).push(`${cloudEventJson(e)}\n`);
    }
    const id = (n += 1);
    return Promise.all(
      [...parts].map(([hour, lines]) => {
        const body = Buffer.from(lines.join(''));
        bytes += body.length;
        return s3.send(new PutObjectCommand({ Bucket: bucket, Key: `plain/${hour}/${id}.ndjson`, Body: body }));
      }),
    );
  };
  const window = limits.maxBatch * limits.maxInFlight;
  for (let from = 0; from < EVENTS; from += window) {
    await Promise.all(
      planLanes(generate(events, from, window, generation), limits).map(async (lane) => {
        for (const batch of lane.batches) await putBatch(batch);
      }),
    );
  }
  return { rate: EVENTS / ((performance.now() - started) / 1000 - generation.wall), bytes };
}

/**
 * The encoding ceiling: the same events, mapped to rows and split by partition in advance (not
 * timed), written to local Parquet files by the s3 writer's encoder alone, batch by batch with
 * every file of a batch submitted at once as the writer does. No S3, no exactly-once index:
 * what DuckDB can take from the same JS objects on this machine right now (events/s).
 */
async function encodeCeiling(limits: DestinationLimits): Promise<number> {
  const count = Math.min(EVENTS, 50_000);
  const now = new Date();
  const batches: [TableName, Row[]][][] = [];
  for (let from = 0; from < count; from += limits.maxBatch) {
    const parts = new Map<string, TableRows[]>();
    for (const e of logBatchOf(from, Math.min(limits.maxBatch, count - from))) {
      const id = partitionId(partitionOf(e));
      (parts.get(id) ?? parts.set(id, []).get(id)!).push(...logRows(e, now));
    }
    batches.push([...parts.values()].flatMap((rows) => [...rowsByTable(rows)]));
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-encode-'));
  const encoder = new ParquetEncoder();
  const started = performance.now();
  for (const files of batches) await Promise.all(files.map(([table, rows], i) => encoder.writeParquetFile(table, rows, join(dir, `${i}.parquet`), parquetOptions(table))));
  const rate = count / ((performance.now() - started) / 1000);
  await encoder.close();
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

/** The store's own ceiling: one prepared 8 MiB buffer PUT over and over, 4 at a time, for ~5 s (MiB/s). */
async function putCeiling(s3: S3Client, bucket: string): Promise<number> {
  const body = Buffer.alloc(8 * 2 ** 20, 'a');
  const started = performance.now();
  let sent = 0;
  const lane = async (l: number) => {
    for (let i = 0; performance.now() - started < 5_000; i++) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `ceiling/${l}-${i}`, Body: body }));
      sent += body.length;
    }
  };
  await Promise.all([0, 1, 2, 3].map(lane));
  return sent / 2 ** 20 / ((performance.now() - started) / 1000);
}

interface Line {
  name: string;
  rate: number;
  rows: number;
  duplicates: number;
  note: string;
  /** Where the CPU went, per event (client = this process): while the destination wrote, and in the ceiling run. */
  cpu?: string[];
}

/** Records a result and prints it at once (a full run takes minutes). */
function report(lines: Line[], l: Line): void {
  lines.push(l);
  console.log(`  ${l.name}: ${fmt(l.rate)} events/s, ${fmt(l.rows)} message rows read back, ${l.duplicates} duplicates${l.rows !== EVENTS ? ` (EXPECTED ${fmt(EVENTS)} ROWS)` : ''} — ${l.note}`);
  for (const cpu of l.cpu ?? []) console.log(`    ${cpu}`);
}

/**
 * Where the write phase's CPU went: this process's JS thread and its other threads (DuckDB's
 * workers, libuv, GC helpers) per event, and how busy the whole machine was (radosgw and other
 * users included). A JS thread busy for most of the wall clock is the bound. It is started and
 * stopped by `drive` around the interval its rate covers (not around writer setup and close's
 * aftermath), so the CPU per event and the rate describe the same seconds. With
 * BENCH_CPU_PROFILE=<file> it also records a V8 CPU profile of the JS thread over that interval
 * (bench/e2e/profile-summary.ts reads it; the bench's own generation of events is in it, under
 * `generate`).
 */
function writePhaseMeter(profile = process.env.BENCH_CPU_PROFILE): Phase & { note(generation: { wall: number; cpu: number }): string } {
  let before: { threads: ReturnType<typeof threadCpu>; machine: CpuSample; at: number } | null = null;
  let after: { threads: ReturnType<typeof threadCpu>; machine: CpuSample; at: number } | null = null;
  const session = profile ? new Session() : null;
  return {
    async start() {
      if (session) {
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
      }
      before = { threads: threadCpu(), machine: cpuSample(() => null), at: performance.now() };
    },
    async stop() {
      after = { threads: threadCpu(), machine: cpuSample(() => null), at: performance.now() };
      if (session && profile) {
        const { profile: recorded } = await session.post('Profiler.stop');
        writeFileSync(profile, JSON.stringify(recorded));
        session.disconnect();
      }
    },
    note(generation) {
      if (!before || !after) throw new Error('write phase meter: not started and stopped');
      const wall = (after.at - before.at) / 1000 - generation.wall;
      const perEvent = (s: number) => `${((s * 1e6) / EVENTS).toFixed(1)} µs`;
      const main = after.threads.main - before.threads.main - generation.cpu;
      const others = after.threads.others - before.threads.others;
      // On 2 cores the writer's JS thread and everything else (DuckDB, radosgw, GC helpers) share the
      // machine: the ceiling at these costs is the smaller of one JS thread's and the cores' bound.
      const ceiling = Math.min(EVENTS / main, (cpus().length * EVENTS) / (main + others));
      return `write phase CPU (generation excluded): JS thread ${perEvent(main)}/event (busy ${((100 * main) / wall).toFixed(0)} % of the wall clock), this process's other threads ${perEvent(others)}/event, ceiling at these costs ${fmt(ceiling)} ev/s (radosgw's CPU not counted); machine ${busyCores(before.machine, after.machine).toFixed(2)} cores busy`;
    },
  };
}

/**
 * The s3 writer's mappings of log-read messages the bench runs (BENCH_S3_MAPPING, comma-separated):
 * `bytes`, the default (the SQL mapping over events holding their objects as UTF-8 bytes, as the
 * s3 destination reads them, ADR 0229; their bytes made before the run, ADR 0232), `bytes-inline` (the same
 * events made window by window during the run, as before ADR 0232), `sql` (DuckDB maps what message-scan.ts accepts from the
 * decoded text, ADR 0228), and `js` (toRows with the body as its literal, ADR 0227). With several, and BENCH_S3_ROUNDS > 1, the runs alternate round
 * by round, each round with its own plain PutObject run, so they are compared under the same load.
 */
const S3_MAPPINGS = (process.env.BENCH_S3_MAPPING ?? 'bytes').split(',');
const S3_ROUNDS = Number(process.env.BENCH_S3_ROUNDS ?? 1);
if (S3_MAPPINGS.some((m) => !['bytes', 'bytes-inline', 'sql', 'js'].includes(m)) || !(Number.isInteger(S3_ROUNDS) && S3_ROUNDS >= 1)) throw new Error('BENCH_S3_MAPPING is a list of bytes, bytes-inline, sql and js; BENCH_S3_ROUNDS a positive integer');

async function benchS3(ceph: CephS3, lines: Line[]) {
  console.log(`s3: writing through the destination (mappings ${S3_MAPPINGS.join(', ')}, ${S3_ROUNDS} round(s)), reading back, then the plain PutObject baseline…`);
  const s3 = new S3Client(ceph.clientConfig);
  const def = getDestination('s3')!;
  const config = (bucket: string) => ({ bucket, endpoint: ceph.endpoint, region: ceph.region, force_path_style: true, access_key_id: ceph.accessKeyId, secret_access_key: ceph.secretAccessKey, format: 'parquet' });
  const rates = new Map<string, number[]>();
  for (let round = 1; round <= S3_ROUNDS; round += 1) {
    const runs: { mapping: string; rate: number; back: Awaited<ReturnType<typeof s3ReadBack>>; redelivered: number; wall: number; generation: { wall: number; cpu: number }; cpu: string }[] = [];
    for (const mapping of S3_MAPPINGS) {
      const bucket = `bench-lake-${mapping}-${round}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const writerDef: DestinationDefinition = { ...def, create: (c, ctx) => new S3Writer(c as unknown as S3Config, ctx, mapping !== 'js') };
      // One profile per run (the file name gains the mapping and round), not the last run's alone.
      const meter = writePhaseMeter(process.env.BENCH_CPU_PROFILE?.replace(/(\.cpuprofile)?$/, `-${mapping}-${round}.cpuprofile`));
      const events = mapping === 'bytes' ? bytesMadeAhead() : mapping === 'bytes-inline' ? logBytesBatchOf : logBatchOf;
      const { wall, redelivered, generation } = await drive(writerDef, config(bucket), events, meter);
      runs.push({ mapping, rate: EVENTS / (wall - generation.wall), back: await s3ReadBack(s3, bucket), redelivered, wall, generation, cpu: meter.note(generation) });
      await emptyBucket(s3, bucket); // read back: its room is needed (emptyBucket says why)
    }
    const plainBucket = `bench-plain-${round}`;
    await s3.send(new CreateBucketCommand({ Bucket: plainBucket }));
    const plain = await plainPut(s3, plainBucket, def.limits, logBatchOf);
    await emptyBucket(s3, plainBucket);
    for (const r of runs) {
      (rates.get(r.mapping) ?? rates.set(r.mapping, []).get(r.mapping)!).push(r.rate);
      report(lines, {
        name: `s3 (Parquet, radosgw, ${r.mapping} mapping, round ${round})`,
        rate: r.rate,
        rows: r.back.rows,
        duplicates: r.back.rows - r.back.distinct,
        note: `${fmt(EVENTS / r.wall)} ev/s with the bench's own generation of the events included (${r.generation.wall.toFixed(1)} s); ${r.back.objects} message objects (${(r.back.bytes / 2 ** 20).toFixed(1)} MiB of Parquet), ${r.redelivered} batches redelivered; plain PutObject of the same events as NDJSON (${(plain.bytes / 2 ** 20).toFixed(0)} MiB, same batches, partitions and concurrency, this round) ${fmt(plain.rate)} ev/s → ratio ${(r.rate / plain.rate).toFixed(2)} (aim ≥ 0.8), aim ≥ 20,000 ev/s; ${r.cpu}`,
      });
    }
  }
  if (S3_ROUNDS > 1) for (const [mapping, list] of rates) console.log(`  s3 ${mapping} mapping, events/s round by round: ${list.map(fmt).join(', ')}`);
  const ceiling = await putCeiling(s3, 'bench-plain-1');
  const encoding = await encodeCeiling(def.limits);
  console.log(`  radosgw ceiling (8 MiB PUTs, 4 at a time) ${ceiling.toFixed(0)} MiB/s; encoder alone (same rows mapped in advance by logRows, local files) ${fmt(encoding)} ev/s`);
  s3.destroy();
}

async function benchBigQuery(lines: Line[]) {
  console.log('bigquery: writing into the sandbox (its own process)…');
  const sandbox = await startSandboxProcess('bigquery', { project: 'bench-project' });
  try {
    const def = getDestination('bigquery')!;
    const config = { service_account_json: JSON.stringify(await sandbox.call('createServiceAccountKey')), dataset: 'bench', api_endpoint: sandbox.url };
    const { rate, redelivered, cpu } = await metered(sandbox, EVENTS, () => drive(def, config));
    const [r] = await sandbox.call<Record<string, unknown>[]>('inspect', 'SELECT count(*) AS n, count(DISTINCT id) AS d FROM bench.message');
    // The ceiling writes other events into a dataset of its own (created by the writer's test()).
    const setup = def.create({ ...config, dataset: 'ceiling' }, benchContext());
    await setup.test();
    await setup.close();
    const ceiling = await metered(sandbox, EVENTS, () => bigqueryCeiling(sandbox.url, 'bench-project', 'ceiling', config.service_account_json, benchContext(), ceilingBatches(def.limits.maxBatch)));
    report(lines, { name: 'bigquery (sandbox)', rate, rows: Number(r!.n), duplicates: Number(r!.n) - Number(r!.d), cpu: [`writer run ${cpu}`, `ceiling run ${ceiling.cpu}`], note: `${redelivered} batches redelivered; the sandbox's own ceiling (same requests prebuilt, sent with plain fetch, no redelivery) ${fmt(ceiling.rate)} ev/s, ${(ceiling.mergeShare * 100).toFixed(0)} % of it in the MERGE → ratio ${(rate / ceiling.rate).toFixed(2)}; aim ≥ 5,000 ev/s` });
  } finally {
    await sandbox.close();
  }
}

async function benchSnowflake(lines: Line[]) {
  console.log('snowflake: writing into the sandbox (its own process)…');
  const sandbox = await startSandboxProcess('snowflake', { account: 'BENCH' });
  try {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const session = { user: 'BENCH_USER', role: 'TRIBUTARY_ROLE', warehouse: 'TRIBUTARY_WH', database: 'NYLAS_DATABASE', schema: 'DATA_STREAMS' };
    await sandbox.call('setup', { ...session, publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const def = getDestination('snowflake')!;
    const config = { account: 'bench', ...session, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), account_url: sandbox.url };
    const { rate, redelivered, cpu } = await metered(sandbox, EVENTS, () => drive(def, config));
    const [r] = await sandbox.call<Record<string, unknown>[]>('inspect', 'SELECT count(*) AS n, count(DISTINCT "ID") AS d FROM NYLAS_DATABASE.DATA_STREAMS.MESSAGE');
    // The ceiling writes other events into a schema of its own (tables created by the writer's test()).
    await sandbox.call('setup', { ...session, schema: 'CEILING', publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const setup = def.create({ ...config, schema: 'CEILING' }, benchContext());
    await setup.test();
    await setup.close();
    const ceiling = await metered(sandbox, EVENTS, () => snowflakeCeiling(sandbox.url, { account: 'BENCH', ...session, schema: 'CEILING' }, config.private_key, ceilingBatches(def.limits.maxBatch)));
    report(lines, { name: 'snowflake (sandbox)', rate, rows: Number(r!.n), duplicates: Number(r!.n) - Number(r!.d), cpu: [`writer run ${cpu}`, `ceiling run ${ceiling.cpu}`], note: `${redelivered} batches redelivered; the sandbox's own ceiling (same requests prebuilt, sent with plain fetch, no redelivery) ${fmt(ceiling.rate)} ev/s, ${(ceiling.mergeShare * 100).toFixed(0)} % of it in the MERGE → ratio ${(rate / ceiling.rate).toFixed(2)}; aim ≥ 5,000 ev/s` });
  } finally {
    await sandbox.close();
  }
}

/**
 * Stops the bench's Ceph cluster however the process ends. Its daemons detach from the process
 * (and its process group), so they outlive a bench that is interrupted (Ctrl-C), killed
 * (SIGTERM, e.g. by a job runner's timeout) or ended by an uncaught error, none of which runs
 * main's `finally`; `startCeph` leaves stopping to its caller. A SIGKILL still leaves them.
 */
function stopWithProcess(ceph: CephS3): () => void {
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    ceph.stop();
  };
  process.once('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => {
      stop();
      process.kill(process.pid, signal); // no listener left: the signal's default action ends the process
    });
  return stop;
}

async function main() {
  console.log(machineLine());
  console.log(`${fmt(EVENTS)} message.created events of ~${(Buffer.byteLength(JSON.stringify(messageCreated(0, { prefix: 'x', bodyBytes: BODY_BYTES }))) / 1024).toFixed(1)} KB over 1,000 grants; every ${REDELIVER_EVERY}th batch delivered twice`);
  const only = new Set((process.env.BENCH_ONLY ?? 's3,bigquery,snowflake,postgres').split(','));
  const lines: Line[] = [];
  if (only.has('s3')) {
    const ceph = await startCeph();
    const stop = stopWithProcess(ceph);
    try {
      await benchS3(ceph, lines);
    } finally {
      stop();
    }
  }
  if (only.has('bigquery')) await benchBigQuery(lines);
  if (only.has('snowflake')) await benchSnowflake(lines);
  const bad = lines.filter((l) => l.duplicates !== 0 || l.rows !== EVENTS);
  if (only.has('postgres')) {
    console.log('postgres destination vs plain COPY (bench/destinations-throughput.ts, one round):');
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./destinations-throughput.ts', import.meta.url))], { env: { ...process.env, BENCH_EVENTS: String(EVENTS), BENCH_ROUNDS: '1' }, encoding: 'utf8' });
    process.stdout.write(r.stdout.split('\n').filter((l) => /postgres destination|plain COPY/.test(l)).map((l) => `  ${l.trim()}\n`).join(''));
    if (r.status !== 0) console.log(`  (failed: ${r.stderr.slice(-400)})`);
  }
  if (bad.length) {
    console.error(`row counts wrong in: ${bad.map((l) => l.name).join(', ')}`);
    process.exit(1);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
