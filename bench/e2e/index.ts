/**
 * `npm run bench:e2e` — mailbox → webhook, end to end, against Dovecot on loopback, PostgreSQL and
 * a local receiver in its own process; one Tributary worker (IMAP sync + delivery, production
 * settings, commit notifications) in this process. Every scenario checks that each message
 * arrived once (first receipts) and in log order per grant, and prints its ceiling or floor
 * measured in the same run:
 *
 *  1. burst: N new mails land in one idle INBOX (IDLE running) → all N at the webhook (median of
 *     --runs), beside a like-for-like raw FETCH of the same mailbox (the fields Tributary fetches,
 *     chunks of 500);
 *  2. burst over 20 mailboxes × 500, beside 20 concurrent raw FETCH clients;
 *  3. backfill of N existing mails → the log and → the webhook, in both webhook modes (median of --runs);
 *  4. new-mail latency APPEND → webhook receipt, --appends mails at a steady 2/s and at Poisson
 *     2/s, beside Dovecot's own IDLE floor (APPEND → untagged EXISTS, on a twin mailbox appended
 *     to right after each message: a second IDLE on the grant's own mailbox would slow it);
 *  5. Microsoft sandbox: mail accepted by the sandbox (change notification posted) → webhook
 *     receipt, --ms-mails at a steady 2/s, split at the log (bench/e2e/microsoft.ts).
 *
 * Usage: npm run bench:e2e [-- --messages 10000 --mailboxes 20 --per-mailbox 500 --appends 200 --ms-mails 200 --runs 3]
 * Subsets: --bursts-only, --backfill-only, --latency-only (IMAP and Microsoft latency), --microsoft-only.
 * Side by side: --vs thread | --vs claim-wake | --vs key=value[,…] runs every burst and backfill under two settings, interleaved (bench/e2e/variants.ts).
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import type { ImapFlow } from 'imapflow';
import { sql } from 'kysely';
import { rfc822 } from '../../test/imap/messages.js';
import { benchMailbox } from '../imap-fixtures.js';
import { machineLine, percentile } from '../machine.js';
import { microsoftLatency } from './microsoft.js';
import { variantOrder, variantsFromArgs, type Variant } from './variants.js';
import { arg, checkDelivery, rigCpu, untilDelivered, grantsWithStream, stageMail, logCount, median, medianRun, retire, sleep, startRig, untilConnected, type Rig } from './harness.js';

const MESSAGES = arg('messages', 10_000);
const MAILBOXES = arg('mailboxes', 20);
const PER_MAILBOX = arg('per-mailbox', 500);
const APPENDS = arg('appends', 200);
const MS_MAILS = arg('ms-mails', 200);
const RUNS = arg('runs', 3);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const CHUNK = 500;

/** Like-for-like raw FETCH: what the IMAP plug-in asks for (metadata, then the first body part), in chunks of 500. */
async function rawFetch(client: ImapFlow): Promise<number> {
  const mb = await client.mailboxOpen('INBOX');
  const total = mb.exists;
  let n = 0;
  for (let from = 1; from <= total; from += CHUNK) {
    const range = `${from}:${Math.min(total, from + CHUNK - 1)}`;
    const uids: number[] = [];
    for await (const m of client.fetch(range, { uid: true, flags: true, envelope: true, bodyStructure: true, internalDate: true, headers: ['references'] })) uids.push(m.uid);
    for await (const m of client.fetch(range, { uid: true, bodyParts: ['1'] })) if (m.bodyParts) n++;
  }
  return n;
}

interface BurstResult {
  rate: number;
  logRate: number;
  ceiling: number;
  duplicates: number;
  cpu: string;
}

/** The webhook's opt-in batched mode, for receivers that take many events per request. */
const BATCHED = { batch_max_events: 100 };

