import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { testApi, type TestApi } from '../helpers/api.js';

describe.each(DATABASES)('grants API on %s', (kind) => {
  let t: TestApi;
  let integrationId: string;

  beforeAll(async () => {
    t = await testApi(kind);
    const r = await t.call('POST', '/v3/connectors', { provider: 'imap', settings: { imap_host: 'mail.example.com', imap_port: 993, imap_security: 'tls' } });
    expect(r.status).toBe(200);
    integrationId = r.body.data.id;
    for (let i = 0; i < 25; i++) {
      await t.ctx.repos.grants.create({
        applicationId: t.applicationId,
        integrationId,
        provider: 'imap',
        email: `user${i}@example.com`,
        scope: [],
        credentials: { password: `pw-${i}` },
        providerUserId: `user${i}@mail.example.com`,
      });
    }
  });
  afterAll(() => t.close());

  it('pages with limit and offset and filters by email, status and provider', async () => {
    const first = await t.call('GET', '/v3/grants?limit=10');
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(10);
    expect(first.body.next_cursor).toBe('10');
    const last = await t.call('GET', '/v3/grants?limit=10&offset=20');
    expect(last.body.data).toHaveLength(5);
    expect(last.body.next_cursor).toBeNull();
    const ids = new Set([...first.body.data, ...last.body.data].map((g: { id: string }) => g.id));
    expect(ids.size).toBe(15);

    const byEmail = await t.call('GET', '/v3/grants?email=USER3@example.com');
    expect(byEmail.body.data.map((g: { email: string }) => g.email)).toEqual(['user3@example.com']);
    expect((await t.call('GET', '/v3/grants?grant_status=expired')).body.data).toEqual([]);
    expect((await t.call('GET', '/v3/grants?provider=microsoft')).body.data).toEqual([]);
    expect((await t.call('GET', '/v3/grants?provider=imap&limit=200')).body.data).toHaveLength(25);
  });

  it('never returns credentials', async () => {
    const r = await t.call('GET', '/v3/grants?limit=50');
    expect(JSON.stringify(r.body)).not.toContain('pw-');
    expect(r.body.data[0]).not.toHaveProperty('credentials');
  });

  it('rejects bad filters with a message naming the field', async () => {
    const r = await t.call('GET', '/v3/grants?grant_status=sleeping');
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('grant_status');
    expect((await t.call('GET', '/v3/grants?limit=0')).status).toBe(400);
    expect((await t.call('GET', '/v3/grants?colour=blue')).status).toBe(400);
  });

  it('deletes a grant once and emits grant.deleted once', async () => {
    const g = (await t.call('GET', '/v3/grants?email=user7@example.com')).body.data[0];
    expect((await t.call('DELETE', `/v3/grants/${g.id}`)).status).toBe(200);
    expect((await t.call('DELETE', `/v3/grants/${g.id}`)).status).toBe(404);
    expect((await t.call('GET', `/v3/grants/${g.id}`)).status).toBe(404);
    const events = await t.call('GET', `/v3/events?type=grant.deleted&grant_id=${g.id}`);
    expect(events.body.data).toHaveLength(1);
    expect(events.body.data[0]).toMatchObject({ specversion: '1.0', type: 'grant.deleted', source: '/nylas/system', data: { grant_id: g.id, object: { code: 25013, email: 'user7@example.com', provider: 'imap' } } });
  });

  it("hides another application's grants (404, not 403)", async () => {
    const other = await t.ctx.repos.applications.create({ name: 'other', environment: 'staging', region: 'local' });
    const { key } = await t.ctx.repos.apiKeys.create(other.id, 'k');
    const g = (await t.call('GET', '/v3/grants?limit=1')).body.data[0];
    expect((await t.call('GET', `/v3/grants/${g.id}`, undefined, key)).status).toBe(404);
    expect((await t.call('DELETE', `/v3/grants/${g.id}`, undefined, key)).status).toBe(404);
    expect((await t.call('GET', '/v3/grants', undefined, key)).body.data).toEqual([]);
  });

  it('announces grant.deleted for every grant when their integration is deleted', async () => {
    const before = (await t.call('GET', '/v3/grants?limit=200')).body.data.length;
    expect(before).toBeGreaterThan(0);
    expect((await t.call('DELETE', '/v3/connectors/imap')).status).toBe(200);
    expect((await t.call('GET', '/v3/grants?limit=200')).body.data).toEqual([]);
    const events = await t.call('GET', '/v3/events?type=grant.deleted&limit=200');
    // One per remaining grant, plus the one deleted individually above (never twice).
    expect(events.body.data).toHaveLength(before + 1);
    expect(new Set(events.body.data.map((e: { data: { grant_id: string } }) => e.data.grant_id)).size).toBe(before + 1);
  });
});
