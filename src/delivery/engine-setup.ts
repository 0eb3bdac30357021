import { randomInt } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Sealer } from '../crypto/sealing.js';
import { watchLog, type LogWatch } from '../event-log/notify.js';
import type { Logger } from '../observability/logger.js';
import type { Store } from '../store/index.js';
import type { Repositories } from '../store/repositories/index.js';
import type { DestinationCatalog } from './catalog.js';
import { DEFAULT_ENGINE_OPTIONS, type EngineOptions } from './deps.js';
import { createDeliveryEngine, type DeliveryEngine } from './engine.js';
import { deliveryMetrics } from './metrics.js';

/** What an engine is built from, on the main thread or in the delivery thread (each has its own). */
export interface EngineParts {
  config: Config;
  store: Store;
  sealer: Sealer;
  leases: Repositories['leases'];
  logger: Logger;
  registry: Registry;
  now: () => Date;
  workerId: string;
  catalog: DestinationCatalog;
  options: Partial<EngineOptions>;
}

export interface StartedEngine {
  engine: DeliveryEngine;
  /** Stops the runners, then the commit-notification listener. */
  stop(): Promise<void>;
}

/** The engine settings of a worker: the configuration's, overridden by the caller's options. */
export function engineOptions(config: Config, options: Partial<EngineOptions>): EngineOptions {
  return { ...DEFAULT_ENGINE_OPTIONS, retentionDays: config.eventRetentionDays, ...options };
}

/** Listens for commit notifications and starts the engine; one code path for both placements. */
export async function startEngine(p: EngineParts): Promise<StartedEngine> {
  // Commit notifications wake the runners; if listening fails the engine still polls.
  const log: LogWatch | undefined = await watchLog(p.store, { onError: (err) => p.logger.warn({ err }, 'log notifications interrupted; delivery polls until they are back') }).catch((err: unknown) => {
    p.logger.warn({ err }, 'cannot listen for log notifications; delivery polls instead');
    return undefined;
  });
  const engine = createDeliveryEngine({
    db: p.store.db,
    ...(p.store.pool ? { pool: p.store.pool } : {}),
    sealer: p.sealer,
    catalog: p.catalog,
    leases: p.leases,
    logger: p.logger,
    metrics: deliveryMetrics(p.registry),
    now: p.now,
    random: () => randomInt(0, 1_000_000) / 1_000_000,
    workerId: p.workerId,
    allowPrivateAddresses: p.config.allowPrivateDestinations,
    dataDir: p.config.dataDir,
    fileRoots: p.config.fileRoots,
    options: engineOptions(p.config, p.options),
    ...(log ? { log } : {}),
  });
  engine.start();
  return {
    engine,
    async stop() {
      await engine.stop();
      await log?.close();
    },
  };
}