/** New mail lands in idle mailboxes (written into their Maildirs, which Dovecot's IDLE reports). */
async function burst(rig: Rig, label: string, mailboxes: number, perMailbox: number, webhook: Record<string, unknown> = {}): Promise<BurstResult> {
  const users = Array.from({ length: mailboxes }, (_, i) => `${label}-${i}-${randomUUID().slice(0, 6)}`);
  const { grantIds, streamId } = await grantsWithStream(rig, users, {}, webhook);
  await untilConnected(rig, grantIds);
  await sleep(1500); // IDLE is up on every connection
  await rig.rx.reset();
  const total = mailboxes * perMailbox;
  const fixtures = benchMailbox(perMailbox);
  const mail = stageMail(rig, users, fixtures);
  const meter = rigCpu(rig);
  const t0 = Date.now();
  await mail.land();
  let logDoneAt = 0;
  const logWatch = (async () => {
    while ((await logCount(rig, grantIds)) < total) await sleep(50);
    logDoneAt = Date.now();
  })();
  await untilDelivered(rig, total);
  const cpu = meter.stop(total).line;
  await logWatch;
  const s = await rig.rx.summary();
  const { duplicates } = await checkDelivery(rig, grantIds, total, s);
  await retire(rig, grantIds, streamId);
  // The ceiling: the same mailboxes fetched raw, all at once, like-for-like.
  const clients = await Promise.all(users.map((u) => rig.dovecot.client(u, 'pw')));
  const c0 = performance.now();
  const fetched = (await Promise.all(clients.map(rawFetch))).reduce((a, b) => a + b, 0);
  const ceiling = fetched / ((performance.now() - c0) / 1000);
  await Promise.all(clients.map((c) => c.logout()));
  return { rate: total / ((s.lastAt - t0) / 1000), logRate: total / ((logDoneAt - t0) / 1000), ceiling, duplicates, cpu };
}

interface BackfillResult {
  logRate: number;
  hookRate: number;
  ceiling: number;
  duplicates: number;
  cpu: string;
}

async function backfill(rig: Rig, count: number, webhook: Record<string, unknown> = {}): Promise<BackfillResult> {
  const user = `backfill-${randomUUID().slice(0, 6)}`;
  rig.dovecot.addUser(user, 'pw');
  rig.dovecot.writeMessages(user, benchMailbox(count));
  // Warm Dovecot's index first (neither contender should pay for the first indexing).
  const warm = await rig.dovecot.client(user, 'pw');
  const c0 = performance.now();
  const fetched = await rawFetch(warm);
  const ceiling = fetched / ((performance.now() - c0) / 1000);
  await warm.logout();
  await rig.rx.reset();
  const meter = rigCpu(rig);
  const t0 = Date.now();
  const { grantIds, streamId } = await grantsWithStream(rig, [user], { backfill_days: 3650 }, webhook);
  while ((await logCount(rig, grantIds)) < count) await sleep(50);
  const logDoneAt = Date.now();
  await untilDelivered(rig, count);
  const cpu = meter.stop(count).line;
  const s = await rig.rx.summary();
  const { duplicates } = await checkDelivery(rig, grantIds, count, s);
  await retire(rig, grantIds, streamId);
  return { logRate: count / ((logDoneAt - t0) / 1000), hookRate: count / ((s.lastAt - t0) / 1000), ceiling, duplicates, cpu };
}

