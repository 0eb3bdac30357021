/**
 * bench:imap-timeline — where a backfill's and a burst's wall-clock goes. One worker's
 * sync engine (production scheduler settings, grants started at once) on PostgreSQL and Dovecot
 * on loopback, no delivery: the IMAP session's pipeline trace (src/providers/imap/trace.ts)
 * gives every chunk's stages and every pass boundary, printed as a timeline and summed into
 * "who waited on whom". Beside it, the like-for-like raw FETCH of the same mailbox.
 *
 * Settings variants (`--variants before,after`, see VARIANTS) run alternately, backfill then burst,
 * `--runs` times each; medians per variant, and the timeline of each variant's first run.
 *
 * Usage: npm run bench:imap-timeline [-- --messages 10000 --runs 1 --variants after --chunks --scenarios backfill,burst,spread]
 *  --chunks prints every chunk's line (else the first and last few of each pass);
 *  --scenarios picks the scenarios (default backfill,burst); `spread` is a burst over
 *  --mailboxes (20) idle INBOXes × --per-mailbox (500) new mails, with each grant's bulk opens.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import type { ImapFlow } from 'imapflow';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/main.js';
import { baselineSearch } from '../src/providers/imap/baseline-search.js';
import { backfillPass, bulkReader, pipeline } from '../src/providers/imap/sync.js';
import { pipelineTrace, type TraceEvent } from '../src/providers/imap/trace.js';
import { startSync } from '../src/sync/index.js';
import type { SchedulerOptions } from '../src/sync/scheduler.js';
import { Dovecot } from '../test/helpers/dovecot.js';
import { seedGrants } from '../test/helpers/grants.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { cpuLine, cpuSample, imapBenchGroups } from './cpu-meter.js';
import { benchMailbox } from './imap-fixtures.js';
import { machineLine } from './machine.js';
import { opensOf, split, summarize, timelineLines, type Opens } from './imap-timeline-report.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg('messages', 10_000);
const RUNS = arg('runs', 1);
const ALL_CHUNKS = process.argv.includes('--chunks');
const MAILBOXES = arg('mailboxes', 20);
const PER_MAILBOX = arg('per-mailbox', 500);
const flag = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};

/**
 * What the sync did before ADR 0512, each change alone, and all of it; `tick-only` is today's
 * sync with new grants claimed at the scheduler's tick, as before ADR 0513; `baseline-day` is
 * today's sync with the baseline of before ADR 0514 (the day before the creation searched, every
 * candidate's INTERNALDATE in one FETCH), `open-late` with the backfill's bulk connection opened
 * by its first pass, as before ADR 0514, and `before-0514` with both.
 */
