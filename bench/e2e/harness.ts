/**
 * What the end-to-end benches share: PostgreSQL + Dovecot on loopback, one Tributary worker in
 * this process (IMAP sync + delivery engine with commit notifications, production settings),
 * the webhook receiver in its own process, and the checks that every message arrived once and
 * in log order per grant.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { deliveryThreadVar, loadConfig } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import type { DeliveryEngine } from '../../src/delivery/engine.js';
import { registryCatalog } from '../../src/delivery/registry-catalog.js';
import { streamService } from '../../src/delivery/streams.js';
import { startDelivery } from '../../src/delivery/worker.js';
import { createContext } from '../../src/main.js';
import { startSync } from '../../src/sync/index.js';
import type { SchedulerOptions, SyncScheduler } from '../../src/sync/scheduler.js';
import { Dovecot } from '../../test/helpers/dovecot.js';
import { seedGrants } from '../../test/helpers/grants.js';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { busyCores, cpuLine, cpuSample, imapBenchGroups } from '../cpu-meter.js';
import type { ReceiverSummary } from './receiver.js';

/** The run in the middle when sorted by `by` (the one whose other figures a median line prints). */
export const medianRun = <T>(rs: T[], by: (r: T) => number): T => [...rs].sort((a, b) => by(a) - by(b))[Math.floor(rs.length / 2)]!;
export const median = (xs: number[]) => medianRun(xs, (x) => x);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};

export interface Receiver {
  url: string;
  pid: number | undefined;
  summary(): Promise<ReceiverSummary>;
  count(): Promise<number>;
  /** Received and distinct event ids so far (cheap: poll this, ask for the summary once). */
  progress(): Promise<{ count: number; distinct: number }>;
  reset(): Promise<void>;
  stop(): void;
}

