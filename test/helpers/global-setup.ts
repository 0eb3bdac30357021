import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openPGlite } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrate.js';
import { startPostgres } from './postgres-server.js';
import { prepareSharedCeph } from './ceph.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    /** One PostgreSQL server per test worker (see createTestDatabase). */
    pgUrls: string[];
    pgliteSnapshot: string;
  }
}

/** Matches `maxWorkers` in vitest.config.ts. */
const WORKERS = 2;

/**
 * Once per run: real PostgreSQL servers for the suites — one per test worker, because snapshot
 * horizons are server-wide and a long transaction in one worker's test must not stall delivery
 * in the other's — and a migrated PGlite snapshot that each test loads in about a second
 * instead of running initdb again.
 */
export default async function setup(project: TestProject) {
  // S3 suites share one Ceph cluster, started lazily by the first suite that asks (sharedCeph()).
  const stopCeph = prepareSharedCeph();
  const servers = await Promise.all(Array.from({ length: WORKERS }, () => startPostgres()));
  const pg = servers[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'tributary-pglite-'));
  const snapshot = join(dir, 'snapshot.tar.gz');
  const store = await openPGlite(null);
  await migrate(store);
  const blob = await store.pglite.dumpDataDir('gzip');
  writeFileSync(snapshot, Buffer.from(await blob.arrayBuffer()));
  await store.close();
  project.provide('pgUrl', pg.url());
  project.provide('pgUrls', servers.map((s) => s.url()));
  project.provide('pgliteSnapshot', snapshot);
  // Asynchronous: vitest runs this in its main process while it still terminates the last workers.
  return async () => {
    await Promise.all([stopCeph(), ...servers.map((s) => s.close())]);
    rmSync(dir, { recursive: true, force: true });
  };
}
