import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openPGlite } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrate.js';
import { startPostgres } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    pgliteSnapshot: string;
  }
}

/**
 * Once per run: a real PostgreSQL server for the suites, and a migrated PGlite snapshot that
 * each test loads in about a second instead of running initdb again.
 */
export default async function setup(project: TestProject) {
  const pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-pglite-'));
  const snapshot = join(dir, 'snapshot.tar.gz');
  const store = await openPGlite(null);
  await migrate(store);
  const blob = await store.pglite.dumpDataDir('gzip');
  writeFileSync(snapshot, Buffer.from(await blob.arrayBuffer()));
  await store.close();
  project.provide('pgUrl', pg.url());
  project.provide('pgliteSnapshot', snapshot);
  return () => {
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
