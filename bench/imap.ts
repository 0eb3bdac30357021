/**
 * bench:imap — the IMAP source against Debian's Dovecot on loopback, on PostgreSQL:
 *  1. backfill of a 10,000-message mailbox into the event log (median of 3), beside a plain
 *     imapflow FETCH of every message's full source (the ceiling), our fetch+parse without the
 *     database, and a naive mailparser pipeline — all in this run; ours imapflow only and with
 *     the bulk reader (ADR 0511), alternating;
 *  2. APPEND → event committed latency over 200 messages (IDLE push), p50/p99;
 *  3. 1,000 grants idling on one worker: connection set-up time and resident memory.
 * Usage: npm run bench:imap [-- --messages 10000 --grants 1000 --appends 200]
 */
import { simpleParser } from 'mailparser';
import { loadConfig } from '../src/config.js';
import { createContext } from '../src/main.js';
import type { GrantHandle } from '../src/providers/provider.js';
import { openConnections } from '../src/providers/imap/client.js';
import { getProvider } from '../src/providers/registry.js';
import { bulkReader } from '../src/providers/imap/sync.js';
import { startSync } from '../src/sync/index.js';
import { Dovecot } from '../test/helpers/dovecot.js';
import { seedGrants } from '../test/helpers/grants.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { rfc822 } from '../test/imap/messages.js';
import { benchMailbox, drainPasses } from './imap-fixtures.js';
import { machineLine, percentile } from './machine.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg('messages', 10_000);
const GRANTS = arg('grants', 1000);
const APPENDS = arg('appends', 200);
const RUNS = arg('runs', 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = { debug() {}, info() {}, warn() {}, error() {} };
/** CPU time (user + system) of this process since `from`, in µs. */
const cpuMicros = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return c.user + c.system;
};

