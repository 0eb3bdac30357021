import type { WorkerContext, WorkerModule } from '../context.js';
import type { DestinationCatalog } from './catalog.js';
import type { EngineOptions } from './deps.js';
import type { DeliveryEngine } from './engine.js';
import { startEngine } from './engine-setup.js';
import { registryCatalog } from './registry-catalog.js';
import { startDeliveryThread, type Supervision, type ThreadedDelivery } from './thread.js';

export type DeliveryPlacement = 'thread' | 'main';

/**
 * Where this worker runs delivery (TRIBUTARY_DELIVERY_THREAD, ADR 0116): in a thread of its own
 * when asked to or, on `auto`, when the store is PostgreSQL. The embedded database is one
 * in-process connection, and a catalog other than the registry's (tests) cannot cross threads,
 * so both keep delivery on the main thread.
 */
export function deliveryPlacement(ctx: WorkerContext, catalog: DestinationCatalog): DeliveryPlacement {
  if (ctx.config.deliveryThread === 'off' || catalog !== registryCatalog) return 'main';
  return ctx.store.kind === 'postgres' && ctx.store.connectionString ? 'thread' : 'main';
}

export interface StartedDelivery {
  placement: DeliveryPlacement;
  engine: DeliveryEngine;
  /** Set when delivery runs in a thread: its supervision (tenures, the running thread). */
  thread: ThreadedDelivery | null;
  stop(): Promise<void>;
}

/** Starts delivery where `deliveryPlacement` says; the bench harness uses this too, so it measures what `tributary worker` runs. */
export async function startDelivery(ctx: WorkerContext, catalog: DestinationCatalog = registryCatalog, options: Partial<EngineOptions> = {}, supervision?: Supervision): Promise<StartedDelivery> {
  if (deliveryPlacement(ctx, catalog) === 'thread') {
    const engine = await startDeliveryThread(ctx, options, supervision);
    return { placement: 'thread', engine, thread: engine, stop: () => engine.stop() };
  }
  const started = await startEngine({ ...ctx, leases: ctx.repos.leases, registry: ctx.metrics.registry, catalog, options });
  return { placement: 'main', engine: started.engine, thread: null, stop: () => started.stop() };
}

/** The delivery engine as a part of the worker role (registered in src/workers.ts). */
export function deliveryWorker(catalog: DestinationCatalog = registryCatalog, options: Partial<EngineOptions> = {}): WorkerModule {
  return {
    name: 'delivery',
    async start(ctx) {
      const started = await startDelivery(ctx, catalog, options);
      ctx.logger.debug({ placement: started.placement }, 'delivery started');
      return () => started.stop();
    },
  };
}
