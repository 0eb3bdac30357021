/**
 * `npm run bench:delivery` — the delivery engine into the `webhook` destination, on the real
 * PostgreSQL and on the embedded database, side by side:
 *
 * 1. throughput: 30,000 `message.created` events over 1,000 distinct grants already in the log;
 *    a new stream (start: earliest) delivers them to a local receiver; events/s from engine
 *    start to the last receipt;
 * 2. latency: a stream at the end of the log while events are appended at a steady 500 events/s
 *    for 15 s; p50/p99 from append to receipt;
 * 3. drain (PostgreSQL only): an already-filled log of ONE grant × 10,000 events and of 20 grants
 *    × 500, drained by a new stream, once per webhook setting (one request at a time, the default
 *    pipeline, batches), side by side in one run so ratios compare on a loaded machine. The
 *    receiver counts first deliveries that arrive out of per-grant order (must be 0).
 *
 * `BENCH_ONLY=drain` (or `throughput,latency`) runs a subset; `BENCH_DRAIN_SETTINGS` picks the drain's settings.
 * Engine and appender run in this process (the embedded database allows nothing else); the
 * receiver runs in its own process. Each throughput run is repeated ROUNDS times; medians are
 * quoted. Engine settings are the production defaults.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { parseKeyRing } from '../src/crypto/keyring.js';
import { createSealer } from '../src/crypto/sealing.js';
import { DEFAULT_ENGINE_OPTIONS } from '../src/delivery/deps.js';
import { createDeliveryEngine } from '../src/delivery/engine.js';
import { deliveryMetrics } from '../src/delivery/metrics.js';
import { registryCatalog } from '../src/delivery/registry-catalog.js';
import { streamService } from '../src/delivery/streams.js';
import type { NewEvent } from '../src/domain/event.js';
import { appendEvents } from '../src/event-log/append.js';
import { createLogger } from '../src/observability/logger.js';
import { createMetrics } from '../src/observability/metrics.js';
import { openPGlite, openPostgres, type Store } from '../src/store/index.js';
import { migrate } from '../src/store/migrate.js';
import { createRepositories } from '../src/store/repositories/index.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { cpuSample, imapBenchGroups } from './cpu-meter.js';
import { machineLine, percentile } from './machine.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 30_000);
const GRANTS = 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATE = 500;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'throughput,latency,drain').split(','));
const DRAIN_EVENTS = Number(process.env.BENCH_DRAIN_EVENTS ?? 10_000);
const KEYS = `b:${Buffer.alloc(32, 5).toString('base64')}`;

/** The PostgreSQL server's postmaster (its backends are its children), for its CPU per event. */
let pgPid = 0;
const pgSeconds = () => cpuSample(imapBenchGroups({}), [pgPid]).groups.get('PostgreSQL') ?? 0;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Stats {
  count: number;
  /** First deliveries whose event is older (per grant) than one already received. */
  outOfOrder: number;
  firstAt: number;
  lastAt: number;
  latencies: number[];
}

function startReceiver(): Promise<{ child: ChildProcess; url: string; ask: (op: 'stats' | 'reset') => Promise<Stats> }> {
  const child = fork(new URL('./delivery-receiver.ts', import.meta.url), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve) => {
    child.once('message', (m: { port: number }) => {
      const ask = (op: 'stats' | 'reset') =>
        new Promise<Stats>((r) => {
          child.once('message', (s: Stats) => r(s));
          child.send({ op });
        });
      resolve({ child, url: `http://127.0.0.1:${m.port}/hook`, ask });
    });
  });
}

let serial = 0;
function event(grant: number, appendedAt: number): NewEvent {
  const id = `bench-${serial++}`;
  const grantId = `grant-${grant}`;
  return {
    id,
    type: 'message.created',
    source: '/microsoft/emails/realtime',
    time: Math.floor(appendedAt / 1000),
    grantId,
    provider: 'microsoft',
    object: {
      id,
      grant_id: grantId,
      object: 'message',
      thread_id: `t-${id}`,
      subject: 'Quarterly numbers',
      from: [{ name: 'Ada', email: 'ada@example.com' }],
      to: [{ name: 'Grace', email: 'grace@example.com' }],
      snippet: 'Please find the figures attached',
      body: '<p>' + 'Lorem ipsum dolor sit amet. '.repeat(20) + '</p>',
      appended_at_ms: appendedAt,
    },
  };
}

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function setup(kind: 'postgres' | 'pglite', store: Store) {
  await migrate(store);
  const sealer = createSealer(parseKeyRing(KEYS));
  const repos = createRepositories(store, sealer);
  const logger = createLogger('warn');
  const { app } = await repos.applications.ensureDefault('local');
  const svc = streamService({ db: store.db, sealer, catalog: registryCatalog, now: () => new Date(), logger, allowPrivateAddresses: true, dataDir: tmpdir() });
  const metrics = createMetrics();
  const engine = () =>
    createDeliveryEngine({
      db: store.db,
      sealer,
      catalog: registryCatalog,
      leases: repos.leases,
      logger,
      metrics: deliveryMetrics(metrics.registry),
      now: () => new Date(),
      random: Math.random,
      workerId: `bench-${kind}`,
      allowPrivateAddresses: true,
      dataDir: tmpdir(),
      options: { ...DEFAULT_ENGINE_OPTIONS, scanIntervalMs: 100 },
    });
  return { app, svc, engine };
}

