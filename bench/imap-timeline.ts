/**
 * bench:imap-timeline — where a backfill's and a burst's wall-clock goes (issue 15). One worker's
 * sync engine (production scheduler settings, grants started at once) on PostgreSQL and Dovecot
 * on loopback, no delivery: the IMAP session's pipeline trace (src/providers/imap/trace.ts)
 * gives every chunk's stages and every pass boundary, printed as a timeline and summed into
 * "who waited on whom". Beside it, the like-for-like raw FETCH of the same mailbox.
 *
 * Usage: npm run bench:imap-timeline [-- --messages 10000 --runs 1 --chunks]
 *  --chunks prints every chunk's line (else the first and last few of each pass).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import type { ImapFlow } from 'imapflow';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/main.js';
import { pipelineTrace, type TraceEvent } from '../src/providers/imap/trace.js';
import { startSync } from '../src/sync/index.js';
import { Dovecot } from '../test/helpers/dovecot.js';
import { seedGrants } from '../test/helpers/grants.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { cpuLine, cpuSample, imapBenchGroups } from './cpu-meter.js';
import { benchMailbox } from './imap-fixtures.js';
import { machineLine } from './machine.js';
import { summarize, timelineLines } from './imap-timeline-report.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg('messages', 10_000);
const RUNS = arg('runs', 1);
const ALL_CHUNKS = process.argv.includes('--chunks');
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

async function backfill(): Promise<void> {
  const user = `backfill-${randomUUID().slice(0, 6)}`;
  dovecot.addUser(user, 'pw');
  dovecot.writeMessages(user, benchMailbox(MESSAGES));
  const warm = await dovecot.client(user, 'pw');
  const c0 = performance.now();
  const fetched = await rawFetch(warm);
  const raw = fetched / ((performance.now() - c0) / 1000);
  await warm.logout();
  const trace = record();
  const a = cpuSample(groups, [pg.pid()]);
  const t0 = performance.now();
  const { grants } = await seedGrants(ctx, 1, { credentials: () => ({ username: user, password: 'pw' }), settings: { ...imapSettings, backfill_days: 3650 } });
  const g = grants[0]!;
  while ((await logCount(g.id)) < MESSAGES) await sleep(20);
  const done = performance.now();
  const b = cpuSample(groups, [pg.pid()]);
  trace.stop();
  await retire(g.id);
  report(`backfill of ${MESSAGES} existing mails`, t0, done, trace.events, raw, cpuLine(a, b, MESSAGES));
}

async function burst(): Promise<void> {
  const user = `burst-${randomUUID().slice(0, 6)}`;
  dovecot.addUser(user, 'pw');
  const { grants } = await seedGrants(ctx, 1, { credentials: () => ({ username: user, password: 'pw' }), settings: imapSettings });
  const g = grants[0]!;
  while (!(await ctx.repos.grants.getById(g.id))!.sync_state.cursor) await sleep(20);
  await sleep(1500); // IDLE is up
  const staged = dovecot.stage(user, benchMailbox(MESSAGES));
  const trace = record();
  const a = cpuSample(groups, [pg.pid()]);
  const t0 = performance.now();
  await dovecot.land(staged);
  while ((await logCount(g.id)) < MESSAGES) await sleep(20);
  const done = performance.now();
  const b = cpuSample(groups, [pg.pid()]);
  trace.stop();
  await retire(g.id);
  const client = await dovecot.client(user, 'pw');
  const c0 = performance.now();
  const fetched = await rawFetch(client);
  const raw = fetched / ((performance.now() - c0) / 1000);
  await client.logout();
  report(`burst of ${MESSAGES} new mails in one idle INBOX`, t0, done, trace.events, raw, cpuLine(a, b, MESSAGES));
}

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
  const scheduler = await startSync(ctx, 'bench-timeline', { startSpreadMs: 0 });
  try {
    for (let r = 0; r < RUNS; r++) {
      await backfill();
      await burst();
    }
  } finally {
    await scheduler.stop();
  }
} finally {
  await ctx.store.close();
  await dovecot.destroy();
  pg.stop();
}