const pg = await startPostgres();
const dovecot = await Dovecot.start({ imapClientLimit: 100, imapProcessLimit: 100, maxUserIpConnections: 1000 });
const ctx = await createContext(
  loadConfig({ DATABASE_URL: pg.url(), TRIBUTARY_SECRET_KEYS: `bench:${Buffer.alloc(32, 3).toString('base64')}`, LOG_LEVEL: 'warn', TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'true', TRIBUTARY_DATA_DIR: '/nonexistent' }),
);
const imapSettings = { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none' };
const FAST = { tickMs: 250, hintPollMs: 200, startSpreadMs: 5000 };

try {
  console.log(machineLine());
  console.log(`dovecot ${dovecot.port}, postgresql ${pg.port}`);

  // ---- 1. Backfill throughput --------------------------------------------------------------
  const user = 'bench';
  dovecot.addUser(user, 'pw');
  const fixtures = benchMailbox(MESSAGES);
  const bytes = fixtures.reduce((n, m) => n + m.length, 0);
  dovecot.writeMessages(user, fixtures);
  console.log(`\nmailbox: ${MESSAGES} messages, ${(bytes / MESSAGES / 1024).toFixed(1)} KB average, ${(bytes / 2 ** 20).toFixed(0)} MiB`);

  const client = await dovecot.client(user, 'pw');
  await client.mailboxOpen('INBOX');
  // Warm-up: Dovecot indexes the Maildir on first access; neither contender should pay for that.
  for await (const _ of client.fetch('1:*', { uid: true, flags: true, envelope: true, bodyStructure: true, internalDate: true, headers: ['references'] })) void _;

  const plain: number[] = [];
  const naive: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    let n = 0;
    for await (const m of client.fetch('1:*', { uid: true, source: true })) if (m.source) n++;
    plain.push(n / ((performance.now() - t0) / 1000));
  }
  {
    const t0 = performance.now();
    let n = 0;
    for await (const m of client.fetch('1:*', { uid: true, source: true })) {
      await simpleParser(m.source!);
      n++;
    }
    naive.push(n / ((performance.now() - t0) / 1000));
  }
  await client.logout();

  // Our fetch + parse alone (the plug-in, no database): how much of the pipeline is IMAP + MIME.
  // Each measurement runs twice, imapflow only and with the bulk reader (ADR 0511), alternating.
  const bulkDefault = bulkReader.minUids;
  const modes = [
    { name: 'imapflow only', minUids: Infinity },
    { name: 'bulk reader', minUids: bulkDefault },
  ];
  const parseOnlyBy = modes.map(() => ({ rate: [] as number[], cpu: [] as number[] }));
  const imap = getProvider('imap')!;
  const { grants: probeGrants, integrationId } = await seedGrants(ctx, 1, { credentials: () => ({ username: user, password: 'pw' }), settings: { ...imapSettings, backfill_days: 36500 } });
  for (let k = 0; k < RUNS * modes.length; k++) {
    bulkReader.minUids = modes[k % modes.length]!.minUids;
    const { rate: parseOnly, cpu: parseOnlyCpu } = parseOnlyBy[k % modes.length]!;
    const g = probeGrants[0]!;
    const handle: GrantHandle = { id: g.id, applicationId: g.application_id, email: g.email, credentials: { username: user, password: 'pw' }, settings: { ...imapSettings, backfill_days: 36500 }, integration: { id: integrationId, clientId: null, clientSecret: null, settings: {}, scope: [] }, createdAt: new Date() };
    const session = await imap.open(handle, { logger: silent, now: () => new Date(), fetch, urls: {}, saveCredentials: async () => {} });
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const n = await drainPasses(session, await session.baseline());
    parseOnly.push(n / ((performance.now() - t0) / 1000));
    parseOnlyCpu.push(cpuMicros(c0) / MESSAGES);
    await session.close();
    if (n !== MESSAGES) throw new Error(`parse-only run produced ${n} events, expected ${MESSAGES}`);
  }
  await ctx.store.db.updateTable('grants').set({ status: 'revoked' }).where('id', '=', probeGrants[0]!.id).execute();

  // The whole engine: lease, baseline, backfill batches appended to the event log with their cursor.
  const fullBy = modes.map(() => ({ rate: [] as number[], cpu: [] as number[] }));
  for (let k = 0; k < RUNS * modes.length; k++) {
    const r = k;
    bulkReader.minUids = modes[k % modes.length]!.minUids;
    const { rate: full, cpu: fullCpu } = fullBy[k % modes.length]!;
    const { grants } = await seedGrants(ctx, 1, { credentials: () => ({ username: user, password: 'pw' }), settings: { ...imapSettings, backfill_days: 36500 } });
    const g = grants[0]!;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const scheduler = await startSync(ctx, `bench-${r}`, { ...FAST, startSpreadMs: 0 });
    for (;;) {
      const row = await ctx.repos.grants.getById(g.id);
      const p = row!.sync_state.progress as { backfill?: { status: string } } | undefined;
      if (p?.backfill?.status === 'done') break;
      await sleep(20);
    }
    const secs = (performance.now() - t0) / 1000;
    fullCpu.push(cpuMicros(c0) / MESSAGES);
    await scheduler.stop();
    const count = await ctx.store.db.selectFrom('events').select(({ fn }) => fn.countAll<string>().as('n')).where('grant_id', '=', g.id).executeTakeFirstOrThrow();
    if (Number(count.n) !== MESSAGES) throw new Error(`backfill appended ${count.n} events, expected ${MESSAGES}`);
    full.push(MESSAGES / secs);
    await ctx.store.db.updateTable('grants').set({ status: 'revoked' }).where('id', '=', g.id).execute();
  }
  console.log('\nbackfill throughput (messages/s, median of %d; all in this run)', RUNS);
  console.log(`  plain imapflow FETCH BODY[] (ceiling)       ${median(plain).toFixed(0).padStart(7)}`);
  console.log(`  naive: FETCH BODY[] + mailparser            ${median(naive).toFixed(0).padStart(7)}   (1 run)`);
  bulkReader.minUids = bulkDefault;
  for (const [i, mode] of modes.entries()) {
    const parseOnly = parseOnlyBy[i]!;
    const full = fullBy[i]!;
    console.log(`  ${mode.name}:`);
    console.log(`    tributary fetch + parse (no database)     ${median(parseOnly.rate).toFixed(0).padStart(7)}`);
    console.log(`    tributary backfill into the event log     ${median(full.rate).toFixed(0).padStart(7)}`);
    console.log(`    ratio event log / plain fetch             ${(median(full.rate) / median(plain)).toFixed(2)}`);
    console.log(`    ratio event log / naive mailparser        ${(median(full.rate) / median(naive)).toFixed(2)}`);
    console.log(`    this process's CPU per message: fetch + parse ${median(parseOnly.cpu).toFixed(0)} µs, backfill into the log ${median(full.cpu).toFixed(0)} µs (sync engine and commits included; Dovecot and PostgreSQL are other processes)`);
  }

  // ---- 2. APPEND → committed latency ---------------------------------------------------------
  dovecot.addUser('latency', 'pw');
  const { grants: lg } = await seedGrants(ctx, 1, { credentials: () => ({ username: 'latency', password: 'pw' }), settings: imapSettings });
  const lgrant = lg[0]!;
  const scheduler = await startSync(ctx, 'bench-latency', { ...FAST, startSpreadMs: 0 });
  while (!(await ctx.repos.grants.getById(lgrant.id))!.sync_state.cursor) await sleep(20);
  await sleep(1000);
  const appender = await dovecot.client('latency', 'pw');
  const count = async () => Number((await ctx.store.db.selectFrom('events').select(({ fn }) => fn.countAll<string>().as('n')).where('grant_id', '=', lgrant.id).where('type', '=', 'message.created').executeTakeFirstOrThrow()).n);
  const latencies: number[] = [];
  for (let i = 0; i < APPENDS; i++) {
    await appender.append('INBOX', rfc822({ subject: `latency ${i}`, text: 'ping' }));
    const t0 = performance.now();
    while ((await count()) < i + 1) await sleep(2);
    latencies.push(performance.now() - t0);
    await sleep(20);
  }
  await appender.logout();
  await scheduler.stop();
  await ctx.store.db.updateTable('grants').set({ status: 'revoked' }).where('id', '=', lgrant.id).execute();
  latencies.sort((a, b) => a - b);
  console.log(`\nAPPEND → event committed over ${APPENDS} messages (IDLE push): p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`);

  // ---- 3. 1,000 idle grants on one worker (--grants 0 skips it) ------------------------------
  if (GRANTS > 0) await idleGrants();
} finally {
  const problems = dovecot.log().split('\n').filter((l) => /error|fatal|warning/i.test(l));
  if (problems.length) console.log(`dovecot reported:\n  ${problems.slice(0, 10).join('\n  ')}`);
  await ctx.store.close();
  await dovecot.destroy();
  pg.stop();
}

