import { createServer } from 'node:net';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config.js';
import { generateKey, loadKeyRing, saveKeyRing } from '../crypto/keyring.js';
import { createSealer } from '../crypto/sealing.js';
import { createLogger } from '../observability/logger.js';
import { createSetupLink } from '../dashboard/accounts.js';
import { createContext, ensureDefaultApplication, startRoles } from '../main.js';
import { openStore } from '../store/index.js';
import { migrate } from '../store/migrate.js';
import { resealAll } from '../store/rotate-keys.js';

/** Commands that run the server roles or operate on the database directly. */
export function registerServerCommands(program: Command): void {
  program
    .command('start')
    .description('run the API, the workers and the dashboard in one process')
    .action(() => run({ api: true, worker: true }));
  program
    .command('api')
    .description('run only the API and dashboard (scale out against one PostgreSQL)')
    .action(() => run({ api: true, worker: false }));
  program
    .command('worker')
    .description('run only the workers: sync, delivery, token refresh')
    .action(() => run({ api: false, worker: true }));

  program
    .command('migrate')
    .description('apply pending database migrations and exit')
    .action(async () => {
      const config = loadConfig();
      const store = await openStore(config);
      try {
        const applied = await migrate(store);
        console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
      } finally {
        await store.close();
      }
    });

  const keys = program.command('keys').description('secret key ring');
  keys
    .command('rotate')
    .description('seal every secret under a new key (embedded key file) or under the first key of TRIBUTARY_SECRET_KEYS')
    .action(async () => {
      const config = loadConfig();
      const { ring, file } = await loadKeyRing(config.secretKeys, config.dataDir);
      // The database first: if it cannot be opened (a running server holds the embedded one),
      // nothing has changed yet, and a retry does not pile up keys in the key file.
      const store = await openStore(config);
      try {
        await migrate(store);
        if (file) {
          const k = generateKey();
          ring.keys.set(k.id, k.key);
          ring.primary = k;
          await saveKeyRing(file, ring);
          console.log(`added key ${k.id} to ${file} and made it primary`);
        } else {
          console.log(`re-sealing under ${ring.primary.id}, the first key of TRIBUTARY_SECRET_KEYS (put a new key first to rotate)`);
        }
        const counts = await resealAll(store, createSealer(ring), (what, n) => process.stdout.write(`\r  ${what}: ${n} re-sealed`));
        process.stdout.write('\n');
        for (const [what, n] of Object.entries(counts)) console.log(`${what}: ${n}`);
        console.log('done; keys other than the primary can now be removed from the ring');
      } finally {
        await store.close();
      }
    });
  keys
    .command('create')
    .description('create an API key for the default application and print it once')
    .option('--name <name>', 'a label for the key', 'CLI key')
    .action(async (opts: { name: string }) => {
      const config = loadConfig();
      const ctx = await createContext(config, createLogger('warn'));
      try {
        const { applicationId } = await ensureDefaultApplication(ctx);
        const { key } = await ctx.repos.apiKeys.create(applicationId, opts.name);
        console.log(key);
      } finally {
        await ctx.store.close();
      }
    });
}

/** Binds and releases the API's address, so a port in use is reported before anything is written. */
async function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => reject(portProblem(err, { host, port }) ?? err));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function portProblem(err: unknown, c: { host: string; port: number }): ConfigError | null {
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') return new ConfigError('PORT', `${c.host}:${c.port} is already in use (another Tributary?): stop that process, or set PORT to a free port`);
  if (code === 'EACCES') return new ConfigError('PORT', `not allowed to listen on ${c.host}:${c.port}: choose a port above 1023, or set HOST`);
  if (code === 'EADDRNOTAVAIL') return new ConfigError('HOST', `${c.host} is not an address of this machine`);
  return null;
}

async function run(roles: { api: boolean; worker: boolean }): Promise<void> {
  try {
    await start(roles);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`configuration error — ${e.message}\nfix the variable and start again (see "Configuration" in README.md)`);
      process.exit(78);
    }
    throw e;
  }
}

async function start(roles: { api: boolean; worker: boolean }): Promise<void> {
  const config = loadConfig();
  // Before anything is written (key file, database, API key): a port in use stops here.
  if (roles.api) await assertPortFree(config.host, config.port);
  const logger = createLogger(config.logLevel, undefined, config.logFormat);
  const started = Date.now();
  const ctx = await createContext(config, logger);
  let running;
  try {
    running = await startRoles(ctx, roles);
  } catch (err) {
    await ctx.store.close().catch(() => undefined);
    throw portProblem(err, config) ?? err;
  }
  // Only once serving: a key shown once is minted only where a person will see it (start, api).
  const { printKey, applicationId } = await ensureDefaultApplication(ctx, { createKey: roles.api });
  const keyless = !roles.api && !config.apiKey && (await ctx.repos.apiKeys.list(applicationId)).length === 0;
  const setupLink = roles.api ? await createSetupLink(ctx.store.db, config.publicUrl, ctx.now()) : null;
  const where = config.databaseUrl ? `PostgreSQL (${new URL(config.databaseUrl).host})` : `embedded database in ${config.dataDir}`;
  const lines = [
    '',
    `  Tributary ${roles.api && roles.worker ? '' : roles.api ? '(api) ' : '(worker) '}is running — ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ...(roles.api ? [`  Dashboard   ${config.publicUrl}/`, `  API docs    ${config.publicUrl}/docs   (OpenAPI: ${config.publicUrl}/openapi.json)`] : []),
    `  Data        ${where}`,
    ...(printKey ? ['', '  API key (shown once; store it now):', `    ${printKey}`] : []),
    ...(keyless ? ['', '  No API key yet: `tributary api` prints one on its first start, or run `tributary keys create`'] : []),
    ...(setupLink ? ['', '  Dashboard setup (one-time link, valid 24 h; creates the admin account):', `    ${setupLink}`] : []),
    '',
  ];
  console.log(lines.join('\n'));
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await running.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