/** APPEND → webhook receipt, with Dovecot's IDLE floor (APPEND → EXISTS on another connection) in the same run. */
async function latency(rig: Rig, pattern: 'steady' | 'poisson', count: number): Promise<{ ours: number[]; floor: number[]; toLog: number[] }> {
  const user = `latency-${pattern}-${randomUUID().slice(0, 6)}`;
  const { grantIds, streamId } = await grantsWithStream(rig, [user]);
  await untilConnected(rig, grantIds);
  await sleep(1500);
  await rig.rx.reset();
  // Dovecot's floor on a twin mailbox: an IDLE watcher on the grant's own mailbox delays the
  // grant's IDLE notification (Dovecot then falls back to its 30 s check), so it gets its own user.
  const twin = `${user}-floor`;
  rig.dovecot.addUser(twin, 'pw');
  const watcher = await rig.dovecot.client(twin, 'pw');
  await watcher.mailboxOpen('INBOX');
  const existsAt: number[] = [];
  watcher.on('exists', () => existsAt.push(Date.now()));
  void watcher.idle().catch(() => undefined);
  const twinAppender = await rig.dovecot.client(twin, 'pw');
  const appender = await rig.dovecot.client(user, 'pw');
  await sleep(500);
  const appendedAt: number[] = [];
  const twinAt: number[] = [];
  for (let i = 0; i < count; i++) {
    const gap = pattern === 'steady' ? 500 : -Math.log(1 - Math.random()) * 500;
    await sleep(gap);
    appendedAt.push(Date.now());
    await appender.append('INBOX', rfc822({ subject: `${pattern} ${i}`, text: 'ping' }));
    twinAt.push(Date.now());
    await twinAppender.append('INBOX', rfc822({ subject: `${pattern} ${i}`, text: 'ping' }));
  }
  await untilDelivered(rig, count, 120_000);
  const s = await rig.rx.summary();
  await checkDelivery(rig, grantIds, count, s);
  // Split at the log: when each event's appending transaction started (events.created_at).
  const logged = await rig.ctx.store.db.selectFrom('events').select(['created_at', sql<string>`object->>'subject'`.as('subject')]).where('grant_id', 'in', grantIds).execute();
  const committedAt = new Map(logged.map((r) => [r.subject, new Date(r.created_at).getTime()]));
  await retire(rig, grantIds, streamId);
  await appender.logout();
  await twinAppender.logout();
  await watcher.logout().catch(() => undefined);
  const ours = appendedAt.map((at, i) => s.bySubject[`${pattern} ${i}`]! - at).sort((a, b) => a - b);
  const toLog = appendedAt.map((at, i) => committedAt.get(`${pattern} ${i}`)! - at).sort((a, b) => a - b);
  // EXISTS may coalesce two close APPENDs into one notification; pair each append with the first EXISTS at or after it.
  const floor = twinAt.map((at) => (existsAt.find((e) => e >= at) ?? NaN) - at).filter(Number.isFinite).sort((a, b) => a - b);
  return { ours, floor, toLog };
}

const VARIANTS = variantsFromArgs(process.argv);

/** Runs `run` under a variant: delivery placed where it says, its webhook settings merged into the scenario's. */
async function underVariant<T>(rig: Rig, v: Variant, webhook: Record<string, unknown>, run: (webhook: Record<string, unknown>) => Promise<T>): Promise<T> {
  if (v.thread) await rig.placeDelivery(v.thread);
  await rig.configureSync(v.sync ?? {});
  return run({ ...webhook, ...v.webhook });
}

/**
 * Every scenario × variant, `RUNS` times: repetitions interleaved (a noisy minute on the shared
 * machine spreads over every scenario), variants alternating within each. results[k][v] lists
 * scenario k's runs under variant v.
 */
async function interleaved<T>(rig: Rig, scenarios: { webhook: Record<string, unknown>; run: (webhook: Record<string, unknown>) => Promise<T> }[]): Promise<T[][][]> {
  const results: T[][][] = scenarios.map(() => VARIANTS.map(() => []));
  for (let r = 0; r < RUNS; r++) {
    for (const [k, sc] of scenarios.entries()) {
      for (const v of variantOrder(VARIANTS.length, r)) results[k]![v]!.push(await underVariant(rig, VARIANTS[v]!, sc.webhook, sc.run));
    }
  }
  return results;
}

const variantTag = (v: number) => (VARIANTS.length > 1 ? ` [${VARIANTS[v]!.label}]` : '');

