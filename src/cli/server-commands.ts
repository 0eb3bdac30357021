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
      if (file) {
        const k = generateKey();
        ring.keys.set(k.id, k.key);
        ring.primary = k;
        await saveKeyRing(file, ring);
        console.log(`added key ${k.id} to ${file} and made it primary`);
      } else {
        console.log(`re-sealing under ${ring.primary.id}, the first key of TRIBUTARY_SECRET_KEYS (put a new key first to rotate)`);
      }
      const store = await openStore(config);
      try {
        await migrate(store);
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
  const logger = createLogger(config.logLevel);
  const started = Date.now();
  const ctx = await createContext(config, logger);
  const { printKey } = await ensureDefaultApplication(ctx);
  const setupLink = roles.api ? await createSetupLink(ctx.store.db, config.publicUrl, ctx.now()) : null;
  const running = await startRoles(ctx, roles);
  const where = config.databaseUrl ? `PostgreSQL (${new URL(config.databaseUrl).host})` : `embedded database in ${config.dataDir}`;
  const lines = [
    '',
    `  Tributary ${roles.api && roles.worker ? '' : roles.api ? '(api) ' : '(worker) '}is running — ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    ...(roles.api ? [`  Dashboard   ${config.publicUrl}/`, `  API docs    ${config.publicUrl}/docs   (OpenAPI: ${config.publicUrl}/openapi.json)`] : []),
    `  Data        ${where}`,
    ...(printKey ? ['', '  API key (shown once; store it now):', `    ${printKey}`] : []),
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
