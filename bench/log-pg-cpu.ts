/**
 * `npm run bench:log-pg` — what PostgreSQL spends per message on the log's hot path, without
 * IMAP or a destination in the way: a backfill's commits (`commitBatch` of 500 mail-sized events,
 * the sync outbox's one statement), then delivery's statements for the same events (per window:
 * the runner's stream read, `readAfter`, the attempt record and the offset commit). Prints, per
 * phase, the PostgreSQL server's CPU µs per event (the postmaster and all its processes, from
 * /proc), WAL bytes per event (`pg_stat_wal`), and this process's CPU µs per event.
 *
 * Side by side: `--vs <variant>` runs A (the schema and statements as they are) and B (the
 * variant, bench/log-pg-variants.ts) on two databases of one cluster, rounds interleaved and the
 * order alternating, and prints medians and B ÷ A. `--statements` adds pg_stat_statements' top
 * statements by time per variant (the server restarts once to load it).
 *
 * `LOG_PG_PERF=<file>` records the server's backends with `perf record -g` during the measured
 * rounds (`perf report -i <file> --no-children --sort symbol` shows where its CPU goes).
 *
 * Usage: node --import tsx bench/log-pg-cpu.ts [-- --events 10000 --rounds 5 --window 2000 --vs <variant> --statements]
 */