/** With two variants: B's medians over A's, for the webhook rate and for webhook ÷ log. */
function comparison(label: string, perVariant: { hook: number; log: number }[]): void {
  if (perVariant.length < 2) return;
  const [a, b] = perVariant as [{ hook: number; log: number }, { hook: number; log: number }];
  console.log(`    ${label} B ÷ A: webhook ${(b.hook / a.hook).toFixed(2)}; webhook ÷ log ${(a.hook / a.log).toFixed(2)} (A) → ${(b.hook / b.log).toFixed(2)} (B)`);
}

/** Backfill with each webhook mode, repetitions interleaved like the bursts'. */
async function backfills(rig: Rig): Promise<void> {
  const scenarios = [
    { label: 'one event per request', webhook: {} },
    { label: `batched webhook (${BATCHED.batch_max_events}/request)`, webhook: BATCHED },
  ];
  const results = await interleaved(
    rig,
    scenarios.map((sc) => ({ webhook: sc.webhook, run: (webhook: Record<string, unknown>) => backfill(rig, MESSAGES, webhook) })),
  );
  const med = (rs: BackfillResult[], k: 'logRate' | 'hookRate' | 'ceiling') => median(rs.map((x) => x[k]));
  console.log(`\nbackfill of ${fmt(MESSAGES)} existing mails (msg/s, median of ${RUNS}; every message once, in order)`);
  for (const [k, sc] of scenarios.entries()) {
    for (const [v, rs] of results[k]!.entries()) {
      const mid = medianRun(rs, (x) => x.hookRate);
      console.log(
        `  ${sc.label}${variantTag(v)}: into the log ${fmt(med(rs, 'logRate'))} (${(med(rs, 'logRate') / med(rs, 'ceiling')).toFixed(2)} of raw FETCH ${fmt(med(rs, 'ceiling'))}); at the webhook ${fmt(med(rs, 'hookRate'))} (${(med(rs, 'hookRate') / med(rs, 'logRate')).toFixed(2)} of the log); runs ${rs.map((x) => fmt(x.hookRate)).join(', ')}; duplicates ${rs.map((x) => x.duplicates).join(', ')}`,
      );
      console.log(`    ${mid.cpu}`);
    }
    comparison(sc.label, results[k]!.map((rs) => ({ hook: med(rs, 'hookRate'), log: med(rs, 'logRate') })));
  }
}

async function bursts(rig: Rig): Promise<void> {
  const scenarios = [
    { label: `1 mailbox × ${fmt(MESSAGES)}`, raw: 'raw FETCH', webhook: {}, run: (webhook: Record<string, unknown>) => burst(rig, 'burst', 1, MESSAGES, webhook) },
    { label: `${MAILBOXES} mailboxes × ${PER_MAILBOX}`, raw: `raw FETCH (${MAILBOXES} clients)`, webhook: {}, run: (webhook: Record<string, unknown>) => burst(rig, 'many', MAILBOXES, PER_MAILBOX, webhook) },
    { label: `1 mailbox × ${fmt(MESSAGES)}, batched webhook (${BATCHED.batch_max_events}/request)`, raw: 'raw FETCH', webhook: BATCHED, run: (webhook: Record<string, unknown>) => burst(rig, 'batched', 1, MESSAGES, webhook) },
    { label: `${MAILBOXES} mailboxes × ${PER_MAILBOX}, batched webhook`, raw: `raw FETCH (${MAILBOXES} clients)`, webhook: BATCHED, run: (webhook: Record<string, unknown>) => burst(rig, 'many-batched', MAILBOXES, PER_MAILBOX, webhook) },
  ];
  const results = await interleaved(rig, scenarios);
  const med = (rs: BurstResult[], k: 'rate' | 'logRate' | 'ceiling') => median(rs.map((x) => x[k]));
  console.log(`\nburst, new mail into idle INBOXes → webhook (msg/s, median of ${RUNS}; every message once, in order per grant)`);
  for (const [k, sc] of scenarios.entries()) {
    for (const [v, rs] of results[k]!.entries()) {
      const mid = medianRun(rs, (x) => x.rate);
      console.log(
        `  ${sc.label}${variantTag(v)}: webhook ${fmt(med(rs, 'rate'))}, log ${fmt(med(rs, 'logRate'))} (webhook ÷ log ${(med(rs, 'rate') / med(rs, 'logRate')).toFixed(2)}); ${sc.raw} ${fmt(med(rs, 'ceiling'))}; webhook/raw ${(med(rs, 'rate') / med(rs, 'ceiling')).toFixed(2)}; runs ${rs.map((x) => fmt(x.rate)).join(', ')}; duplicates ${rs.map((x) => x.duplicates).join(', ')}`,
      );
      console.log(`    ${mid.cpu}`);
    }
    comparison(sc.label, results[k]!.map((rs) => ({ hook: med(rs, 'rate'), log: med(rs, 'logRate') })));
  }
}

