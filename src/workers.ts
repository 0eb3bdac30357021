import type { WorkerModule } from './context.js';
import { deliveryWorker } from './delivery/worker.js';
import { tokenRefresherModule } from './oauth/refresher.js';
import { syncWorkerModule } from './sync/index.js';

/**
 * The long-running parts of the worker role. Each part registers itself here (sync scheduler,
 * delivery runners, token refresher…); main.ts starts them in order and stops them in reverse.
 */
export const workerModules: WorkerModule[] = [syncWorkerModule, deliveryWorker(), tokenRefresherModule];
