import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { testApi, type TestApi } from '../helpers/api.js';

/** Reads every row of every table in the public schema as text: what an attacker with a dump would see. */
async function dumpDatabase(t: TestApi): Promise<string> {
  const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public'`.execute(t.ctx.store.db);
  let out = '';
  for (const { tablename } of tables.rows) {
    const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(tablename)} t`.execute(t.ctx.store.db);
    out += rows.rows.map((r) => r.row).join('\n');
  }
  return out;
}

describe.each(DATABASES)('secrets never appear in plain text on %s', (kind) => {
  let t: TestApi;
  const clientSecret = 'Zx8Q~client-secret-that-must-stay-sealed';
  const imapPassword = 'imap-password-that-must-stay-sealed';

  beforeAll(async () => {
    t = await testApi(kind);
  });
  afterAll(() => t.close());

  it('in the database or the logs, whatever the API was asked', async () => {
    const created = await t.call('POST', '/v3/connectors', { provider: 'microsoft', settings: { client_id: 'cid', client_secret: clientSecret } });
    expect(created.status).toBe(200);
    await t.call('PATCH', '/v3/connectors/microsoft', { settings: { client_secret: clientSecret + '-2' } });
    // A rejected request that carries a secret must not echo or log it either.
    const rejected = await t.call('POST', '/v3/connectors', { provider: 'microsoft', settings: { client_id: 'cid', client_secret: clientSecret + '-3', tenant: 'bad tenant' } });
    expect(rejected.status).toBe(400);
    expect(JSON.stringify(rejected.body)).not.toContain(clientSecret);
    const integ = await t.ctx.repos.integrations.get(t.applicationId, 'microsoft');
    await t.ctx.repos.grants.create({ applicationId: t.applicationId, integrationId: integ!.id, provider: 'microsoft', email: 's@example.com', scope: [], credentials: { password: imapPassword }, providerUserId: 'x' });
    const { key } = await t.ctx.repos.apiKeys.create(t.applicationId, 'second');
    for (const url of ['/v3/connectors', '/v3/connectors/microsoft', '/v3/grants', '/v3/applications']) {
      const r = await t.call('GET', url, undefined, key);
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body)).not.toContain(clientSecret);
      expect(JSON.stringify(r.body)).not.toContain(imapPassword);
    }
    t.ctx.logger.info({ client_secret: clientSecret, settings: { client_secret: clientSecret }, api_key: key }, 'a careless log line');

    const dump = await dumpDatabase(t);
    expect(dump.length).toBeGreaterThan(100);
    expect(dump).toContain('cid'); // the dump really holds the integration row
    for (const secret of [clientSecret, imapPassword, key, t.key]) {
      expect(dump).not.toContain(secret);
      expect(t.ctx.logs.text).not.toContain(secret);
    }
    expect(t.ctx.logs.text).toContain('a careless log line');
    expect(t.ctx.logs.text).toContain('[redacted]');
  });
});