type Setup = Awaited<ReturnType<typeof setup>>;
const SECRET = 'whsec_' + Buffer.alloc(32, 9).toString('base64');

/** Fills the log with `events` events spread over `grants` grants, then times a new stream draining it. */
async function drainOnce(store: Store, env: Setup, rx: Receiver, events: number, grants: number, config: Record<string, unknown>) {
  await sql`truncate events`.execute(store.db);
  for (let i = 0; i < events; i += 1000) {
    const now = Date.now();
    await appendEvents(store.db, env.app.id, Array.from({ length: Math.min(1000, events - i) }, (_, j) => event((i + j) % grants, now)));
  }
  const s = await env.svc.create(env.app.id, { name: 'drain', dataTypes: ['message.created'], destination: { type: 'webhook', config: { url: rx.url, secret: SECRET, ...config } }, start: 'earliest' });
  await rx.ask('reset');
  const e = env.engine();
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  const pg0 = pgSeconds();
  e.start();
  let st = await rx.ask('reset');
  while (st.count < events) {
    await new Promise((r) => setTimeout(r, 50));
    st = await rx.ask('stats');
  }
  const cpu = process.cpuUsage(cpu0);
  const pgUs = (pgSeconds() - pg0) * 1e6;
  const seconds = (st.lastAt - started) / 1000;
  await e.stop();
  await env.svc.remove(env.app.id, s.id);
  // CPU time of this process (the engine, plus its database client) per event: far less sensitive to a loaded machine than a rate.
  return { rate: events / seconds, seconds, outOfOrder: st.outOfOrder, cpuUsPerEvent: (cpu.user + cpu.system) / events, pgUsPerEvent: pgUs / events };
}

async function throughput(kind: string, store: Store, env: Setup, rx: Receiver) {
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const r = await drainOnce(store, env, rx, EVENTS, GRANTS, {});
    rates.push(r.rate);
    console.log(`  ${kind} round ${round + 1}: ${fmt(EVENTS)} events in ${r.seconds.toFixed(2)} s = ${fmt(r.rate)} events/s`);
  }
  return median(rates);
}

async function latency(store: Store, env: Setup, rx: Receiver) {
  const s = await env.svc.create(env.app.id, { name: 'latency', dataTypes: ['message.created'], destination: { type: 'webhook', config: { url: rx.url, secret: SECRET } } });
  const e = env.engine();
  e.start();
  await new Promise((r) => setTimeout(r, 1000));
  await rx.ask('reset');
  const tick = 20;
  const perTick = (RATE * tick) / 1000;
  const total = RATE * SECONDS;
  const t0 = Date.now();
  for (let sent = 0, k = 0; sent < total; k++) {
    const due = t0 + k * tick;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const now = Date.now();
    await appendEvents(store.db, env.app.id, Array.from({ length: perTick }, (_, j) => event((sent + j) % GRANTS, now)));
    sent += perTick;
  }
  let st = await rx.ask('stats');
  const deadline = Date.now() + 60_000;
  while (st.count < total && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    st = await rx.ask('stats');
  }
  await e.stop();
  await env.svc.remove(env.app.id, s.id);
  const lat = [...st.latencies].sort((a, b) => a - b);
  return { p50: percentile(lat, 50), p90: percentile(lat, 90), p99: percentile(lat, 99), max: lat.at(-1) ?? NaN, received: st.count, total };
}

