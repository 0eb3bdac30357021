import type { AppContext, WorkerModule } from '../context.js';
import type { ProviderSource } from '../providers/provider.js';
import { getProvider, providerIds } from '../providers/registry.js';
import { defaultSchedulerOptions, SyncScheduler, type SchedulerOptions } from './scheduler.js';

export { requestSync } from './hints.js';

/** Starts a sync scheduler for this process (the worker module, and tests with shorter timings). */
export async function startSync(
  ctx: Pick<AppContext, 'store' | 'repos' | 'logger' | 'metrics' | 'now' | 'config'>,
  holder: string,
  overrides: Partial<SchedulerOptions> = {},
  definitionOf: (provider: string) => ProviderSource | undefined = getProvider,
): Promise<SyncScheduler> {
  const scheduler = new SyncScheduler(ctx, holder, definitionOf, providerIds(), { ...defaultSchedulerOptions(ctx), ...overrides });
  await scheduler.start();
  return scheduler;
}

/** The worker role's sync part: leases grants, keeps one provider session per grant, appends their events. */
export const syncWorkerModule: WorkerModule = {
  name: 'sync',
  async start(ctx) {
    const scheduler = await startSync(ctx, ctx.workerId);
    return () => scheduler.stop();
  },
};
