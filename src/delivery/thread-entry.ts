import { parentPort, workerData } from 'node:worker_threads';
import { Registry } from 'prom-client';
import { loadKeyRing } from '../crypto/keyring.js';
import { createSealer } from '../crypto/sealing.js';
import { createLogger } from '../observability/logger.js';
import { openPostgres } from '../store/index.js';
import { createRepositories } from '../store/repositories/index.js';
import { startEngine } from './engine-setup.js';
import { registryCatalog } from './registry-catalog.js';
import type { FromThread, ThreadData, ToThread } from './thread-protocol.js';

/**
 * The delivery thread (started by thread.ts, ADR 0116): builds its own context from the worker's
 * configuration (key ring → sealer, its own PostgreSQL pool and LISTEN connection, a registry for
 * its metrics), runs the same engine as the main thread would, answers scan and metrics requests,
 * and on `stop` stops the engine, closes its pool and exits.
 */
if (!parentPort) throw new Error('thread-entry.ts runs only as the delivery thread of a worker (src/delivery/thread.ts starts it)');
const port = parentPort;
const data = workerData as ThreadData;
const { config } = data;
if (!config.databaseUrl) throw new Error('the delivery thread needs a PostgreSQL connection string');

const logger = createLogger(config.logLevel, undefined, config.logFormat).child({ thread: 'delivery' });
const { ring } = await loadKeyRing(config.secretKeys, config.dataDir);
const sealer = createSealer(ring);
const store = await openPostgres(config.databaseUrl, 10, (err) => logger.warn({ err: err.message, code: (err as { code?: string }).code }, 'database connection lost; queries retry and reconnect'));
const registry = new Registry();
const started = await startEngine({
  config,
  store,
  sealer,
  leases: createRepositories(store, sealer).leases,
  logger,
  registry,
  now: () => new Date(),
  workerId: data.workerId,
  catalog: registryCatalog,
  options: data.options,
});
const post = (m: FromThread) => port.postMessage(m);

// Which streams run here, for the main thread's `running()` (operators and tests read it).
let reported = '';
const status = setInterval(() => {
  const ids = started.engine.running();
  if (ids.join() === reported) return;
  reported = ids.join();
  post({ type: 'running', ids });
}, data.statusIntervalMs);

async function stop(): Promise<void> {
  clearInterval(status);
  await started.stop().catch((err: unknown) => logger.error({ err }, 'delivery engine did not stop cleanly'));
  await store.close().catch(() => undefined);
  logger.debug('delivery thread stopped');
  // Everything of ours is closed; a plug-in's lingering keep-alive socket must not hold the thread.
  process.exit(0);
}

port.on('message', (m: ToThread) => {
  if (m.op === 'stop') {
    void stop();
    return;
  }
  const work = m.op === 'scan' ? started.engine.scan().then(() => ({ running: started.engine.running() })) : registry.getMetricsAsJSON().then((metrics) => ({ metrics }));
  work.then(
    (value) => post({ type: 'reply', id: m.id, ...value }),
    (err: unknown) => post({ type: 'reply', id: m.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
post({ type: 'ready' });
logger.debug({ holder: data.workerId }, 'delivery thread running');
