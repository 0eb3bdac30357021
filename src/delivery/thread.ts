import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import type { WorkerContext } from '../context.js';
import type { EngineOptions } from './deps.js';
import type { DeliveryEngine } from './engine.js';
import { mirrorThreadMetrics } from './thread-metrics.js';
import type { FromThread, MetricsJson, ThreadData, ToThread } from './thread-protocol.js';

/** How the main thread looks after its delivery thread. */
export interface Supervision {
  /** A thread still running this long after `stop` is terminated (its leases are released for it). */
  stopDeadlineMs: number;
  /** Restart back-off after a crash: doubles from min to max, back to min once a thread stayed up `stableMs`. */
  restartMinMs: number;
  restartMaxMs: number;
  stableMs: number;
  /** A metrics scrape waits this long for the thread, then shows its last answer. */
  metricsTimeoutMs: number;
}

export const DEFAULT_SUPERVISION: Supervision = { stopDeadlineMs: 30_000, restartMinMs: 500, restartMaxMs: 30_000, stableMs: 60_000, metricsTimeoutMs: 2000 };

/** The delivery engine running in its own thread, seen from the main thread. */
export interface ThreadedDelivery extends DeliveryEngine {
  /** The running thread, or null while it restarts (tests terminate it to play a crash). */
  current(): Worker | null;
  /** How many threads were started (1 + restarts). */
  tenures(): number;
}

type Reply = Extract<FromThread, { type: 'reply' }>;

/** tsx's ESM `register` module, found through its package's exports map (its CommonJS build cannot be imported from a thread). */
function tsxRegisterUrl(from: URL): string {
  const manifest = createRequire(from).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(resolve(dirname(manifest), pkg.exports['./esm/api']!.import.default)).href;
}

/**
 * Compiled: `thread-entry.js` beside this file. From the TypeScript sources (tests, benches,
 * `tributary` in a checkout) the thread first registers tsx, since loader hooks registered on
 * the main thread do not reach a new thread.
 */
function threadEntry(): { entry: string | URL; options: WorkerOptions } {
  const here = new URL(import.meta.url);
  const fromSource = here.pathname.endsWith('.ts');
  const entry = new URL(fromSource ? './thread-entry.ts' : './thread-entry.js', here);
  if (!fromSource) return { entry, options: {} };
  const tsx = tsxRegisterUrl(here);
  return { entry: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`, options: { eval: true } };
}

/**
 * Starts the delivery thread of this worker process (ADR 0116) and resolves once its engine runs.
 * Each tenure holds stream leases under its own name (`<worker id>:delivery-<n>`); when a thread
 * dies, the main thread releases that name's leases and starts the next tenure after a back-off,
 * which takes the streams over from their committed offsets with a higher fencing token.
 */
export async function startDeliveryThread(ctx: WorkerContext, options: Partial<EngineOptions>, supervision: Supervision = DEFAULT_SUPERVISION): Promise<ThreadedDelivery> {
  if (!ctx.store.connectionString) throw new Error('the delivery thread needs the PostgreSQL store (the embedded database is one in-process connection)');
  const { entry, options: workerOptions } = threadEntry();
  // The thread uses the database this process uses, and the log format the main thread resolved.
  const format = ctx.config.logFormat === 'auto' ? (process.stdout.isTTY ? 'pretty' : 'json') : ctx.config.logFormat;
  const config = { ...ctx.config, databaseUrl: ctx.store.connectionString, logFormat: format };
  const pending = new Map<number, (r: Reply) => void>();
  let nextId = 0;
  let worker: Worker | null = null;
  let tenure = 0;
  let running: string[] = [];
  let stopping = false;
  let backoff = supervision.restartMinMs;
  let restartTimer: NodeJS.Timeout | null = null;
  let released: Promise<void> = Promise.resolve();

  /** One tenure: resolves when its engine runs, rejects if it dies first. */
  const spawn = () =>
    new Promise<void>((resolve, reject) => {
      const holder = `${ctx.workerId}:delivery-${++tenure}`;
      const data: ThreadData = { config, workerId: holder, options, statusIntervalMs: Math.min(options.scanIntervalMs ?? 1000, 1000) };
      const w = new Worker(entry, { ...workerOptions, workerData: data, name: 'tributary-delivery' });
      const startedAt = Date.now();
      let ready = false;
      let failure: Error | null = null;
      worker = w;
      w.on('message', (m: FromThread) => {
        if (m.type === 'ready') {
          ready = true;
          resolve();
        } else if (m.type === 'running') running = m.ids;
        else {
          pending.get(m.id)?.(m);
          pending.delete(m.id);
        }
      });
      w.on('error', (err) => {
        failure = err;
        ctx.logger.error({ err, holder }, 'delivery thread failed');
      });
      w.on('exit', (code) => {
        if (worker === w) worker = null;
        running = [];
        for (const [id, answer] of pending) answer({ type: 'reply', id, error: 'the delivery thread exited' });
        pending.clear();
        // Whatever the tenure held, it no longer writes: give the streams back at once instead of waiting for the leases to expire.
        released = released
          .then(() => ctx.repos.leases.releaseAll(holder))
          .catch((err: unknown) => ctx.logger.warn({ err, holder }, 'could not release the leases of the stopped delivery thread; they expire on their own'));
        if (!ready) return reject(failure ?? new Error(`the delivery thread exited (code ${code}) before its engine ran`));
        if (stopping) return;
        if (Date.now() - startedAt >= supervision.stableMs) backoff = supervision.restartMinMs;
        ctx.logger.error({ code, holder, restart_in_ms: backoff }, 'delivery thread stopped unexpectedly; restarting it, its streams resume from their committed offsets');
        scheduleRestart();
      });
    });

  const scheduleRestart = () => {
    const wait = backoff;
    backoff = Math.min(backoff * 2, supervision.restartMaxMs);
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (stopping) return;
      spawn().then(
        () => ctx.logger.info({ tenure }, 'delivery thread restarted'),
        (err: unknown) => {
          ctx.logger.error({ err, restart_in_ms: backoff }, 'delivery thread could not start; trying again');
          if (!stopping) scheduleRestart();
        },
      );
    }, wait);
  };

  const ask = (op: 'scan' | 'metrics') =>
    new Promise<Reply | null>((resolve) => {
      const w = worker;
      if (!w) return resolve(null);
      const id = nextId++;
      pending.set(id, resolve);
      w.postMessage({ op, id } satisfies ToThread);
    });

  await spawn();
  await mirrorThreadMetrics(ctx.metrics.registry, async (): Promise<MetricsJson | null> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), supervision.metricsTimeoutMs)));
    const reply = await Promise.race([ask('metrics'), timeout]);
    clearTimeout(timer);
    return reply?.metrics ?? null;
  });

  return {
    // The thread's engine starts with the thread.
    start: () => undefined,
    async scan() {
      const reply = await ask('scan');
      if (reply?.error && worker) throw new Error(reply.error);
      if (reply?.running) running = reply.running;
    },
    running: () => running,
    current: () => worker,
    tenures: () => tenure,
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const w = worker;
      if (w) {
        const exited = new Promise((resolve) => w.once('exit', resolve));
        w.postMessage({ op: 'stop' } satisfies ToThread);
        const deadline = setTimeout(() => {
          ctx.logger.warn({ deadline_ms: supervision.stopDeadlineMs }, 'delivery thread did not stop in time; terminating it (its streams are released for the next runner)');
          void w.terminate();
        }, supervision.stopDeadlineMs);
        await exited;
        clearTimeout(deadline);
      }
      await released;
    },
  };
}
