import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { parseKeyRing } from '../../src/crypto/keyring.js';
import { createSealer } from '../../src/crypto/sealing.js';
import { migrate, pendingMigrations } from '../../src/store/migrate.js';
import { createRepositories } from '../../src/store/repositories/index.js';
import { resealAll } from '../../src/store/rotate-keys.js';
import { appendEvents } from '../../src/event-log/append.js';
import { startRoles } from '../../src/main.js';
import { DATABASES, testContext, TEST_KEYS, type TestContext } from '../helpers/context.js';

describe.each(DATABASES)('store on %s', (kind) => {
  let t: TestContext;
  beforeAll(async () => {
    t = await testContext(kind);
  });
  afterAll(() => t.close());

  it('has every migration applied and re-running migrate is a no-op', async () => {
    expect(await pendingMigrations(t.store)).toEqual([]);
    expect(await migrate(t.store)).toEqual([]);
  });

  it('compresses event bodies with lz4 where the server has it (PostgreSQL), pglz elsewhere (PGlite)', async () => {
    const { rows } = await sql<{ c: string }>`select attcompression::text as c from pg_attribute where attrelid = 'events'::regclass and attname = 'object'`.execute(t.store.db);
    expect(rows[0]!.c).toBe(kind === 'postgres' ? 'l' : '');
  });

  it('a worker keeps no job-queue tables: periodic work is leases and timers only (ADR 0800)', async () => {
    const c = await testContext(kind);
    const running = await startRoles(c, { api: false, worker: true });
    try {
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from information_schema.schemata where schema_name = 'pgboss'`.execute(c.store.db);
      expect(rows[0]!.n).toBe('0');
    } finally {
      await running.stop();
    }
  });

  it('appends events idempotently by id, in seq order', async () => {
    const app = await t.repos.applications.create({ name: 'a', environment: 'test', region: 'local' });
    const ev = (id: string) => ({ id, type: 'grant.created' as const, source: '/nylas/system', time: 1, grantId: 'g1', provider: 'imap' as const, object: { n: id } });
    expect(await appendEvents(t.store.db, app.id, [ev('e1'), ev('e2')])).toEqual(['e1', 'e2']);
    expect(await appendEvents(t.store.db, app.id, [ev('e2'), ev('e3')])).toEqual(['e3']);
    const rows = await t.store.db.selectFrom('events').select(['id', 'seq']).where('application_id', '=', app.id).orderBy('seq').execute();
    expect(rows.map((r) => r.id)).toEqual(['e1', 'e2', 'e3']);
    expect(typeof rows[0]!.seq).toBe('string');
  });

  it('appends nothing when the surrounding transaction rolls back (outbox rule)', async () => {
    const app = await t.repos.applications.create({ name: 'b', environment: 'test', region: 'local' });
    await expect(
      t.store.db.transaction().execute(async (tx) => {
        await appendEvents(tx, app.id, [{ id: 'rolled-back', type: 'grant.created', source: '/nylas/system', time: 1, grantId: null, provider: null, object: {} }]);
        throw new Error('cursor save failed');
      }),
    ).rejects.toThrow('cursor save failed');
    const row = await t.store.db.selectFrom('events').select('id').where('id', '=', 'rolled-back').executeTakeFirst();
    expect(row).toBeUndefined();
  });

  it('leases: one holder at a time, fencing token grows on takeover', async () => {
    const a = await t.repos.leases.acquire('test:lease', 'worker-a', 60_000);
    expect(a?.holder).toBe('worker-a');
    expect(await t.repos.leases.acquire('test:lease', 'worker-b', 60_000)).toBeNull();
    const renewed = await t.repos.leases.acquire('test:lease', 'worker-a', 60_000);
    expect(renewed?.token).toBe(a?.token);
    await sql`update leases set expires_at = now() - interval '1 second' where name = 'test:lease'`.execute(t.store.db);
    const b = await t.repos.leases.acquire('test:lease', 'worker-b', 60_000);
    expect(b?.holder).toBe('worker-b');
    expect(BigInt(b!.token)).toBeGreaterThan(BigInt(a!.token));
    expect(await t.repos.leases.holds('test:lease', 'worker-a', a!.token)).toBe(false);
    expect(await t.repos.leases.holds('test:lease', 'worker-b', b!.token)).toBe(true);
  });

  it('keys rotate: re-seals every secret under the new primary, old key still opens nothing left', async () => {
    const app = await t.repos.applications.create({ name: 'c', environment: 'test', region: 'local' });
    const integ = await t.repos.integrations.create(app.id, 'microsoft', { name: 'm', clientId: 'cid', clientSecret: 'the-client-secret', settings: {}, scope: [], secretExpiresAt: null });
    const grant = await t.repos.grants.create({ applicationId: app.id, integrationId: integ!.id, provider: 'microsoft', email: 'rot@example.com', scope: [], credentials: { refresh_token: 'rt-123' }, providerUserId: 't:o' });

    const newRing = parseKeyRing(`new:${Buffer.alloc(32, 9).toString('base64')},${TEST_KEYS}`);
    const sealer = createSealer(newRing);
    const counts = await resealAll(t.store, sealer);
    expect(counts['integrations.client_secret']).toBeGreaterThanOrEqual(1);
    expect(counts['grants.credentials']).toBeGreaterThanOrEqual(1);
    // Idempotent: nothing left to re-seal.
    expect(Object.values(await resealAll(t.store, sealer)).every((n) => n === 0)).toBe(true);

    const repos = createRepositories(t.store, createSealer(parseKeyRing(`new:${Buffer.alloc(32, 9).toString('base64')}`)));
    const row = await repos.integrations.getById(integ!.id);
    expect(row!.client_secret!.startsWith('v1.new.')).toBe(true);
    expect(repos.integrations.openSecret(row!)).toBe('the-client-secret');
    expect(repos.grants.openCredentials((await repos.grants.getById(grant!.id))!)).toEqual({ refresh_token: 'rt-123' });
  });
});
