/**
 * `npm run bench:api` — GET /v3/grants?limit=50 with 10,000 grants in PostgreSQL.
 * The API runs as its own process (`tributary api`), as in production; autocannon drives it
 * from this process: first a fixed-concurrency run for throughput, then a fixed-rate run at
 * 500 requests/s for latency (the figure the foundation issue asks for).
 */
import autocannon from 'autocannon';
import { sql } from 'kysely';
import { newId } from '../src/domain/ids.js';
import { openPostgres } from '../src/store/index.js';
import { migrate } from '../src/store/migrate.js';
import { freePort, startPostgres } from '../test/helpers/postgres-server.js';
import { spawnTributary, waitForReady } from '../test/helpers/process.js';
import { machineLine } from './machine.js';

const GRANTS = 10_000;
const KEY = 'bench_api_key_0123456789abcdefghijkl';

async function main() {
  console.log(machineLine());
  const pg = await startPostgres();
  const admin = await openPostgres(pg.url());
  await sql`create database bench`.execute(admin.db);
  await admin.close();
  const url = pg.url('bench');
  const env = { DATABASE_URL: url, TRIBUTARY_API_KEY: KEY, TRIBUTARY_SECRET_KEYS: `b:${Buffer.alloc(32, 1).toString('base64')}`, TRIBUTARY_RATE_LIMIT: '10000000', LOG_LEVEL: 'info' };
  const port = await freePort();
  const api = spawnTributary(['api'], { ...env, PORT: String(port) });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForReady(base, 60_000);

    // Seed 10,000 grants directly (the data shape the API lists).
    const store = await openPostgres(url);
    await migrate(store);
    const app = await store.db.selectFrom('applications').select('id').where('is_default', '=', true).executeTakeFirstOrThrow();
    const integ = await store.db
      .insertInto('integrations')
      .values({ id: newId('int_'), application_id: app.id, provider: 'imap', name: 'bench', client_id: null, client_secret: null, settings: '{}', scope: '[]', secret_expires_at: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let i = 0; i < GRANTS; i += 1000) {
      await store.db
        .insertInto('grants')
        .values(
          Array.from({ length: 1000 }, (_, j) => ({
            id: newId(),
            application_id: app.id,
            integration_id: integ.id,
            provider: 'imap',
            email: `user${i + j}@example.com`,
            email_key: `user${i + j}@example.com`,
            scope: '[]',
            credentials: null,
            provider_user_id: null,
            settings: '{}',
            sync_state: JSON.stringify({ folders: { INBOX: { uidValidity: 1, uidNext: 100 + j } } }),
          })),
        )
        .execute();
    }
    await sql`analyze grants`.execute(store.db);
    await store.close();
    console.log(`seeded ${GRANTS} grants`);

    const target = { url: `${base}/v3/grants?limit=50`, headers: { authorization: `Bearer ${KEY}` } };
    await autocannon({ ...target, connections: 10, duration: 3 }); // warm-up (JIT, pools)

    const throughput = await autocannon({ ...target, connections: 10, duration: 10 });
    const fixed = await autocannon({ ...target, connections: 8, duration: 15, overallRate: 500 });
    const fmt = (r: autocannon.Result) =>
      `${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p90 ${r.latency.p90} ms, p99 ${r.latency.p99} ms, max ${r.latency.max} ms, non-2xx ${r.non2xx}, errors ${r.errors}`;
    console.log(`GET /v3/grants?limit=50, ${GRANTS} grants in PostgreSQL 15, API in its own process`);
    console.log(`  max throughput (10 connections, 10 s): ${fmt(throughput)}`);
    console.log(`  fixed rate 500 req/s (15 s):           ${fmt(fixed)}`);
    const ok = fixed.latency.p99 < 20 && fixed.non2xx === 0;
    console.log(`  aim p99 < 20 ms at 500 req/s: ${ok ? 'met' : 'NOT met'}`);
  } finally {
    await api.kill();
    pg.stop();
  }
}

await main();