/** Webhook settings the drain can compare, in this order within one run. */
const ALL_DRAIN_SETTINGS: Record<string, [string, Record<string, unknown>]> = {
  pipelining1: ['one request at a time (pipelining 1)', { pipelining: 1 }],
  default: ['default settings', {}],
  batched: ['batches of 100 events', { batch_max_events: 100 }],
};
/** `BENCH_DRAIN_SETTINGS=default,batched` runs a subset (BENCH_DRAIN_DEFAULT_ONLY=1: `default` alone). */
const DRAIN_SETTINGS = (process.env.BENCH_DRAIN_DEFAULT_ONLY ? ['default'] : (process.env.BENCH_DRAIN_SETTINGS ?? 'pipelining1,default,batched').split(',')).map((name) => {
  const setting = ALL_DRAIN_SETTINGS[name];
  if (!setting) throw new Error(`BENCH_DRAIN_SETTINGS: unknown setting "${name}" (known: ${Object.keys(ALL_DRAIN_SETTINGS).join(', ')})`);
  return setting;
});

async function drain(store: Store, env: Setup, rx: Receiver) {
  console.log(`\ndrain an already-filled log (PostgreSQL; events/s from engine start to the last receipt):`);
  console.log('  setting                                  1 grant × ' + fmt(DRAIN_EVENTS) + '   20 grants × ' + fmt(DRAIN_EVENTS / 20) + '   engine CPU µs/event (1 / 20)   PostgreSQL µs/event (1 / 20)   out of order');
  for (const [label, config] of DRAIN_SETTINGS) {
    const one = await drainOnce(store, env, rx, DRAIN_EVENTS, 1, config);
    const twenty = await drainOnce(store, env, rx, DRAIN_EVENTS, 20, config);
    console.log(`  ${label.padEnd(40)} ${fmt(one.rate).padStart(16)} ${fmt(twenty.rate).padStart(18)}   ${`${fmt(one.cpuUsPerEvent)} / ${fmt(twenty.cpuUsPerEvent)}`.padStart(27)}   ${`${fmt(one.pgUsPerEvent)} / ${fmt(twenty.pgUsPerEvent)}`.padStart(27)}   ${one.outOfOrder + twenty.outOfOrder}`);
  }
}

async function main() {
  console.log(machineLine());
  console.log(`webhook delivery: ${fmt(EVENTS)} events over ${fmt(GRANTS)} grants (throughput, median of ${ROUNDS}); ${RATE} events/s for ${SECONDS} s (latency)`);
  const rx = await startReceiver();
  const pg = await startPostgres();
  pgPid = pg.pid();
  const dir = mkdtempSync(join(tmpdir(), 'bench-delivery-'));
  const rates: Record<string, number> = {};
  const lats: Record<string, Awaited<ReturnType<typeof latency>>> = {};
  try {
    const admin = await openPostgres(pg.url());
    await sql`create database bench`.execute(admin.db);
    await admin.close();
    const pgStore = await openPostgres(pg.url('bench'));
    const pgEnv = await setup('postgres', pgStore);
    if (ONLY.has('drain')) await drain(pgStore, pgEnv, rx);
    if (ONLY.has('throughput')) rates.postgres = await throughput('postgres', pgStore, pgEnv, rx);
    if (ONLY.has('latency')) lats.postgres = await latency(pgStore, pgEnv, rx);
    await pgStore.close();
    if (ONLY.has('throughput') || ONLY.has('latency')) {
      const lite = await openPGlite(dir);
      const liteEnv = await setup('pglite', lite);
      if (ONLY.has('throughput')) rates.pglite = await throughput('pglite', lite, liteEnv, rx);
      if (ONLY.has('latency')) lats.pglite = await latency(lite, liteEnv, rx);
      await lite.close();
    }
  } finally {
    rx.child.disconnect();
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  if (Object.keys(rates).length + Object.keys(lats).length === 0) return;
  console.log('\n                      events/s   p50 ms   p90 ms   p99 ms   max ms   delivered');
  for (const kind of ['postgres', 'pglite']) {
    const r = rates[kind];
    const l = lats[kind];
    const cell = (v: number | undefined, w: number) => (v === undefined ? '—' : String(v)).padStart(w);
    console.log(`  ${kind.padEnd(18)} ${(r === undefined ? '—' : fmt(r)).padStart(9)} ${cell(l?.p50, 8)} ${cell(l?.p90, 8)} ${cell(l?.p99, 8)} ${cell(l?.max, 8)}   ${l ? `${fmt(l.received)}/${fmt(l.total)}` : '—'}`);
  }
  if (rates.postgres && rates.pglite) console.log(`  ratio postgres/pglite throughput: ${(rates.postgres / rates.pglite).toFixed(2)}×`);
  if (rates.postgres && lats.postgres) console.log(`  aim (PostgreSQL): > 3,000 events/s ${rates.postgres > 3000 ? 'met' : 'NOT met'}; p99 < 250 ms ${lats.postgres.p99 < 250 ? 'met' : 'NOT met'}`);
}

await main();
