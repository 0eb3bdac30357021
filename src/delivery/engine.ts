import { pruneDeadLetters, pruneDeliveryAttempts, pruneEvents } from '../event-log/prune.js';
import { sleep, type EngineDeps } from './deps.js';
import { claimRunner, unclaimRunner } from './local-runners.js';
import { StreamRunner } from './runner.js';
import { Serial } from './serial.js';
import { streamLease, streamStore } from './stream-store.js';

const PRUNE_LEASE = 'event-log:prune';

/**
 * The delivery side of a worker process: every `scanIntervalMs` it looks for runnable streams
 * (active or failing) that no process is running and tries to take their lease; the process that
 * gets it runs the stream until it is paused, failed or deleted, or until the process stops.
 * Leases expire when a holder dies, so another process takes over within about one TTL plus
 * one scan. One process at a time (also by lease) runs retention.
 */
export interface DeliveryEngine {
  start(): void;
  stop(): Promise<void>;
  /** Runs one scan now (tests and the API's resume use it to avoid waiting for the timer). */
  scan(): Promise<void>;
  running(): string[];
}

export function createDeliveryEngine(deps: EngineDeps): DeliveryEngine {
  const runners = new Map<string, StreamRunner>();
  const store = streamStore(deps.db);
  const stopping = new AbortController();
  const loops: Promise<void>[] = [];
  const applicationOf = new Map<string, string>();
  // Wake the runners of the application whose events just committed ('*': everyone, after a reconnect).
  const unsubscribe = deps.log?.subscribe((appId) => {
    for (const [id, runner] of runners) if (appId === '*' || applicationOf.get(id) === appId) runner.wake();
  });

  // One scan at a time. A scan checks for a running runner, then awaits the lease before it
  // records the new one; two scans in that gap (the timer's and an explicit scan(), as the API's
  // resume or the e2e bench do) each started a runner of the same stream under the same holder and
  // token, so both delivered every window, and the first to end released the other's lease.
  const scans = new Serial();
  const scan = () => scans.run(scanOnce);

  async function scanOnce(): Promise<void> {
    for (const { id, applicationId } of await store.claimableIds(deps.workerId)) {
      if (stopping.signal.aborted) return;
      if (runners.has(id)) {
        applicationOf.set(id, applicationId);
        continue;
      }
      // Claimed before the lease is awaited: another engine of this process scanning meanwhile
      // with the same worker id would get the same lease and token (local-runners.ts).
      if (!claimRunner(id)) continue;
      const lease = await deps.leases.acquire(streamLease(id), deps.workerId, deps.options.leaseTtlMs).catch((err: unknown) => {
        unclaimRunner(id);
        throw err;
      });
      if (!lease) {
        unclaimRunner(id);
        continue;
      }
      applicationOf.set(id, applicationId);
      const runner = new StreamRunner(deps, id, lease);
      runners.set(id, runner);
      // done settles after the runner released its lease, so the next claim cannot overlap it.
      void runner.done.finally(() => {
        runners.delete(id);
        applicationOf.delete(id);
        unclaimRunner(id);
      });
      deps.logger.debug({ stream: id, token: lease.token }, 'stream runner started');
    }
  }

  async function prune(): Promise<void> {
    const lease = await deps.leases.acquire(PRUNE_LEASE, deps.workerId, deps.options.pruneIntervalMs);
    if (!lease) return;
    const opts = { retentionDays: deps.options.retentionDays, now: deps.now() };
    const events = await pruneEvents(deps.db, opts);
    const attempts = await pruneDeliveryAttempts(deps.db, opts);
    const deadLetters = await pruneDeadLetters(deps.db, { now: opts.now });
    if (events || attempts || deadLetters) deps.logger.info({ events, attempts, dead_letters: deadLetters }, 'retention removed old events, delivery attempts and dead letters');
  }

  const every = (ms: number, what: string, fn: () => Promise<void>) =>
    (async () => {
      while (!stopping.signal.aborted) {
        await fn().catch((err: unknown) => deps.logger.error({ err }, `${what} failed; retrying at the next interval`));
        await sleep(ms, stopping.signal);
      }
    })();

  return {
    start() {
      loops.push(every(deps.options.scanIntervalMs, 'stream scan', scan));
      loops.push(every(deps.options.pruneIntervalMs, 'event retention', prune));
    },
    async stop() {
      stopping.abort();
      unsubscribe?.();
      await Promise.all(loops);
      await Promise.all([...runners.values()].map((r) => r.stop()));
    },
    scan,
    running: () => [...runners.keys()],
  };
}
