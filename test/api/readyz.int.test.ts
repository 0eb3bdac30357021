import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp } from '../../src/http/app.js';
import type { Api } from '../../src/http/types.js';
import { openPostgres, type Store } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrate.js';
import { createRepositories } from '../../src/store/repositories/index.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { eventually } from '../helpers/grants.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres-server.js';

/**
 * /readyz follows the database: not ready (503) while PostgreSQL is down, ready again after it
 * comes back, without restarting the api (the pool reconnects by itself). A server of its own,
 * so stopping it touches no other test.
 */
describe('/readyz across a PostgreSQL outage', () => {
  let pgServer: PostgresServer;
  let store: Store;
  let ctx: TestContext;
  let app: Api;
  beforeAll(async () => {
    pgServer = await startPostgres();
    store = await openPostgres(pgServer.url());
    await migrate(store);
    const base = await testContext('pglite');
    await base.store.close();
    ctx = { ...base, store, repos: createRepositories(store, base.sealer), close: () => store.close() };
    app = await buildHttpApp(ctx);
    await app.ready();
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await store?.close().catch(() => undefined);
    try {
      pgServer?.stop();
    } catch {
      /* already down after a failed run: the data directory is removed all the same */
    }
  });

  const readyz = async () => {
    const res = await app.inject({ method: 'GET', url: '/readyz' });
    return { status: res.statusCode, body: JSON.parse(res.body) as { status: string } };
  };

  it('answers 503 while the database is down and 200 once it is back', async () => {
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready' } });
    pgServer.down();
    // The pool's idle clients were terminated (57P01): the process must not die of it.
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('database unreachable');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    pgServer.up();
    await eventually(async () => (await readyz()).status === 200, 30_000, '/readyz ready again');
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready' } });
    // A second outage, as in a failover followed by a switch back.
    pgServer.restart();
    await eventually(async () => (await readyz()).status === 200, 30_000, '/readyz ready after a restart');
  }, 120_000);
});
