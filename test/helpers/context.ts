import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pg from 'pg';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { AppContext } from '../../src/context.js';
import { parseKeyRing } from '../../src/crypto/keyring.js';
import { createSealer } from '../../src/crypto/sealing.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { openPGlite, openPostgres, type Store } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrate.js';
import { createRepositories } from '../../src/store/repositories/index.js';

export type DatabaseKind = 'pglite' | 'postgres';
export const DATABASES: DatabaseKind[] = ['pglite', 'postgres'];

/** This worker's own PostgreSQL server (VITEST_POOL_ID is 1-based). */
function serverUrl(): string {
  const urls = inject('pgUrls');
  const pool = Number(process.env.VITEST_POOL_ID ?? '1');
  return urls[(Math.max(pool, 1) - 1) % urls.length]!;
}

/** A fresh PostgreSQL database on this worker's test server; returns its URL. */
export async function createTestDatabase(): Promise<string> {
  const server = serverUrl();
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  const name = `t_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return server.replace(/\/postgres$/, `/${name}`);
}

export async function openTestStore(kind: DatabaseKind): Promise<Store> {
  if (kind === 'postgres') {
    const store = await openPostgres(await createTestDatabase());
    await migrate(store);
    return store;
  }
  const snapshot = new Blob([readFileSync(inject('pgliteSnapshot'))]);
  const store = await openPGlite(null, { loadDataDir: snapshot });
  await migrate(store);
  return store;
}

export const TEST_KEYS = `test:${Buffer.alloc(32, 7).toString('base64')}`;

/** Captures every log line so tests can assert on what was (and was not) logged. */
export class LogCapture extends Writable {
  lines: string[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.lines.push(chunk.toString());
    cb();
  }
  get text() {
    return this.lines.join('');
  }
}

export interface TestContext extends AppContext {
  logs: LogCapture;
  close(): Promise<void>;
}

export async function testContext(kind: DatabaseKind, env: Record<string, string> = {}): Promise<TestContext> {
  const store = await openTestStore(kind);
  const config: Config = loadConfig({ TRIBUTARY_SECRET_KEYS: TEST_KEYS, TRIBUTARY_DATA_DIR: '/nonexistent', LOG_LEVEL: 'debug', TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'true', ...env });
  const sealer = createSealer(parseKeyRing(TEST_KEYS));
  const logs = new LogCapture();
  return {
    config,
    store,
    repos: createRepositories(store, sealer),
    sealer,
    logger: createLogger('debug', logs),
    metrics: createMetrics(),
    now: () => new Date(),
    logs,
    close: () => store.close(),
  };
}