export function startReceiver(): Promise<Receiver> {
  const child: ChildProcess = fork(new URL('./receiver.ts', import.meta.url), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T>(op: string) =>
    new Promise<T>((resolve) => {
      child.once('message', (m: T) => resolve(m));
      child.send({ op });
    });
  return new Promise((resolve) => {
    child.once('message', (m: { port: number }) =>
      resolve({
        url: `http://127.0.0.1:${m.port}/hook`,
        pid: child.pid,
        summary: () => ask<ReceiverSummary>('summary'),
        progress: () => ask<{ count: number; distinct: number }>('progress'),
        count: async () => (await ask<{ count: number }>('count')).count,
        reset: async () => void (await ask('reset')),
        stop: () => child.kill(),
      }),
    );
  });
}

export interface Rig {
  ctx: AppContext;
  /** The PostgreSQL server's postmaster pid (CPU accounting). */
  pgPid: number;
  dovecot: Dovecot;
  rx: Receiver;
  engine: DeliveryEngine;
  sync: SyncScheduler;
  imapSettings: Record<string, unknown>;
  /** Where delivery runs now; `placeDelivery` restarts it elsewhere (side-by-side comparisons). */
  thread: ThreadSetting;
  placeDelivery(thread: ThreadSetting): Promise<void>;
  /** Restarts the sync scheduler with these overrides of the bench's settings, unless they are the current ones. */
  configureSync(overrides: Partial<SchedulerOptions>): Promise<void>;
  close(): Promise<void>;
}

type ThreadSetting = AppContext['config']['deliveryThread'];

/** Delivery started the way `tributary worker` starts it (in its own thread with TRIBUTARY_DELIVERY_THREAD=on or auto). */
async function startBenchDelivery(ctx: AppContext, workerId: string, thread: ThreadSetting): Promise<DeliveryEngine> {
  const config = { ...ctx.config, deliveryThread: thread };
  const delivery = await startDelivery({ ...ctx, config, workerId });
  console.log(`delivery runs on the ${delivery.placement === 'thread' ? 'delivery thread' : 'main thread'} (TRIBUTARY_DELIVERY_THREAD=${thread})`);
  // Stopping the engine stops all of delivery (its listener, or its thread).
  return { ...delivery.engine, stop: () => delivery.stop() };
}

/**
 * One worker's parts, started the way `tributary worker` starts them: IMAP sync and delivery
 * through the delivery module, production settings.
 */
export async function startWorker(ctx: AppContext, workerId: string, syncOverrides: Partial<SchedulerOptions> = {}): Promise<{ engine: DeliveryEngine; sync: SyncScheduler; stop(): Promise<void> }> {
  const engine = await startBenchDelivery(ctx, workerId, deliveryThreadVar(process.env, ctx.store.connectionString));
  // Production scheduler settings, except that grants start at once instead of spread over seconds.
  const sync = await startSync(ctx, workerId, { startSpreadMs: 0, ...syncOverrides });
  return {
    engine,
    sync,
    async stop() {
      await sync.stop();
      await engine.stop();
    },
  };
}

/** A context on this PostgreSQL with the bench's fixed key ring. */
export const benchContext = (databaseUrl: string) =>
  createContext(loadConfig({ DATABASE_URL: databaseUrl, TRIBUTARY_SECRET_KEYS: `bench:${Buffer.alloc(32, 3).toString('base64')}`, LOG_LEVEL: 'warn', TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'true', TRIBUTARY_DATA_DIR: '/nonexistent' }));

export async function startRig(): Promise<Rig> {
  const pg = await startPostgres();
  const dovecot = await Dovecot.start({ imapClientLimit: 200, imapProcessLimit: 200, maxUserIpConnections: 2000 });
  const ctx = await benchContext(pg.url());
  const rx = await startReceiver();
  const { engine, sync } = await startWorker(ctx, 'bench-e2e');
  let syncSettings = JSON.stringify({});
  const rig: Rig = {
    ctx,
    pgPid: pg.pid(),
    dovecot,
    rx,
    engine,
    sync,
    imapSettings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none' },
    thread: deliveryThreadVar(process.env, ctx.store.connectionString),
    async placeDelivery(thread) {
      if (thread === rig.thread) return;
      // The stopped engine releases its leases, so the new one takes the next stream at its first scan.
      await rig.engine.stop();
      rig.engine = await startBenchDelivery(ctx, 'bench-e2e', thread);
      rig.thread = thread;
    },
    async configureSync(overrides) {
      if (JSON.stringify(overrides) === syncSettings) return;
      await rig.sync.stop();
      rig.sync = await startSync(ctx, 'bench-e2e', { startSpreadMs: 0, ...overrides });
      syncSettings = JSON.stringify(overrides);
    },
    async close() {
      await rig.sync.stop();
      await rig.engine.stop();
      rx.stop();
      await ctx.store.close();
      await dovecot.destroy();
      pg.stop();
    },
  };
  return rig;
}

/** Grants for Dovecot users with a webhook stream of their own (so scenarios never mix). */
export async function grantsWithStream(
  rig: Rig,
  users: string[],
  settings: Record<string, unknown> = {},
  webhook: Record<string, unknown> = {},
): Promise<{ grantIds: string[]; streamId: string; applicationId: string }> {
  rig.dovecot.addUsers(users, 'pw');
  const { grants, applicationId } = await seedGrants(rig.ctx, users.length, { credentials: (i) => ({ username: users[i]!, password: 'pw' }), settings: { ...rig.imapSettings, ...settings } });
  const grantIds = grants.map((g) => g.id);
  const svc = streamService({ db: rig.ctx.store.db, sealer: rig.ctx.sealer, catalog: registryCatalog, now: () => new Date(), logger: rig.ctx.logger, allowPrivateAddresses: true, dataDir: '/nonexistent' });
  const s = await svc.create(applicationId, { name: `bench ${users[0]}`, dataTypes: ['message.created'], grantIds, destination: { type: 'webhook', config: { url: rig.rx.url, secret: 'bench-secret-0123456789', ...webhook } } });
  await rig.engine.scan();
  return { grantIds, streamId: s.id, applicationId };
}

/** Waits until every grant has its baseline (connected, IDLE running). */
export async function untilConnected(rig: Rig, grantIds: string[], timeoutMs = 600_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const { n } = await rig.ctx.store.db
      .selectFrom('grants')
      .select(({ fn }) => fn.countAll<string>().as('n'))
      .where('id', 'in', grantIds)
      .where(sql<boolean>`sync_state->'cursor' is not null`)
      .executeTakeFirstOrThrow();
    if (Number(n) >= grantIds.length) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`only ${n} of ${grantIds.length} grants connected after ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/** Waits until `expected` distinct events reached the receiver; throws when progress stops for a minute. */
export async function untilDelivered(rig: Rig, expected: number, timeoutMs = 600_000): Promise<void> {
  const t0 = performance.now();
  for (let last = -1, lastChange = performance.now(); ; ) {
    const s = await rig.rx.progress();
    if (s.distinct >= expected) return;
    if (s.distinct !== last) [last, lastChange] = [s.distinct, performance.now()];
    if (performance.now() - lastChange > 60_000 || performance.now() - t0 > timeoutMs) throw new Error(`only ${s.distinct} of ${expected} events reached the webhook`);
    await sleep(100);
  }
}

/** CPU accounting of one scenario on the rig: start before it, `line(messages)` after it. */
export function rigCpu(rig: Pick<Rig, 'rx' | 'pgPid'>, named: Record<number, string> = {}): { stop(messages: number): { line: string; busy: number } } {
  const groups = imapBenchGroups({ ...named, ...(rig.rx.pid ? { [rig.rx.pid]: 'receiver' } : {}) });
  const a = cpuSample(groups, [rig.pgPid]);
  return {
    stop(messages) {
      const b = cpuSample(groups, [rig.pgPid]);
      return { line: cpuLine(a, b, messages), busy: busyCores(a, b) };
    },
  };
}

export async function logCount(rig: Rig, grantIds: string[]): Promise<number> {
  const { n } = await rig.ctx.store.db
    .selectFrom('events')
    .select(({ fn }) => fn.countAll<string>().as('n'))
    .where('grant_id', 'in', grantIds)
    .where('type', '=', 'message.created')
    .executeTakeFirstOrThrow();
  return Number(n);
}

/** Every event of these grants arrived exactly once (first receipts) and in log order per grant; throws otherwise. */
export async function checkDelivery(rig: Rig, grantIds: string[], expected: number, s: ReceiverSummary): Promise<{ duplicates: number }> {
  const rows = await rig.ctx.store.db.selectFrom('events').select(['id', 'grant_id']).where('grant_id', 'in', grantIds).where('type', '=', 'message.created').orderBy('txid').orderBy('seq').execute();
  if (rows.length !== expected) throw new Error(`the log holds ${rows.length} message.created events, expected ${expected}`);
  const logOrder = new Map<string, string[]>();
  for (const r of rows) {
    const list = logOrder.get(r.grant_id!) ?? [];
    list.push(r.id);
    logOrder.set(r.grant_id!, list);
  }
  let received = 0;
  for (const [g, ids] of logOrder) {
    const got = s.order[g] ?? [];
    received += got.length;
    if (got.length !== ids.length) throw new Error(`grant ${g}: ${got.length} of ${ids.length} events received`);
    for (let i = 0; i < ids.length; i++) if (got[i] !== ids[i]) throw new Error(`grant ${g}: event ${i} out of order (${got[i]} where the log has ${ids[i]})`);
  }
  if (received !== expected) throw new Error(`${received} distinct events received, expected ${expected}`);
  return { duplicates: s.duplicates };
}

/**
 * New mail for a scenario, in two steps like a delivery agent's: `stageMail` writes every file into
 * the users' Maildir/tmp before the clock starts; `land()` renames them into new/, the moment of
 * arrival. (Writing 10,000 files here used to take seconds of this process's one thread, the same
 * thread the worker under test runs on, and counted against it.)
 */
export function stageMail(rig: Rig, users: string[], fixtures: string[]): { land: () => Promise<void> } {
  const staged = users.map((u) => rig.dovecot.stage(u, fixtures));
  return { land: async () => void (await Promise.all(staged.map((s) => rig.dovecot.land(s)))) };
}

/** Stops syncing and delivering a scenario's grants, so later scenarios measure alone. */
export async function retire(rig: Rig, grantIds: string[], streamId: string): Promise<void> {
  await rig.ctx.store.db.updateTable('grants').set({ status: 'revoked' }).where('id', 'in', grantIds).execute();
  await rig.ctx.store.db.updateTable('streams').set({ status: 'pause' }).where('id', '=', streamId).execute();
}
