/**
 * `node --import tsx bench/thread-start.ts` — what starting a worker's delivery thread costs (ADR
 * 0116, 0120). For each start: the time until the thread's engine runs, the CPU its OS thread used
 * until then (from /proc), and how much the process's RSS grew; then the thread is stopped. The
 * thread loads the engine, the store and the destination registry from the TypeScript sources
 * through tsx, as tests and a checkout do. One start per checkout first warms tsx's cache and is
 * shown apart; then `--runs N` (default 5) starts, medians.
 *
 * `--vs <checkout>` starts the other checkout's delivery thread (its src/delivery/thread.ts) in the
 * same runs, alternating with this one, and prints this ÷ that.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import type { WorkerContext } from '../src/context.js';
import { parseKeyRing } from '../src/crypto/keyring.js';
import { createSealer } from '../src/crypto/sealing.js';
import { DEFAULT_SUPERVISION } from '../src/delivery/thread.js';
import { createLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { openPostgres } from '../src/store/index.js';
import { migrate } from '../src/store/migrate.js';
import { createRepositories } from '../src/store/repositories/index.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { checkoutArgs } from './checkouts.js';
import { readThreads } from './cpu-meter.js';
import { machineLine, percentile } from './machine.js';

type ThreadModule = typeof import('../src/delivery/thread.js');

interface Sample {
  ms: number;
  threadCpuMs: number;
  rssMb: number;
}

const { runs, checkouts } = checkoutArgs(5);
const KEYS = `bench:${Buffer.alloc(32, 9).toString('base64')}`;

/** One thread start and stop; the CPU is the thread's own (the OS threads that appeared with it). */
async function once(mod: ThreadModule, base: Omit<WorkerContext, 'metrics'>): Promise<Sample> {
  const before = readThreads();
  const rss = process.memoryUsage.rss();
  const started = performance.now();
  // A registry per start: the thread's metrics are mirrored into it.
  const delivery = await mod.startDeliveryThread({ ...base, metrics: createMetrics() }, {}, DEFAULT_SUPERVISION);
  const ms = Math.round(performance.now() - started);
  let threadSeconds = 0;
  for (const [tid, seconds] of readThreads()) if (!before.has(tid)) threadSeconds += seconds;
  const sample = { ms, threadCpuMs: Math.round(threadSeconds * 1000), rssMb: (process.memoryUsage.rss() - rss) / 2 ** 20 };
  await delivery.stop();
  return sample;
}

console.log(machineLine());
const pg = await startPostgres();
const dataDir = mkdtempSync(join(tmpdir(), 'bench-thread-start-'));
try {
  const admin = await openPostgres(pg.url());
  await sql`create database bench`.execute(admin.db);
  await admin.close();
  const url = pg.url('bench');
  const store = await openPostgres(url);
  await migrate(store);
  const config = loadConfig({ TRIBUTARY_SECRET_KEYS: KEYS, DATABASE_URL: url, TRIBUTARY_DATA_DIR: dataDir, LOG_LEVEL: 'warn', TRIBUTARY_DELIVERY_THREAD: 'on' });
  const sealer = createSealer(parseKeyRing(KEYS));
  const base = { config, store, repos: createRepositories(store, sealer), sealer, logger: createLogger('warn'), now: () => new Date(), workerId: 'bench:thread-start' };
  const modules = await Promise.all(checkouts.map((c) => import(pathToFileURL(join(c, 'src/delivery/thread.ts')).href) as Promise<ThreadModule>));
  const warm = [];
  for (const mod of modules) warm.push(await once(mod, base));
  const samples: Sample[][] = checkouts.map(() => []);
  for (let i = 0; i < runs; i++) for (const [c, mod] of modules.entries()) samples[c]!.push(await once(mod, base));
  await store.close();

  const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  const medians = (xs: Sample[]): Sample => ({ ms: med(xs.map((s) => s.ms)), threadCpuMs: med(xs.map((s) => s.threadCpuMs)), rssMb: med(xs.map((s) => s.rssMb)) });
  const line = (s: Sample) => `${s.ms} ms to ready, thread CPU ${s.threadCpuMs} ms, RSS +${s.rssMb.toFixed(0)} MB`;
  for (const [c, checkout] of checkouts.entries()) {
    console.log(checkout);
    console.log(`  first start (warms tsx's cache): ${line(warm[c]!)}`);
    console.log(`  median of ${runs}: ${line(medians(samples[c]!))} (thread CPU: ${samples[c]!.map((s) => s.threadCpuMs).join(', ')} ms)`);
  }
  if (checkouts.length === 2) {
    const [x, y] = [medians(samples[0]!), medians(samples[1]!)];
    console.log(`this ÷ --vs: time ${(x.ms / y.ms).toFixed(2)}, thread CPU ${(x.threadCpuMs / y.threadCpuMs).toFixed(2)}, RSS growth ${(x.rssMb / y.rssMb).toFixed(2)}`);
  }
} finally {
  pg.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
