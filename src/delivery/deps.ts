import { setTimeout as delay } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Sealer } from '../crypto/sealing.js';
import type { LogWatch } from '../event-log/notify.js';
import type { Logger } from '../observability/logger.js';
import type pg from 'pg';
import type { Database } from '../store/database.js';
import type { Repositories } from '../store/repositories/index.js';
import type { DestinationCatalog } from './catalog.js';
import type { DeliveryMetrics } from './metrics.js';
import { DEFAULT_RETRY_SCHEDULE_MS } from './retry.js';

/** Tunables of the engine; tests shrink the schedule and intervals instead of waiting hours. */
export interface EngineOptions {
  retrySchedule: readonly number[];
  /** A runner's lease; a dead holder is replaced within about this plus one scan. */
  leaseTtlMs: number;
  /** How often each process looks for streams without a runner. */
  scanIntervalMs: number;
  /** Idle polling backs off from min to max while the log has nothing new. */
  idlePollMinMs: number;
  idlePollMaxMs: number;
  /** Held grants retried at once (each one lane, in order). */
  holdRetryConcurrency: number;
  /** Upper bound on events read per window. */
  windowMax: number;
  /** While every read comes back full (a backlog), pages double up to this many times the window. */
  windowGrowthMax: number;
  /** A batch write that takes longer is abandoned and retried (plug-ins have their own, shorter timeouts). */
  writeTimeoutMs: number;
  /** How often the lag gauges are refreshed. */
  lagIntervalMs: number;
  /** How often an idle stream records that it has moved past events its filter skips. */
  horizonCommitMs: number;
  /** Retention job interval and window. */
  pruneIntervalMs: number;
  retentionDays: number;
}

export const DEFAULT_ENGINE_OPTIONS: EngineOptions = {
  retrySchedule: DEFAULT_RETRY_SCHEDULE_MS,
  leaseTtlMs: 6000,
  scanIntervalMs: 1000,
  idlePollMinMs: 20,
  idlePollMaxMs: 500,
  windowMax: 2000,
  windowGrowthMax: 4,
  holdRetryConcurrency: 4,
  writeTimeoutMs: 5 * 60_000,
  lagIntervalMs: 5000,
  horizonCommitMs: 5000,
  pruneIntervalMs: 10 * 60_000,
  retentionDays: 7,
};

export interface EngineDeps {
  db: Kysely<Database>;
  /** The same database's node-postgres pool (PostgreSQL only): reads that keep objects as bytes (event-log/read-bytes.ts). */
  pool?: pg.Pool;
  sealer: Sealer;
  catalog: DestinationCatalog;
  leases: Repositories['leases'];
  logger: Logger;
  metrics: DeliveryMetrics;
  now: () => Date;
  /** [0, 1); jitter of the retry schedule. */
  random: () => number;
  workerId: string;
  allowPrivateAddresses: boolean;
  dataDir: string;
  /** TRIBUTARY_FILE_ROOTS: further directories file destinations may write under. */
  fileRoots?: readonly string[];
  options: EngineOptions;
  /** Commit notifications of the log; without them runners only poll. */
  log?: LogWatch;
}

/** Sleeps, returning early (without throwing) when the signal aborts. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return;
  await delay(ms, undefined, { signal }).catch(() => undefined);
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
export const errorStatus = (err: unknown): number | null => {
  const s = (err as { status?: unknown } | null)?.status;
  return typeof s === 'number' ? s : null;
};
