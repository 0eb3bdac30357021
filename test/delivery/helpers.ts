import type { DestinationCatalog } from '../../src/delivery/catalog.js';
import { DEFAULT_ENGINE_OPTIONS, type EngineDeps, type EngineOptions } from '../../src/delivery/deps.js';
import { createDeliveryEngine, type DeliveryEngine } from '../../src/delivery/engine.js';
import { deliveryMetrics } from '../../src/delivery/metrics.js';
import { streamService, type StreamService } from '../../src/delivery/streams.js';
import type { NewEvent } from '../../src/domain/event.js';
import type { TestContext } from '../helpers/context.js';

/** Fast engine settings for tests: short leases, tight polling and a retry schedule in milliseconds. */
export const FAST: Partial<EngineOptions> = {
  scanIntervalMs: 50,
  idlePollMinMs: 5,
  idlePollMaxMs: 40,
  leaseTtlMs: 1500,
  lagIntervalMs: 100,
  horizonCommitMs: 100,
  retrySchedule: [0, 60, 60],
};

export function engineDeps(t: TestContext, catalog: DestinationCatalog, options: Partial<EngineOptions> = {}, workerId = 'w1'): EngineDeps {
  return {
    db: t.store.db,
    sealer: t.sealer,
    catalog,
    leases: t.repos.leases,
    logger: t.logger,
    metrics: deliveryMetrics(t.metrics.registry),
    now: () => new Date(),
    random: () => 0.5,
    workerId,
    allowPrivateAddresses: true,
    dataDir: '/nonexistent',
    options: { ...DEFAULT_ENGINE_OPTIONS, ...FAST, ...options },
  };
}

export function startEngine(t: TestContext, catalog: DestinationCatalog, options: Partial<EngineOptions> = {}, workerId = 'w1'): DeliveryEngine {
  const e = createDeliveryEngine(engineDeps(t, catalog, options, workerId));
  e.start();
  return e;
}

export function services(t: TestContext, catalog: DestinationCatalog): StreamService {
  return streamService({ db: t.store.db, sealer: t.sealer, catalog, now: () => new Date(), logger: t.logger, allowPrivateAddresses: true, dataDir: '/nonexistent' });
}

export const message = (id: string, grantId: string, extra: Record<string, unknown> = {}): NewEvent => ({
  id,
  type: 'message.created',
  source: '/imap/emails/realtime',
  time: 1_700_000_000,
  grantId,
  provider: 'imap',
  object: { id, grant_id: grantId, ...extra },
});

export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
