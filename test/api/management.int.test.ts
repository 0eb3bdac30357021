import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { testApi, type TestApi } from '../helpers/api.js';

describe.each(DATABASES)('management API on %s', (kind) => {
  let t: TestApi;
  beforeAll(async () => {
    t = await testApi(kind);
  });
  afterAll(() => t.close());

  describe('authentication', () => {
    it('refuses missing, malformed, unknown and revoked keys with 401', async () => {
      expect((await t.call('GET', '/v3/grants', undefined, null)).status).toBe(401);
      const malformed = await t.app.inject({ method: 'GET', url: '/v3/grants', headers: { authorization: 'Basic abc' } });
      expect(malformed.statusCode).toBe(401);
      expect(JSON.parse(malformed.body).error.message).toContain('Bearer');
      expect((await t.call('GET', '/v3/grants', undefined, 'trb_' + 'x'.repeat(40))).status).toBe(401);
      const { key, row } = await t.ctx.repos.apiKeys.create(t.applicationId, 'temp');
      expect((await t.call('GET', '/v3/grants', undefined, key)).status).toBe(200);
      await t.ctx.repos.apiKeys.revoke(t.applicationId, row.id);
      const revoked = await t.call('GET', '/v3/grants', undefined, key);
      expect(revoked.status).toBe(401);
      expect(revoked.body.error).toEqual({ type: 'unauthorized', message: expect.stringContaining('revoked') });
      expect(revoked.body.request_id).toEqual(expect.any(String));
    });

    it('leaves health endpoints public', async () => {
      expect((await t.call('GET', '/healthz', undefined, null)).status).toBe(200);
      expect((await t.call('GET', '/readyz', undefined, null)).body).toEqual({ status: 'ready' });
      const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toContain('tributary_http_requests_total');
    });

    it('serves the OpenAPI document and a script-free reference page built from it', async () => {
      const spec = await t.app.inject({ method: 'GET', url: '/openapi.json' });
      expect(JSON.parse(spec.body).paths['/v3/grants/{grant_id}']).toBeDefined();
      const page = await t.app.inject({ method: 'GET', url: '/docs' });
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toContain('/v3/grants/{grant_id}');
      expect(page.body).not.toContain('<script');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect((await t.app.inject({ method: 'GET', url: '/docs.css' })).headers['content-type']).toContain('text/css');
    });
  });

  describe('applications', () => {
    it('shows and updates the application, including the callback URL to register', async () => {
      const r = await t.call('GET', '/v3/applications');
      expect(r.body.data).toMatchObject({ application_id: t.applicationId, environment: 'production', callback_url: `${t.ctx.config.publicUrl}/v3/connect/callback` });
      const p = await t.call('PATCH', '/v3/applications', { name: 'Acme staging', environment: 'staging', region: 'eu', branding: { name: 'Acme' } });
      expect(p.status).toBe(200);
      expect(p.body.data).toMatchObject({ name: 'Acme staging', environment: 'staging', region: 'eu', branding: { name: 'Acme' } });
      expect((await t.call('PATCH', '/v3/applications', { region: 'Not A Label' })).status).toBe(400);
      expect((await t.call('PATCH', '/v3/applications', { owner: 'me' })).body.error.message).toContain('owner');
    });

    it('manages an exact-match list of redirect URIs', async () => {
      const add = await t.call('POST', '/v3/applications/redirect-uris', { url: 'https://app.example.com/callback' });
      expect(add.status).toBe(200);
      expect((await t.call('POST', '/v3/applications/redirect-uris', { url: 'https://app.example.com/callback' })).status).toBe(409);
      expect((await t.call('POST', '/v3/applications/redirect-uris', { url: 'http://evil.example.com/cb' })).body.error.message).toContain('https');
      expect((await t.call('POST', '/v3/applications/redirect-uris', { url: 'not a url' })).status).toBe(400);
      expect((await t.call('POST', '/v3/applications/redirect-uris', { url: 'https://a.example.com/#frag' })).status).toBe(400);
      expect((await t.call('POST', '/v3/applications/redirect-uris', { url: 'http://localhost:3000/cb' })).status).toBe(200);
      expect(await t.ctx.repos.redirectUris.allows(t.applicationId, 'https://app.example.com/callback')).toBe(true);
      expect(await t.ctx.repos.redirectUris.allows(t.applicationId, 'https://app.example.com/callback/')).toBe(false);
      expect(await t.ctx.repos.redirectUris.allows(t.applicationId, 'https://APP.example.com/callback')).toBe(false);
      const list = await t.call('GET', '/v3/applications/redirect-uris');
      expect(list.body.data.map((u: { url: string }) => u.url)).toEqual(['https://app.example.com/callback', 'http://localhost:3000/cb']);
      const id = add.body.data.id;
      expect((await t.call('DELETE', `/v3/applications/redirect-uris/${id}`)).status).toBe(200);
      expect((await t.call('DELETE', `/v3/applications/redirect-uris/${id}`)).status).toBe(404);
    });
  });

  describe('connectors', () => {
    it('creates one integration per provider with default scopes, never returning the secret', async () => {
      const r = await t.call('POST', '/v3/connectors', { provider: 'microsoft', settings: { client_id: 'app-123', client_secret: 'very-secret-value', tenant: 'contoso.onmicrosoft.com' } });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({ provider: 'microsoft', settings: { client_id: 'app-123', tenant: 'contoso.onmicrosoft.com' }, scope: ['offline_access', 'openid', 'profile', 'User.Read', 'Mail.Read'], client_secret_set: true, status: 'ok' });
      expect(JSON.stringify(r.body)).not.toContain('very-secret-value');
      expect((await t.call('POST', '/v3/connectors', { provider: 'microsoft', settings: { client_id: 'x', client_secret: 'y' } })).status).toBe(409);
      const get = await t.call('GET', '/v3/connectors/microsoft');
      expect(JSON.stringify(get.body)).not.toContain('very-secret-value');
      const row = await t.ctx.repos.integrations.get(t.applicationId, 'microsoft');
      expect(t.ctx.repos.integrations.openSecret(row!)).toBe('very-secret-value');
    });

    it('validates provider, tenant and required settings', async () => {
      expect((await t.call('POST', '/v3/connectors', { provider: 'yahoo' })).status).toBe(400);
      const tenant = await t.call('POST', '/v3/connectors', { provider: 'imap', settings: { tenant: 'common' } });
      expect(tenant.body.error.message).toContain('unknown property "tenant"');
      expect((await t.call('POST', '/v3/connectors', { provider: 'imap', settings: { client_id: 'a' } })).body.error.message).toContain('unknown property "client_id"');
      expect((await t.call('POST', '/v3/connectors', { provider: 'microsoft', settings: { client_id: 'a' } })).body.error.message).toContain('client_secret');
      expect((await t.call('POST', '/v3/connectors', { provider: 'microsoft', settings: { client_id: 'a', client_secret: 'b', backfill_days: -1 } })).body.error.message).toContain('settings.backfill_days');
      expect((await t.call('PATCH', '/v3/connectors/microsoft', { settings: { tenant: 'not a tenant!' } })).body.error.message).toContain('tenant must be');
      expect((await t.call('GET', '/v3/connectors/aol')).status).toBe(400);
      expect((await t.call('GET', '/v3/connectors/imap')).status).toBe(404);
    });

    it('warns about a client secret that expires within 30 days and errors once expired', async () => {
      const soon = Math.floor(Date.now() / 1000) + 10 * 86400;
      const r = await t.call('PATCH', '/v3/connectors/microsoft', { settings: { client_secret: 'rotated', secret_expires_at: soon } });
      expect(r.body.data).toMatchObject({ secret_status: 'expiring', status: 'warning', secret_expires_at: soon });
      const past = await t.call('PATCH', '/v3/connectors/microsoft', { settings: { secret_expires_at: 1000 } });
      expect(past.body.data).toMatchObject({ secret_status: 'expired', status: 'error', error: expect.stringContaining('expired') });
    });

    it('lists exactly the registered providers, with their settings schemas and setup data', async () => {
      const { listProviders } = await import('../../src/providers/registry.js');
      const r = await t.call('GET', '/v3/providers');
      expect(r.status).toBe(200);
      interface Listed {
        id: string;
        integration_settings_schema: { properties: Record<string, unknown> };
        guide: { steps: { copy?: { value: string } }[] };
      }
      const byId = new Map<string, Listed>(r.body.data.map((p: Listed) => [p.id, p]));
      expect([...byId.keys()]).toEqual(listProviders().map((d) => d.id));
      expect(byId.get('microsoft')).toMatchObject({ auth: 'oauth', callback_url: `${t.ctx.config.publicUrl}/v3/connect/callback`, inbound_urls: { notifications: `${t.ctx.config.publicUrl}/v3/providers/microsoft/notifications` } });
      expect(Object.keys(byId.get('microsoft')!.integration_settings_schema.properties)).toEqual(expect.arrayContaining(['client_id', 'client_secret', 'tenant']));
      expect(byId.get('microsoft')!.guide.steps.some((s) => s.copy?.value === `${t.ctx.config.publicUrl}/v3/connect/callback`)).toBe(true);
      expect(byId.get('imap')).toMatchObject({ auth: 'password', callback_url: null, credentials_schema: { required: ['imap_username', 'imap_password'] } });
      // A provider that is not registered cannot be configured, listed or filtered on.
      expect((await t.call('POST', '/v3/connectors', { provider: 'aol', settings: {} })).status).toBe(400);
      expect((await t.call('GET', '/v3/grants?provider=aol')).status).toBe(400);
    });

    it('deletes', async () => {
      await t.call('POST', '/v3/connectors', { provider: 'imap', settings: { imap_host: 'imap.example.com' } });
      expect((await t.call('DELETE', '/v3/connectors/imap')).status).toBe(200);
      expect((await t.call('DELETE', '/v3/connectors/imap')).status).toBe(404);
      expect((await t.call('GET', '/v3/connectors')).body.data.map((c: { provider: string }) => c.provider)).toEqual(['microsoft']);
    });
  });

  describe('events', () => {
    it('pages newest first with a cursor and filters by type and grant', async () => {
      const { appendEvents } = await import('../../src/event-log/append.js');
      const events = Array.from({ length: 7 }, (_, i) => ({
        id: `ev-${kind}-${i}`,
        type: (i % 2 ? 'grant.updated' : 'grant.created') as 'grant.created',
        source: '/nylas/system',
        time: 1700000000 + i,
        grantId: i < 4 ? 'grant-a' : 'grant-b',
        provider: 'imap' as const,
        object: { i },
      }));
      await appendEvents(t.ctx.store.db, t.applicationId, events);
      const p1 = await t.call('GET', '/v3/events?limit=3');
      expect(p1.body.data.map((e: { id: string }) => e.id)).toEqual([`ev-${kind}-6`, `ev-${kind}-5`, `ev-${kind}-4`]);
      const p2 = await t.call('GET', `/v3/events?limit=3&page_token=${p1.body.next_cursor}`);
      expect(p2.body.data.map((e: { id: string }) => e.id)).toEqual([`ev-${kind}-3`, `ev-${kind}-2`, `ev-${kind}-1`]);
      expect(p1.body.data[0]).toMatchObject({ specversion: '1.0', type: 'grant.created', source: '/nylas/system', time: 1700000006, data: { application_id: t.applicationId, grant_id: 'grant-b', object: { i: 6 } } });
      const filtered = await t.call('GET', '/v3/events?type=grant.updated&grant_id=grant-a');
      expect(filtered.body.data.map((e: { id: string }) => e.id)).toEqual([`ev-${kind}-3`, `ev-${kind}-1`]);
      expect((await t.call('GET', '/v3/events?page_token=abc')).status).toBe(400);
      expect((await t.call('GET', '/v3/events?type=message.deleted')).status).toBe(400);
    });
  });

  describe('bad input', () => {
    it('answers 4xx with a message for malformed JSON, wrong content type and oversized bodies', async () => {
      const bad = await t.call('POST', '/v3/connectors', '{"provider":');
      expect(bad.status).toBe(400);
      expect(bad.body.error.type).toBe('invalid_request_error');
      const text = await t.app.inject({ method: 'POST', url: '/v3/connectors', headers: { authorization: `Bearer ${t.key}`, 'content-type': 'text/plain' }, payload: 'hello' });
      expect(text.statusCode).toBe(400);
      expect(JSON.parse(text.body).error.message).toContain('body must be object');
      const huge = await t.call('POST', '/v3/applications/redirect-uris', { url: 'https://a.example.com/' + 'x'.repeat(2 * 1024 * 1024) });
      expect(huge.status).toBe(413);
      expect(huge.body.error.type).toBe('payload_too_large');
    });

    it('answers 404 in the v3 shape for unknown routes', async () => {
      const r = await t.call('GET', '/v3/nothing-here');
      expect(r.status).toBe(404);
      expect(r.body.error.type).toBe('not_found_error');
    });
  });
});
