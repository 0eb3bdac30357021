import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApi, type TestApi } from '../helpers/api.js';

/** Destination setup guides through the API the dashboard's stream form uses. */
describe('destination setup guides', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await testApi('pglite');
  });
  afterAll(() => api.close());

  it('lists the guide with each destination (null when nothing is to be set up), the script rendered with the defaults', async () => {
    const r = await api.call('GET', '/v3/destinations');
    expect(r.status).toBe(200);
    const byType = new Map<string, { setup_guide: { title: string; script: string | null; language: string | null } | null }>(r.body.data.map((d: { type: string }) => [d.type, d]));
    expect(byType.get('file')!.setup_guide).toBeNull();
    const guide = byType.get('snowflake')!.setup_guide!;
    expect(guide.language).toBe('sql');
    expect(guide.script).toContain('CREATE ROLE IF NOT EXISTS TRIBUTARY_ROLE;');
  });

  it('renders the script for the configured user, role and warehouse', async () => {
    const r = await api.call('POST', '/v3/destinations/snowflake/setup-guide', { config: { user: 'ACME_SVC', role: 'ACME_ROLE', warehouse: 'ACME_WH', account: 'acme-prod' } });
    expect(r.status).toBe(200);
    const script = String(r.body.data.script);
    expect(script).toContain('CREATE ROLE IF NOT EXISTS ACME_ROLE;');
    expect(script).toContain('CREATE USER IF NOT EXISTS ACME_SVC TYPE = SERVICE DEFAULT_ROLE = ACME_ROLE DEFAULT_WAREHOUSE = ACME_WH;');
    expect(script).toContain('GRANT USAGE ON WAREHOUSE ACME_WH TO ROLE ACME_ROLE;');
    expect(script).not.toContain('TRIBUTARY_ROLE');
  });

  it('refuses secrets, unknown fields and values the stream would refuse, naming the field', async () => {
    const secret = await api.call('POST', '/v3/destinations/snowflake/setup-guide', { config: { private_key: '-----BEGIN PRIVATE KEY-----' } });
    expect(secret.status).toBe(400);
    expect(secret.body.error.message).toMatch(/private_key is a secret field/);
    const injected = await api.call('POST', '/v3/destinations/snowflake/setup-guide', { config: { role: "X; DROP DATABASE Y; --'" } });
    expect(injected.status).toBe(400);
    expect(injected.body.error.message).toMatch(/^role:/);
    const unknown = await api.call('POST', '/v3/destinations/snowflake/setup-guide', { config: { colour: 'red' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/colour is not a field/);
    expect((await api.call('POST', '/v3/destinations/carrier-pigeon/setup-guide', { config: {} })).status).toBe(400);
    expect((await api.call('POST', '/v3/destinations/snowflake/setup-guide', { config: 'x' })).status).toBe(400);
  });
});