async function idleGrants(): Promise<void> {
  for (let i = 0; i < GRANTS; i++) dovecot.addUser(`idle${i}`, 'pw');
  const { grants: idle } = await seedGrants(ctx, GRANTS, { credentials: (i) => ({ username: `idle${i}`, password: 'pw' }), settings: imapSettings });
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const idleScheduler = await startSync(ctx, 'bench-idle', { ...FAST, maxClaimsPerTick: GRANTS });
  const ids = idle.map((g) => g.id);
  let connectedAt = 0;
  const timeline: string[] = [];
  for (let tick = 0; ; tick++) {
    const open = openConnections(dovecot.host);
    const baselined = Number((await ctx.store.db.selectFrom('grants').select(({ fn }) => fn.countAll<string>().as('n')).where('id', 'in', ids).where('last_sync_at', 'is not', null).executeTakeFirstOrThrow()).n);
    if (tick % 10 === 0) timeline.push(`${((performance.now() - t0) / 1000).toFixed(1)}s:${open}`);
    if (open >= GRANTS && baselined >= GRANTS) {
      connectedAt = performance.now() - t0;
      break;
    }
    if (performance.now() - t0 > 180_000) throw new Error(`only ${open} connections / ${baselined} baselines after 180 s`);
    await sleep(100);
  }
  await sleep(5000);
  global.gc?.();
  const rss = process.memoryUsage().rss;
  const heap = process.memoryUsage().heapUsed;
  console.log(`\n${GRANTS} idle grants on one worker: all connected and baselined in ${(connectedAt / 1000).toFixed(1)} s; process RSS ${(rss / 2 ** 20).toFixed(0)} MiB (${(rssBefore / 2 ** 20).toFixed(0)} MiB before they started, the earlier phases' memory included), JS heap ${(heap / 2 ** 20).toFixed(0)} MiB`);
  console.log(`  connections over time (every second): ${timeline.join(' ')}`);
  await idleScheduler.stop();
}
