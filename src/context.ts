import type { Config } from './config.js';
import type { Sealer } from './crypto/sealing.js';
import type { Logger } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { Store } from './store/index.js';
import type { Repositories } from './store/repositories/index.js';

/**
 * What the composition root (main.ts) hands to the roles: configuration, the store and its
 * repositories, the sealer, logging and metrics, and an injectable clock. The worker role adds
 * its lease-holder name.
 */
export interface AppContext {
  config: Config;
  store: Store;
  repos: Repositories;
  sealer: Sealer;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
}

export interface WorkerContext extends AppContext {
  /** Unique name of this process, used as lease holder. */
  workerId: string;
}

/** A long-running part of the worker role (sync scheduler, delivery runners…). */
export interface WorkerModule {
  name: string;
  start(ctx: WorkerContext): Promise<() => Promise<void>>;
}