const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
const latencyOnly = process.argv.includes('--latency-only');
const burstsOnly = process.argv.includes('--bursts-only');
const microsoftOnly = process.argv.includes('--microsoft-only');
const backfillOnly = process.argv.includes('--backfill-only');
console.log(machineLine());
console.log(`load average at start: ${load()} (the machine is shared; figures are medians and ratios measured side by side)`);
const rig = microsoftOnly ? null : await startRig();
try {
  if (rig && !latencyOnly && !backfillOnly) await bursts(rig);
  if (rig && !latencyOnly && !burstsOnly) await backfills(rig);
  if (rig && !burstsOnly && !backfillOnly) {
    console.log(`\nnew-mail latency, APPEND → webhook receipt, ${APPENDS} mails (ms)`);
    for (const pattern of ['steady', 'poisson'] as const) {
      const { ours, floor, toLog } = await latency(rig, pattern, APPENDS);
      const p = (xs: number[], q: number) => percentile(xs, q).toFixed(0);
      const share = percentile(ours, 50) - percentile(floor, 50);
      // Below the floor is possible: while mail flows the watcher polls with NOOP instead of
      // waiting for IDLE's coalesced EXISTS (src/providers/imap/watch.ts), which plain IDLE cannot.
      const vsFloor = share >= 0 ? `our share at p50 ${share.toFixed(0)}` : `p50 ${(-share).toFixed(0)} below the plain-IDLE floor (hot NOOP polling)`;
      console.log(
        `  ${pattern.padEnd(7)} 2/s: p50 ${p(ours, 50)}, p99 ${p(ours, 99)}, max ${ours.at(-1)!.toFixed(0)} | Dovecot IDLE floor p50 ${p(floor, 50)}, p99 ${p(floor, 99)} | ${vsFloor} | APPEND → log transaction p50 ${p(toLog, 50)}`,
      );
    }
  }
} finally {
  await rig?.close();
}
if (!burstsOnly && !backfillOnly) {
  const { toHook, toLog, duplicates } = await microsoftLatency(MS_MAILS);
  const p = (xs: number[], q: number) => percentile(xs, q).toFixed(0);
  console.log(`\nMicrosoft sandbox, mail accepted (notification posted) → webhook receipt, ${MS_MAILS} mails at a steady 2/s (ms)`);
  console.log(`  p50 ${p(toHook, 50)}, p99 ${p(toHook, 99)}, max ${toHook.at(-1)!.toFixed(0)} | → log transaction p50 ${p(toLog, 50)}, p99 ${p(toLog, 99)} | log → webhook at p50 ${(percentile(toHook, 50) - percentile(toLog, 50)).toFixed(0)} | duplicates ${duplicates} | aim p99 < 300 ${percentile(toHook, 99) < 300 ? 'met' : 'NOT met'}`);
}
console.log(`\nload average at end: ${load()}`);
