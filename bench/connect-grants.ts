/**
 * `npm run bench:scale -- --connect-only`: what it costs one worker to connect N IMAP grants
 * whose rows already exist. Each run seeds N fresh Dovecot users and their grants with
 * the scheduler stopped, then starts a scheduler and meters CPU (worker, PostgreSQL, Dovecot) and
 * PostgreSQL transactions from its start until every grant is connected and baselined. Variants
 * (old and new behaviour behind a switch) alternate within each repetition.
 *
 * Options: --grants N (default 3,000), --runs R (3), --vs <variants> (see CONNECT_VARIANTS),
 * --profile <file> (a V8 CPU profile of the worker during the first run's connect phase, for
 * bench/e2e/profile-summary.ts), --statements (log every statement PostgreSQL runs during the
 * first run of each variant and print them by kind: costs PostgreSQL CPU, so not for timing),
 * --engine-only (the in-memory provider of test/helpers/fake-provider.ts instead of IMAP: what the
 * sync engine alone costs per grant, without a connection).
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import { openConnections } from '../src/providers/imap/client.js';
import { startSync } from '../src/sync/index.js';
import type { SchedulerOptions } from '../src/sync/scheduler.js';
import { FakeMailboxes } from '../test/helpers/fake-provider.js';
import { seedGrants } from '../test/helpers/grants.js';
import { median, rigCpu, sleep, type Rig } from './e2e/harness.js';
import { variantOrder } from './e2e/variants.js';

export interface ConnectVariant {
  label: string;
  sync: Partial<SchedulerOptions>;
}

/** The variants `--vs` names: A is the per-grant acquire loop of before ADR 0515, B the current default. */
export const CONNECT_VARIANTS: Record<string, ConnectVariant[]> = {
  current: [{ label: 'current defaults', sync: {} }],
  'batch-claims': [
    { label: 'A acquire per grant', sync: { batchClaims: false } },
    { label: 'B one claim statement', sync: {} },
  ],
};

