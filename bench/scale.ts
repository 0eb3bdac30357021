/**
 * `npm run bench:scale` — how far one worker goes, and what a second one adds, on Dovecot +
 * PostgreSQL on loopback:
 *
 *  1. --grants IMAP grants (default 10,000) on one worker process, all on one IMAP host: time
 *     until every grant is connected (IDLE) and has its baseline, and the process's RSS after.
 *  2. a burst over --mailboxes (20) × --per-mailbox (500) → webhook with one worker, then with a
 *     second worker process on the same PostgreSQL (median of --runs each); ratio two/one.
 *
 * Usage: npm run bench:scale [-- --grants 10000 --mailboxes 20 --per-mailbox 500 --runs 3]  (--grants 0 skips part 1)
 *        npm run bench:scale -- --connect-only [--grants 3000 --runs 3 --vs … --profile … --statements]
 *        (only the CPU of connecting grants whose rows exist, variants side by side: connect-grants.ts)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { openConnections } from '../src/providers/imap/client.js';
import { arg, checkDelivery, rigCpu, untilDelivered, grantsWithStream, stageMail, logCount, median, medianRun, retire, sleep, startRig, untilConnected, type Rig } from './e2e/harness.js';
import { connectBench } from './connect-grants.js';
import { benchMailbox } from './imap-fixtures.js';
import { machineLine } from './machine.js';

const GRANTS = arg('grants', 10_000);
const MAILBOXES = arg('mailboxes', 20);
const PER_MAILBOX = arg('per-mailbox', 500);
const RUNS = arg('runs', 3);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');

async function idleGrants(rig: Rig, n: number): Promise<void> {
  const users = Array.from({ length: n }, (_, i) => `scale-${i}`);
  global.gc?.();
  const before = process.memoryUsage().rss;
  const t0 = performance.now();
  const { grantIds, streamId } = await grantsWithStream(rig, users);
  const seeded = performance.now() - t0;
  const timeline: string[] = [];
  const tick = setInterval(() => timeline.push(`${((performance.now() - t0) / 1000).toFixed(0)}s:${openConnections(rig.dovecot.host)}`), 5_000);
  await untilConnected(rig, grantIds, 600_000);
  while (openConnections(rig.dovecot.host) < n) await sleep(100);
  const connected = performance.now() - t0;
  clearInterval(tick);
  await sleep(5_000);
  global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  console.log(`\n${fmt(n)} IMAP grants on one worker: all connected and baselined ${(connected / 1000).toFixed(1)} s after creation (creating the grant rows took ${(seeded / 1000).toFixed(1)} s of it)`);
  console.log(`  RSS ${mib(rss)} (${mib(before)} before; ${((rss - before) / n / 1024).toFixed(0)} KiB per grant), JS heap ${mib(heapUsed)}`);
  console.log(`  connections over time: ${timeline.join(' ')}`);
  await retire(rig, grantIds, streamId);
  while (openConnections(rig.dovecot.host) > 0) await sleep(200);
}

function startWorkerProcess(databaseUrl: string): Promise<ChildProcess> {
  const child = fork(new URL('./e2e/worker.ts', import.meta.url), [databaseUrl], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

interface BurstRun {
  rate: number;
  cpu: string;
  busy: number;
}

async function burstRate(rig: Rig, named: Record<number, string> = {}): Promise<BurstRun> {
  const users = Array.from({ length: MAILBOXES }, (_, i) => `two-${i}-${randomUUID().slice(0, 6)}`);
  const { grantIds, streamId } = await grantsWithStream(rig, users);
  await untilConnected(rig, grantIds);
  await sleep(3_000); // grants settle on their workers, IDLE is up
  await rig.rx.reset();
  const total = MAILBOXES * PER_MAILBOX;
  const fixtures = benchMailbox(PER_MAILBOX);
  const mail = stageMail(rig, users, fixtures);
  const meter = rigCpu(rig, named);
  const t0 = Date.now();
  await mail.land();
  await untilDelivered(rig, total);
  const { line: cpu, busy } = meter.stop(total);
  const s = await rig.rx.summary();
  if ((await logCount(rig, grantIds)) !== total) throw new Error('log incomplete');
  await checkDelivery(rig, grantIds, total, s);
  await retire(rig, grantIds, streamId);
  return { rate: total / ((s.lastAt - t0) / 1000), cpu, busy };
}

const rig = await startRig();
try {
  console.log(machineLine());
  console.log(`load average at start: ${load()} (shared machine)`);
  if (process.argv.includes('--connect-only')) {
    await connectBench(rig, process.argv);
  } else {
    await scaleBench();
  }
} finally {
  await rig.close();
}

async function scaleBench(): Promise<void> {
  if (GRANTS > 0) await idleGrants(rig, GRANTS);

  const one: BurstRun[] = [];
  for (let r = 0; r < RUNS; r++) one.push(await burstRate(rig));
  const second = await startWorkerProcess(rig.ctx.store.connectionString!);
  const two: BurstRun[] = [];
  try {
    for (let r = 0; r < RUNS; r++) two.push(await burstRate(rig, second.pid ? { [second.pid]: 'worker 2' } : {}));
  } finally {
    second.disconnect();
  }
  const mid = (rs: BurstRun[]) => medianRun(rs, (x) => x.rate);
  const rates = (rs: { rate: number }[]) => rs.map((x) => x.rate);
  console.log(`\n${MAILBOXES} mailboxes × ${PER_MAILBOX} burst → webhook (msg/s, median of ${RUNS}; every message once, in order per grant)`);
  console.log(`  one worker  ${fmt(median(rates(one)))}   (${rates(one).map(fmt).join(', ')})`);
  console.log(`    ${mid(one).cpu}`);
  console.log(`  two workers ${fmt(median(rates(two)))}   (${rates(two).map(fmt).join(', ')})`);
  console.log(`    ${mid(two).cpu}`);
  // A second worker can only use the cores the first left idle: with one worker keeping `busy` of
  // the machine's cores occupied, two can at best go cores ÷ busy times as fast.
  const ceiling = cpus().length / mid(one).busy;
  console.log(`  ratio two/one ${(median(rates(two)) / median(rates(one))).toFixed(2)} (this machine's ceiling for the ratio: ${cpus().length} cores ÷ ${mid(one).busy.toFixed(2)} busy with one worker = ${ceiling.toFixed(2)})`);
  console.log(`\nload average at end: ${load()}`);
}
