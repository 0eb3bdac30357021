import { randomInt } from 'node:crypto';
import type { WorkerModule } from '../context.js';
import { watchLog } from '../event-log/notify.js';
import type { DestinationCatalog } from './catalog.js';
import { DEFAULT_ENGINE_OPTIONS, type EngineOptions } from './deps.js';
import { createDeliveryEngine } from './engine.js';
import { deliveryMetrics } from './metrics.js';
import { registryCatalog } from './registry-catalog.js';

/** The delivery engine as a part of the worker role (registered in src/workers.ts). */
export function deliveryWorker(catalog: DestinationCatalog = registryCatalog, options: Partial<EngineOptions> = {}): WorkerModule {
  return {
    name: 'delivery',
    async start(ctx) {
      // Commit notifications wake the runners; if listening fails the engine still polls.
      const log = await watchLog(ctx.store, { onError: (err) => ctx.logger.warn({ err }, 'log notifications interrupted; delivery polls until they are back') }).catch((err: unknown) => {
        ctx.logger.warn({ err }, 'cannot listen for log notifications; delivery polls instead');
        return undefined;
      });
      const engine = createDeliveryEngine({
        db: ctx.store.db,
        sealer: ctx.sealer,
        catalog,
        leases: ctx.repos.leases,
        logger: ctx.logger,
        metrics: deliveryMetrics(ctx.metrics.registry),
        now: ctx.now,
        random: () => randomInt(0, 1_000_000) / 1_000_000,
        workerId: ctx.workerId,
        allowPrivateAddresses: ctx.config.allowPrivateDestinations,
        dataDir: ctx.config.dataDir,
        fileRoots: ctx.config.fileRoots,
        options: { ...DEFAULT_ENGINE_OPTIONS, retentionDays: ctx.config.eventRetentionDays, ...options },
        ...(log ? { log } : {}),
      });
      engine.start();
      return async () => {
        await engine.stop();
        await log?.close();
      };
    },
  };
}