import { execFileSync, spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import pg from 'pg';
import type { AppContext } from '../src/context.js';
import { streamStore } from '../src/delivery/stream-store.js';
import type { NewEvent } from '../src/domain/event.js';
import { readAfter, type EventFilter } from '../src/event-log/read.js';
import { commitBatch, type HeldLease } from '../src/sync/outbox.js';
import { grantLeaseName } from '../src/sync/leases.js';
import { seedGrants } from '../test/helpers/grants.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { benchContext } from './e2e/harness.js';
import { cpuSample, imapBenchGroups } from './cpu-meter.js';
import { LOG_PG_VARIANTS, type LogVariant } from './log-pg-variants.js';
import { machineLine } from './machine.js';
import { mailEvent } from './log-pg-events.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const EVENTS = arg('events', 10_000);
const ROUNDS = arg('rounds', 5);
const WINDOW = arg('window', 2000);
const BATCH = 500;
const STATEMENTS = process.argv.includes('--statements');
const vs = process.argv.indexOf('--vs') > 0 ? process.argv[process.argv.indexOf('--vs') + 1] : undefined;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

interface Side {
  label: string;
  variant: LogVariant;
  ctx: AppContext;
  lease: HeldLease;
  grant: { id: string; applicationId: string };
  streamId: string;
  filter: EventFilter;
}

interface Phase {
  pgUs: number;
  walBytes: number;
  selfUs: number;
}

const variants: [string, LogVariant][] = [['A as is', LOG_PG_VARIANTS.none!]];
if (vs) {
  const v = LOG_PG_VARIANTS[vs];
  if (!v) throw new Error(`--vs: no variant "${vs}"; known: ${Object.keys(LOG_PG_VARIANTS).join(', ')}`);
  variants.push([`B ${vs}`, v]);
}

const server = await startPostgres();
if (STATEMENTS) {
  const admin = new pg.Client({ connectionString: server.url() });
  await admin.connect();
  await admin.query(`alter system set shared_preload_libraries = 'pg_stat_statements'`);
  await admin.query(`alter system set track_io_timing = on`);
  await admin.end();
  server.restart();
}
const sides: Side[] = [];
try {
  console.log(machineLine());
  console.log(`load average at start: ${load()}`);
  for (const [k, [label, variant]] of variants.entries()) {
    const admin = new pg.Client({ connectionString: server.url() });
    await admin.connect();
    await admin.query(`create database side${k}`);
    await admin.end();
    const ctx = await benchContext(server.url(`side${k}`));
    if (STATEMENTS) await sql`create extension if not exists pg_stat_statements`.execute(ctx.store.db);
    for (const statement of variant.setup) await sql.raw(statement).execute(ctx.store.db);
    const { grants, applicationId } = await seedGrants(ctx, 1, { settings: {} });
    const g = grants[0]!;
    const lease = await ctx.repos.leases.acquire(grantLeaseName(g.id), 'bench', 3_600_000);
    const { rows } = await sql<{ id: string }>`
      insert into streams (id, application_id, name, data_types, destination_type, destination_config)
      values ('bench-stream', ${applicationId}, 'bench', '["message.created"]'::jsonb, 'webhook', '{}'::jsonb) returning id`.execute(ctx.store.db);
    const streamId = rows[0]!.id;
    await ctx.repos.leases.acquire(`stream:${streamId}`, 'bench', 3_600_000);
    sides.push({ label, variant, ctx, lease: { name: grantLeaseName(g.id), holder: 'bench', token: lease!.token }, grant: { id: g.id, applicationId }, streamId, filter: { applicationId, types: ['message.created'] } });
  }

  const groups = imapBenchGroups({});
  const walBytes = async (s: Side) => Number((await sql<{ b: string }>`select wal_bytes::text as b from pg_stat_wal`.execute(s.ctx.store.db)).rows[0]!.b);
  const measure = async (s: Side, run: () => Promise<void>): Promise<Phase> => {
    const w0 = await walBytes(s);
    const a = cpuSample(groups, [server.pid()]);
    const c0 = process.cpuUsage();
    await run();
    const c = process.cpuUsage(c0);
    const b = cpuSample(groups, [server.pid()]);
    const w1 = await walBytes(s);
    return { pgUs: ((b.groups.get('PostgreSQL') ?? 0) - (a.groups.get('PostgreSQL') ?? 0)) * 1e6, walBytes: w1 - w0, selfUs: c.user + c.system };
  };

  /** One backfill of EVENTS new events through the outbox, then their delivery's statements. */
  const round = async (s: Side, r: number): Promise<{ append: Phase; read: Phase }> => {
    const batches = Array.from({ length: EVENTS / BATCH }, (_, b) => Array.from({ length: BATCH }, (_, i): NewEvent => mailEvent(s.grant.id, `${r}-${b * BATCH + i}`, b * BATCH + i)));
    const store = streamStore(s.ctx.store.db);
    const fence = { holder: 'bench', token: (await s.ctx.repos.leases.get(`stream:${s.streamId}`))!.token };
    const append = await measure(s, async () => {
      for (const [k, events] of batches.entries()) {
        const added = await (s.variant.commitBatch ?? commitBatch)(s.ctx.store.db, s.lease, s.grant, { events, cursor: { round: r, batch: k } });
        if (added.length !== events.length) throw new Error(`round ${r}: ${added.length} of ${events.length} events appended`);
      }
    });
    const read = await measure(s, async () => {
      let n = 0;
      for (;;) {
        const row = await store.forRunner(s.streamId);
        const from = { txid: String(row!.offset_txid), seq: String(row!.offset_seq) };
        const page = await (s.variant.readAfter ?? readAfter)(s.ctx.store.db, { after: from, filter: s.filter, limit: WINDOW });
        n += page.events.length;
        if (page.events.length > 0) {
          await store.recordAttempts([{ streamId: s.streamId, firstSeq: page.events[0]!.seq, lastSeq: page.events.at(-1)!.seq, count: page.events.length, outcome: 'delivered', attempt: 1, durationMs: 1, statusCode: null, error: null }]);
        }
        if (!(await store.commit(s.streamId, fence, from, page.next, { delivered: page.events.length, failed: 0, deadLettered: 0 }, true))) throw new Error('offset commit lost');
        if (page.events.length < WINDOW) break;
      }
      if (n !== EVENTS) throw new Error(`round ${r}: read ${n} of ${EVENTS} events`);
    });
    return { append, read };
  };

  // A warm-up round each (plans, caches, the first pages of every index), then the measured ones.
  for (const s of sides) await round(s, -1);
  if (STATEMENTS) for (const s of sides) await sql`select pg_stat_statements_reset()`.execute(s.ctx.store.db);
  const perfOut = process.env.LOG_PG_PERF;
  const perf = perfOut
    ? spawn('perf', ['record', '-F', '1999', '-g', '-o', perfOut, '-p', execFileSync('pgrep', ['-d', ',', '-P', String(server.pid())], { encoding: 'utf8' }).trim()], { stdio: 'inherit' })
    : null;
  if (perf) await new Promise((r) => setTimeout(r, 1000));
  const results = sides.map(() => [] as { append: Phase; read: Phase }[]);
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? sides.map((_, k) => k) : sides.map((_, k) => k).reverse();
    for (const k of order) results[k]!.push(await round(sides[k]!, r));
  }

  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  console.log(`${EVENTS.toLocaleString('en-US')} events of ${(JSON.stringify(mailEvent('g', 'x', 0)).length / 1024).toFixed(1)} KB per round, commits of ${BATCH}, windows of ${WINDOW}; medians of ${ROUNDS} rounds (µs per event, WAL bytes per event)`);
  const perEvent = (xs: number[]) => median(xs) / EVENTS;
  const summary = results.map((rs) => ({
    append: perEvent(rs.map((x) => x.append.pgUs)),
    read: perEvent(rs.map((x) => x.read.pgUs)),
  }));
  for (const [k, rs] of results.entries()) {
    const s = sides[k]!;
    const line = (name: 'append' | 'read') =>
      `${name}: PostgreSQL ${perEvent(rs.map((x) => x[name].pgUs)).toFixed(1)} (runs ${rs.map((x) => (x[name].pgUs / EVENTS).toFixed(0)).join(', ')}), WAL ${perEvent(rs.map((x) => x[name].walBytes)).toFixed(0)} B, this process ${perEvent(rs.map((x) => x[name].selfUs)).toFixed(1)}`;
    console.log(`  ${s.label}\n    ${line('append')}\n    ${line('read')}`);
  }
  if (summary.length === 2) {
    const [a, b] = summary as [{ append: number; read: number }, { append: number; read: number }];
    console.log(`  B ÷ A, PostgreSQL CPU per event: append ${(b.append / a.append).toFixed(2)}, read ${(b.read / a.read).toFixed(2)}, both ${((b.append + b.read) / (a.append + a.read)).toFixed(2)}`);
  }
  if (STATEMENTS) {
    for (const s of sides) {
      const { rows } = await sql<{ query: string; calls: string; ms: string; per_call: string; rows: string; blks: string }>`
        select left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 110) as query, calls::text, round(total_exec_time::numeric, 1)::text as ms,
               round((total_exec_time / calls)::numeric, 3)::text as per_call, rows::text, (shared_blks_hit + shared_blks_read)::text as blks
        from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())
        order by total_exec_time desc limit 12`.execute(s.ctx.store.db);
      console.log(`  pg_stat_statements, ${s.label} (${ROUNDS} rounds):`);
      for (const q of rows) console.log(`    ${q.ms.padStart(9)} ms  ${q.calls.padStart(6)} calls  ${q.per_call.padStart(9)} ms/call  ${q.rows.padStart(7)} rows  ${q.blks.padStart(8)} blocks  ${q.query}`);
    }
  }
  console.log(`load average at end: ${load()}`);
} finally {
  for (const s of sides) await s.ctx.store.close();
  server.stop();
}