interface Settings {
  backfillPass: typeof backfillPass;
  pipeline: typeof pipeline;
  baselineSearch?: typeof baselineSearch;
  bulkReader?: typeof bulkReader;
  scheduler?: Partial<SchedulerOptions>;
}
const NOW = { backfillPass: { ...backfillPass }, pipeline: { ...pipeline } };
const BASELINE = { ...baselineSearch };
const BULK = { ...bulkReader };
const DAY_BASELINE = { slackMs: 86_400_000, datesPerFetch: Infinity, esearch: false };
const OLD = { backfillPass: { maxUids: 5_000, checkMs: Infinity }, pipeline: { lookahead: 2, readAhead: false } };
const VARIANTS: Record<string, Settings> = {
  before: OLD,
  'long-pass': { ...OLD, backfillPass: { maxUids: 50_000, checkMs: 1_000 } },
  lookahead4: { ...OLD, pipeline: { ...OLD.pipeline, lookahead: 4 } },
  'read-ahead': { ...OLD, pipeline: { ...OLD.pipeline, readAhead: true } },
  after: NOW,
  'after-lookahead4': { ...NOW, pipeline: { ...pipeline, lookahead: 4 } },
  'tick-only': { ...NOW, scheduler: { wakeOnClaimable: false } },
  'baseline-day': { ...NOW, baselineSearch: DAY_BASELINE },
  'open-late': { ...NOW, bulkReader: { ...BULK, openAtBaseline: false } },
  'before-0514': { ...NOW, baselineSearch: DAY_BASELINE, bulkReader: { ...BULK, openAtBaseline: false } },
};
const chosen = flag('variants', 'after').split(',');
const SCENARIOS = ['backfill', 'burst', 'spread'] as const;
type Scenario = (typeof SCENARIOS)[number];
const scenarios = flag('scenarios', 'backfill,burst').split(',') as Scenario[];
for (const sc of scenarios) if (!SCENARIOS.includes(sc)) throw new Error(`unknown scenario ${sc}; known: ${SCENARIOS.join(', ')}`);
for (const v of chosen) if (!VARIANTS[v]) throw new Error(`unknown variant ${v}; known: ${Object.keys(VARIANTS).join(', ')}`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

const pg = await startPostgres();
const dovecot = await Dovecot.start({ imapClientLimit: 100, imapProcessLimit: 100, maxUserIpConnections: 1000 });
const ctx = await createContext(
  loadConfig({ DATABASE_URL: pg.url(), TRIBUTARY_SECRET_KEYS: `bench:${Buffer.alloc(32, 3).toString('base64')}`, LOG_LEVEL: 'warn', TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'true', TRIBUTARY_DATA_DIR: '/nonexistent' }),
);
const imapSettings = { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none' };
const groups = imapBenchGroups({});

/** The e2e bench's like-for-like raw FETCH: metadata, then the first body part, chunks of 500. */
async function rawFetch(client: ImapFlow): Promise<number> {
  const mb = await client.mailboxOpen('INBOX');
  let n = 0;
  for (let from = 1; from <= mb.exists; from += 500) {
    const range = `${from}:${Math.min(mb.exists, from + 499)}`;
    for await (const m of client.fetch(range, { uid: true, flags: true, envelope: true, bodyStructure: true, internalDate: true, headers: ['references'] })) void m;
    for await (const m of client.fetch(range, { uid: true, bodyParts: ['1'] })) if (m.bodyParts) n++;
  }
  return n;
}

async function logCount(grantId: string): Promise<number> {
  const r = await ctx.store.db.selectFrom('events').select(({ fn }) => fn.countAll<string>().as('n')).where('grant_id', '=', grantId).executeTakeFirstOrThrow();
  return Number(r.n);
}

async function retire(grantId: string): Promise<void> {
  await ctx.store.db.updateTable('grants').set({ status: 'revoked' }).where('id', '=', grantId).execute();
}

/** Collects the trace of one grant; `t0` is the scenario's start (performance.now()). */
function record(): { events: TraceEvent[]; stop(): void } {
  const events: TraceEvent[] = [];
  pipelineTrace.on = (e) => events.push(e);
  return { events, stop: () => void (pipelineTrace.on = null) };
}

interface Result {
  rate: number;
  raw: number;
  /** This process's CPU per message (µs). */
  cpu: number;
  /** Messages per second from the first pass with chunks starting to the last commit (no claim wait, no baseline). */
  inPass: number;
  /** From the scenario's start (grant created, or mail landed) to its first pass with chunks, ms. */
  beforeFirstPass: number;
  /** The baseline's own time (pass.baseline → baseline.end), ms; 0 in a burst (its grant was baselined before). */
  baseline: number;
}

function inPassRate(events: TraceEvent[], t0: number, done: number): number {
  const s = split(events, t0, done);
  return MESSAGES / ((s.wall - s.beforeFirstPass - s.tail) / 1000);
}

/** The raw FETCH of a user's INBOX, msg/s (the first run also warms Dovecot's index). */
async function timedRawFetch(user: string): Promise<number> {
  const client = await dovecot.client(user, 'pw');
  const c0 = performance.now();
  const fetched = await rawFetch(client);
  const rate = fetched / ((performance.now() - c0) / 1000);
  await client.logout();
  return rate;
}

/** Runs `begin` (which returns the grant it set going) and waits until the log holds MESSAGES of its events, tracing meanwhile. */
async function measure(title: string, show: boolean, raw: () => Promise<number>, begin: () => Promise<string>): Promise<Result> {
  const trace = record();
  const a = cpuSample(groups, [pg.pid()]);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const grantId = await begin();
  while ((await logCount(grantId)) < MESSAGES) await sleep(20);
  const done = performance.now();
  const cpu = cpuMicros(c0) / MESSAGES;
  const b = cpuSample(groups, [pg.pid()]);
  trace.stop();
  await retire(grantId);
  const rawRate = await raw();
  if (show) report(title, t0, done, trace.events, rawRate, cpuLine(a, b, MESSAGES));
  const s = split(trace.events, t0, done);
  return { rate: MESSAGES / ((done - t0) / 1000), raw: rawRate, cpu, inPass: inPassRate(trace.events, t0, done), beforeFirstPass: s.beforeFirstPass, baseline: s.baseline };
}

async function backfill(show: boolean): Promise<Result> {
  const user = `backfill-${randomUUID().slice(0, 6)}`;
  dovecot.addUser(user, 'pw');
  dovecot.writeMessages(user, benchMailbox(MESSAGES));
  // Measured before, so that it warms the index: neither contender pays for the first indexing.
  const raw = await timedRawFetch(user);
  return measure(`backfill of ${MESSAGES} existing mails`, show, async () => raw, async () => {
    const { grants } = await seedGrants(ctx, 1, { credentials: () => ({ username: user, password: 'pw' }), settings: { ...imapSettings, backfill_days: 3650 } });
    return grants[0]!.id;
  });
}

async function burst(show: boolean): Promise<Result> {
  const user = `burst-${randomUUID().slice(0, 6)}`;
  dovecot.addUser(user, 'pw');
  const { grants } = await seedGrants(ctx, 1, { credentials: () => ({ username: user, password: 'pw' }), settings: imapSettings });
  const g = grants[0]!;
  while (!(await ctx.repos.grants.getById(g.id))!.sync_state.cursor) await sleep(20);
  await sleep(1500); // IDLE is up
  const staged = dovecot.stage(user, benchMailbox(MESSAGES));
  return measure(`burst of ${MESSAGES} new mails in one idle INBOX`, show, () => timedRawFetch(user), async () => {
    await dovecot.land(staged);
    return g.id;
  });
}

/** The spread burst's result: like Result, plus each grant's bulk-reader opens. */
interface SpreadResult extends Result {
  opens: Opens;
}

/** New mail in MAILBOXES idle INBOXes at once, PER_MAILBOX each, beside as many concurrent raw FETCH clients. */
async function spread(show: boolean): Promise<SpreadResult> {
  const users = Array.from({ length: MAILBOXES }, (_, i) => `spread-${i}-${randomUUID().slice(0, 6)}`);
  dovecot.addUsers(users, 'pw');
  const { grants } = await seedGrants(ctx, MAILBOXES, { credentials: (i) => ({ username: users[i]!, password: 'pw' }), settings: imapSettings });
  const ids = grants.map((g) => g.id);
  for (const id of ids) while (!(await ctx.repos.grants.getById(id))!.sync_state.cursor) await sleep(20);
  await sleep(1500); // IDLE is up everywhere
  const staged = users.map((u) => dovecot.stage(u, benchMailbox(PER_MAILBOX)));
  const total = MAILBOXES * PER_MAILBOX;
  const trace = record();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(staged.map((st) => dovecot.land(st)));
  while ((await Promise.all(ids.map(logCount))).reduce((a, b) => a + b, 0) < total) await sleep(20);
  const done = performance.now();
  const cpu = cpuMicros(c0) / total;
  trace.stop();
  for (const id of ids) await retire(id);
  const clients = await Promise.all(users.map((u) => dovecot.client(u, 'pw')));
  const r0 = performance.now();
  const fetched = (await Promise.all(clients.map(rawFetch))).reduce((a, b) => a + b, 0);
  const raw = fetched / ((performance.now() - r0) / 1000);
  await Promise.all(clients.map((c) => c.logout()));
  const rate = total / ((done - t0) / 1000);
  const opens = opensOf(trace.events, t0);
  if (show) {
    console.log(`\nburst over ${MAILBOXES} idle INBOXes × ${PER_MAILBOX}: into the log ${rate.toFixed(0)} msg/s (${((done - t0) / 1000).toFixed(2)} s), raw FETCH ${raw.toFixed(0)} msg/s, ratio ${(rate / raw).toFixed(2)}; load ${load()}`);
    console.log(`  ${opens.line}`);
  }
  return { rate, raw, cpu, inPass: rate, beforeFirstPass: opens.firstChunkMedian, baseline: 0, opens };
}

const cpuMicros = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return c.user + c.system;
};

function report(title: string, t0: number, done: number, events: TraceEvent[], raw: number, cpu: string): void {
  const secs = (done - t0) / 1000;
  console.log(`\n${title}: into the log ${(MESSAGES / secs).toFixed(0)} msg/s (${secs.toFixed(2)} s), raw FETCH ${raw.toFixed(0)} msg/s, ratio ${(MESSAGES / secs / raw).toFixed(2)}; load ${load()}`);
  console.log(`  ${cpu}`);
  for (const line of timelineLines(events, t0, ALL_CHUNKS)) console.log(`  ${line}`);
  for (const line of summarize(events, t0, done)) console.log(`  ${line}`);
}

try {
  console.log(machineLine());
  console.log(`load average at start: ${load()}`);
  const results = new Map(chosen.map((v) => [v, { backfill: [] as Result[], burst: [] as Result[], spread: [] as SpreadResult[] }]));
  for (let r = 0; r < RUNS; r++) {
    for (const v of chosen) {
      Object.assign(backfillPass, VARIANTS[v]!.backfillPass);
      Object.assign(pipeline, VARIANTS[v]!.pipeline);
      Object.assign(baselineSearch, VARIANTS[v]!.baselineSearch ?? BASELINE);
      Object.assign(bulkReader, VARIANTS[v]!.bulkReader ?? BULK);
      const overrides = { startSpreadMs: 0, ...VARIANTS[v]!.scheduler };
      if (r === 0) console.log(`\n=== ${v}: backfillPass ${JSON.stringify(backfillPass)}, pipeline ${JSON.stringify(pipeline)}, baselineSearch ${JSON.stringify(baselineSearch)}, bulkReader ${JSON.stringify(bulkReader)}, scheduler ${JSON.stringify(overrides)}`);
      // A scheduler per variant and round: its settings are the variant's, and each starts idle.
      const scheduler = await startSync(ctx, 'bench-timeline', overrides);
      try {
        const into = results.get(v)!;
        if (scenarios.includes('backfill')) into.backfill.push(await backfill(r === 0));
        if (scenarios.includes('burst')) into.burst.push(await burst(r === 0));
        if (scenarios.includes('spread')) into.spread.push(await spread(r === 0));
      } finally {
        await scheduler.stop();
      }
    }
  }
  console.log(`\nmedians of ${RUNS} (variants alternating; into the log, msg/s; ratio to the raw FETCH of the same run; this process's CPU µs/msg); load ${load()}`);
  for (const [v, { backfill: bf, burst: bu, spread: sp }] of results) {
    const line = (rs: Result[]) =>
      rs.length === 0 ? 'not run' :
      `${median(rs.map((x) => x.rate)).toFixed(0)} (${median(rs.map((x) => x.rate / x.raw)).toFixed(2)} of raw; runs ${rs.map((x) => x.rate.toFixed(0)).join(', ')}; in-pass ${median(rs.map((x) => x.inPass)).toFixed(0)} = ${median(rs.map((x) => x.inPass / x.raw)).toFixed(2)} of raw; before the first pass ${median(rs.map((x) => x.beforeFirstPass)).toFixed(0)} ms, runs ${rs.map((x) => x.beforeFirstPass.toFixed(0)).join(', ')}; baseline ${median(rs.map((x) => x.baseline)).toFixed(0)} ms, runs ${rs.map((x) => x.baseline.toFixed(0)).join(', ')}; CPU ${median(rs.map((x) => x.cpu)).toFixed(0)})`;
    console.log(`  ${v.padEnd(13)} backfill ${line(bf)}; burst ${line(bu)}`);
    if (sp.length > 0) {
      console.log(
        `  ${''.padEnd(13)} spread ${median(sp.map((x) => x.rate)).toFixed(0)} msg/s (${median(sp.map((x) => x.rate / x.raw)).toFixed(2)} of raw; runs ${sp.map((x) => x.rate.toFixed(0)).join(', ')}); landed → first chunk queued, median over grants ${median(sp.map((x) => x.opens.firstChunkMedian)).toFixed(0)} ms; bulk open → ready, median ${median(sp.map((x) => x.opens.openMedian)).toFixed(0)} ms, max ${median(sp.map((x) => x.opens.openMax)).toFixed(0)} ms; opens per grant ${median(sp.map((x) => x.opens.perGrant)).toFixed(1)}; CPU ${median(sp.map((x) => x.cpu)).toFixed(0)}`,
      );
    }
  }
} finally {
  await ctx.store.close();
  await dovecot.destroy();
  pg.stop();
}