interface RunResult {
  ms: number;
  line: string;
  /** CPU ms per grant by group (worker, PostgreSQL, Dovecot…). */
  perGrant: Map<string, number>;
  transactions: number;
  statements?: Map<string, number>;
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

async function committedTransactions(rig: Rig): Promise<number> {
  const { rows } = await sql<{ n: string }>`select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()`.execute(rig.ctx.store.db);
  return Number(rows[0]!.n);
}

/** Every statement PostgreSQL runs while on, read from the server's log (log_min_duration_statement = 0). */
async function statementLog(rig: Rig): Promise<{ stop(): Promise<Map<string, number>> }> {
  const db = rig.ctx.store.db;
  const { rows } = await sql<{ setting: string }>`select setting from pg_settings where name = 'data_directory'`.execute(db);
  // test/helpers/postgres-server.ts starts the server with `pg_ctl -l <data dir>/../log`.
  const file = join(dirname(rows[0]!.setting), 'log');
  await sql`alter system set log_min_duration_statement = 0`.execute(db);
  await sql`select pg_reload_conf()`.execute(db);
  await sleep(200);
  const from = statSync(file).size;
  return {
    async stop() {
      await sql`alter system reset log_min_duration_statement`.execute(db);
      await sql`select pg_reload_conf()`.execute(db);
      await sleep(200);
      const text = readFileSync(file, 'utf8').slice(from);
      const kinds = new Map<string, number>();
      // One line per statement: "duration: … ms  statement: …" (simple protocol) or "… execute <name>: …".
      for (const m of text.matchAll(/duration: [\d.]+ ms {2}(?:statement|execute [^:]*): (.*)/g)) {
        const kind = m[1]!.replace(/\s+/g, ' ').replace(/\$\d+/g, '$').replace(/'[^']*'/g, "'…'").slice(0, 110);
        kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      }
      return kinds;
    },
  };
}

async function profiler(): Promise<{ stop(file: string): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/** Waits until `n` grants are valid with a saved cursor (connected, baselined) and, over IMAP, `n` connections are open. */
async function untilAllConnected(rig: Rig, n: number, imap: boolean, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    // Earlier runs' grants are revoked: every valid grant is this run's. Counted without listing ids (cheap to poll).
    // On a swamped machine the pool may time out handing out a connection: that is no reason to stop polling.
    const { rows } = await sql<{ n: string }>`select count(*) as n from grants where status = 'valid' and sync_state ? 'cursor'`.execute(rig.ctx.store.db).catch(() => ({ rows: [{ n: '0' }] }));
    if (Number(rows[0]!.n) >= n && (!imap || openConnections(rig.dovecot.host) >= n)) return;
    if (performance.now() - t0 > timeoutMs) throw new Error(`only ${rows[0]!.n} of ${n} grants connected after ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

let runSeq = 0;

interface RunOptions {
  profile?: string;
  statements?: boolean;
  /** The in-memory provider instead of IMAP. */
  fake?: FakeMailboxes;
}

async function connectRun(rig: Rig, n: number, variant: ConnectVariant, opts: RunOptions): Promise<RunResult> {
  // Seed with no scheduler running: the measured phase is the claims and connects alone.
  await rig.sync.stop();
  const users = Array.from({ length: n }, (_, i) => `c${runSeq}-${i}`);
  runSeq++;
  rig.dovecot.addUsers(users, 'pw');
  const { grants } = await seedGrants(rig.ctx, n, { credentials: (i) => ({ username: users[i]!, password: 'pw' }), settings: rig.imapSettings });
  await sleep(1_000);
  const log = opts.statements ? await statementLog(rig) : null;
  const prof = opts.profile ? await profiler() : null;
  const tx0 = await committedTransactions(rig);
  const meter = rigCpu(rig);
  const t0 = performance.now();
  const fake = opts.fake?.definition();
  rig.sync = await startSync(rig.ctx, 'bench-e2e', { startSpreadMs: 0, ...variant.sync }, fake ? (p) => (p === 'imap' ? fake : undefined) : undefined);
  await untilAllConnected(rig, n, !fake, 600_000);
  const ms = performance.now() - t0;
  const { line } = meter.stop(n);
  const transactions = (await committedTransactions(rig)) - tx0;
  if (prof) await prof.stop(opts.profile!);
  const statements = log ? await log.stop() : undefined;
  const perGrant = new Map<string, number>();
  for (const m of line.matchAll(/(worker|PostgreSQL|Dovecot) ([\d.]+)/g)) perGrant.set(m[1]!, Number(m[2]));
  // Stop the scheduler (every session logs out, leases given back), then retire the rows.
  await rig.sync.stop();
  await rig.ctx.store.db
    .updateTable('grants')
    .set({ status: 'revoked' })
    .where(
      'id',
      'in',
      grants.map((g) => g.id),
    )
    .execute();
  while (openConnections(rig.dovecot.host) > 0) await sleep(200);
  rig.sync = await startSync(rig.ctx, 'bench-e2e', { startSpreadMs: 0 });
  return { ms, line, perGrant, transactions, ...(statements ? { statements } : {}) };
}

export async function connectBench(rig: Rig, argv: readonly string[]): Promise<void> {
  const num = (name: string, fallback: number) => {
    const i = argv.indexOf(`--${name}`);
    return i > 0 ? Number(argv[i + 1]) : fallback;
  };
  const str = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i > 0 ? argv[i + 1] : undefined;
  };
  const n = num('grants', 3_000);
  const runs = num('runs', 3);
  const spec = str('vs') ?? 'current';
  const variants = CONNECT_VARIANTS[spec];
  if (!variants) throw new Error(`--vs: one of ${Object.keys(CONNECT_VARIANTS).join(', ')}`);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(runs) || runs < 1) throw new Error('--grants and --runs must be positive integers');
  const profile = str('profile');
  const statements = argv.includes('--statements');
  const fake = argv.includes('--engine-only') ? new FakeMailboxes() : undefined;
  console.log(`connect-only${fake ? ' (engine only, in-memory provider)' : ''}: ${n} grants per run, ${runs} runs, variants ${variants.map((v) => v.label).join(' / ')}; load average ${load()}`);
  const report = (label: string, res: RunResult) => {
    console.log(`  ${label}: all ${n} connected in ${(res.ms / 1000).toFixed(1)} s, ${(res.transactions / n).toFixed(1)} PostgreSQL transactions per grant; load ${load()}`);
    console.log(`    ${res.line.replace('ms per message', 'CPU ms per grant')}`);
  };
  // Logging every statement costs PostgreSQL CPU: those runs come first and stay out of the medians.
  for (const v of statements ? variants : []) {
    const res = await connectRun(rig, n, v, { statements: true, ...(fake ? { fake } : {}) });
    report(`statement count ${v.label} (not timed)`, res);
    console.log('    statements during the run (count, per grant, kind):');
    for (const [kind, count] of [...res.statements!].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`      ${String(count).padStart(7)} ${(count / n).toFixed(2).padStart(6)}  ${kind}`);
  }
  const results: RunResult[][] = variants.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (const k of variantOrder(variants.length, r)) {
      const res = await connectRun(rig, n, variants[k]!, { ...(r === 0 && profile ? { profile: `${profile}.${k}.cpuprofile` } : {}), ...(fake ? { fake } : {}) });
      results[k]!.push(res);
      report(`run ${r + 1} ${variants[k]!.label}`, res);
    }
  }
  console.log(`\nmedians of ${runs} (${n} grants per run):`);
  for (const [k, v] of variants.entries()) {
    const rs = results[k]!;
    const cpu = (g: string) => median(rs.map((x) => x.perGrant.get(g) ?? 0)).toFixed(2);
    console.log(`  ${v.label.padEnd(24)} all connected ${(median(rs.map((x) => x.ms)) / 1000).toFixed(1)} s; CPU ms per grant: worker ${cpu('worker')}, PostgreSQL ${cpu('PostgreSQL')}, Dovecot ${cpu('Dovecot')}; ${median(rs.map((x) => x.transactions / n)).toFixed(1)} transactions per grant`);
  }
  console.log(`load average at end: ${load()}`);
}
