import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ConfigError, type Config } from './config.js';
import type { AppContext, WorkerContext } from './context.js';
import { loadKeyRing } from './crypto/keyring.js';
import { createSealer } from './crypto/sealing.js';
import { buildHttpApp, type HttpOptions } from './http/app.js';
import { dashboardHttpOptions } from './http/routes/dashboard/index.js';
import type { Api } from './http/types.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { openStore } from './store/index.js';
import { assertKeyRingCovers } from './store/key-ring-check.js';
import { migrate } from './store/migrate.js';
import { createRepositories } from './store/repositories/index.js';
import { workerModules } from './workers.js';

/** Composition root: config → store → repositories → roles. */
export async function createContext(config: Config, logger: Logger = createLogger(config.logLevel, undefined, config.logFormat)): Promise<AppContext & { keyFile: string | null }> {
  const { ring, file, created } = await loadKeyRing(config.secretKeys, config.dataDir);
  if (created) {
    logger.warn({ file }, 'generated a secret key ring in the data directory; production deployments should set TRIBUTARY_SECRET_KEYS');
  }
  const sealer = createSealer(ring);
  const store = await openStore(config, (err) => logger.warn({ err: err.message, code: (err as { code?: string }).code }, 'database connection lost; queries retry and reconnect'));
  try {
    const applied = await migrate(store).catch((err: unknown) => {
      throw migrationProblem(err, config) ?? err;
    });
    if (applied.length) logger.info({ applied }, 'applied database migrations');
    await assertKeyRingCovers(store, ring.keys.keys(), { file });
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return { config, store, repos: createRepositories(store, sealer), sealer, logger, metrics: createMetrics(), now: () => new Date(), keyFile: file };
}

/** A migration refused for want of privileges names DATABASE_URL and the grant that fixes it. */
function migrationProblem(err: unknown, config: Config): ConfigError | null {
  if ((err as { code?: string }).code !== '42501' || !config.databaseUrl) return null;
  const url = new URL(config.databaseUrl);
  const role = decodeURIComponent(url.username) || 'the role in DATABASE_URL';
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'the database';
  return new ConfigError(
    'DATABASE_URL',
    `${(err as Error).message}: the role "${role}" may not create tables. Run migrations as a role that may, or grant it once: GRANT CREATE ON SCHEMA public TO "${role}"; (in database "${database}", as its owner)`,
  );
}

/**
 * Ensures the default application exists. Returns an API key to print when the application has
 * never had one (first start) and `createKey` allows it (the processes a person watches: start
 * and api; a worker never mints a key nobody sees), or null. TRIBUTARY_API_KEY, when set, is
 * installed instead (idempotent).
 */
export async function ensureDefaultApplication(ctx: AppContext, opts: { createKey?: boolean } = {}): Promise<{ applicationId: string; printKey: string | null }> {
  const { app, created } = await ctx.repos.applications.ensureDefault(ctx.config.region);
  if (ctx.config.apiKey) {
    await ctx.repos.apiKeys.install(app.id, 'TRIBUTARY_API_KEY', ctx.config.apiKey);
    return { applicationId: app.id, printKey: null };
  }
  if (opts.createKey === false) return { applicationId: app.id, printKey: null };
  if (!created && (await ctx.repos.apiKeys.list(app.id)).length > 0) return { applicationId: app.id, printKey: null };
  const { key } = await ctx.repos.apiKeys.create(app.id, 'Default key');
  return { applicationId: app.id, printKey: key };
}

export interface RunningRoles {
  ctx: AppContext;
  http: Api | null;
  url: string | null;
  stop(): Promise<void>;
}

export async function startRoles(
  ctx: AppContext,
  roles: { api: boolean; worker: boolean },
  http: HttpOptions = dashboardHttpOptions(ctx),
): Promise<RunningRoles> {
  const stops: (() => Promise<void>)[] = [];
  let app: Api | null = null;
  let url: string | null = null;
  try {
    if (roles.worker) {
      // Periodic work runs on leases and timers in the worker modules; there is no job queue (ADR 0800).
      const wctx: WorkerContext = { ...ctx, workerId: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}` };
      for (const m of workerModules) {
        stops.push(await m.start(wctx));
        ctx.logger.debug({ module: m.name }, 'worker module started');
      }
    }
    if (roles.api) {
      app = await buildHttpApp(ctx, http);
      url = await app.listen({ host: ctx.config.host, port: ctx.config.port });
      const a = app;
      stops.push(() => a.close());
    }
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
  return {
    ctx,
    http: app,
    url,
    async stop() {
      for (const stop of [...stops].reverse()) {
        await stop().catch((err: unknown) => ctx.logger.warn({ err }, 'error while stopping'));
      }
      await ctx.store.close();
    },
  };
}
