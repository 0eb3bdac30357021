import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSetupLink } from '../../src/dashboard/accounts.js';
import { IDLE_TIMEOUT_MS } from '../../src/dashboard/sessions.js';
import { buildHttpApp } from '../../src/http/app.js';
import { dashboardHttpOptions } from '../../src/http/routes/dashboard/index.js';
import type { Api } from '../../src/http/types.js';
import { ensureDefaultApplication } from '../../src/main.js';
import { DATABASES, testContext, type TestContext } from '../helpers/context.js';

const ORIGIN = 'http://127.0.0.1:4000';
type Json = { data?: Record<string, unknown> & { csrf_token?: string }; error?: { type: string; message: string } };

describe.each(DATABASES)('dashboard API (%s)', (kind) => {
  let ctx: TestContext;
  let app: Api;
  let clock = Date.now();
  let cookie = '';
  let csrf = '';
  let setupToken = '';

  async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers: { ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: JSON.parse(res.body || '{}') as Json, setCookie: res.headers['set-cookie'] };
  }
  const write = (method: string, url: string, body?: unknown) => call(method, url, body, { origin: ORIGIN, 'x-csrf-token': csrf });

  beforeAll(async () => {
    ctx = await testContext(kind);
    ctx.now = () => new Date(clock);
    await ensureDefaultApplication(ctx);
    const opts = dashboardHttpOptions(ctx);
    app = await buildHttpApp(ctx, opts);
    await app.ready();
    const link = await createSetupLink(ctx.store.db, ctx.config.publicUrl, ctx.now());
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:4000\/setup\?token=[A-Za-z0-9_-]{40,}$/);
    setupToken = new URL(link!).searchParams.get('token')!;
  });
  afterAll(async () => {
    await app?.close();
    await ctx?.close();
  });

  it('lets a setup link expire after 24 hours', async () => {
    const link = (await createSetupLink(ctx.store.db, ctx.config.publicUrl, new Date(clock - 25 * 3600_000)))!;
    const r = await call('POST', '/dashboard/api/setup', { token: new URL(link).searchParams.get('token'), email: 'admin@example.com', password: 'a good long password' });
    expect(r.status).toBe(403);
    expect(r.body.error?.message).toMatch(/already used or expired/);
  });

  it('reports that setup is required before the first admin exists', async () => {
    const r = await call('GET', '/dashboard/api/session');
    expect(r.body.data).toMatchObject({ signed_in: false, setup_required: true });
  });

  it('refuses a bad setup token and a short password, with messages that say why', async () => {
    const bad = await call('POST', '/dashboard/api/setup', { token: 'x'.repeat(43), email: 'admin@example.com', password: 'long enough pw' });
    expect(bad.status).toBe(403);
    expect(bad.body.error?.message).toMatch(/not valid/);
    const short = await call('POST', '/dashboard/api/setup', { token: setupToken, email: 'admin@example.com', password: 'short' });
    expect(short.status).toBe(400);
    expect(short.body.error?.message).toMatch(/at least 10/);
  });

  it('creates the admin with the setup link once, signs in with an HttpOnly SameSite=Lax cookie', async () => {
    const r = await call('POST', '/dashboard/api/setup', { token: setupToken, email: 'Admin@Example.com', password: 'a good long password' }, { origin: ORIGIN });
    expect(r.status).toBe(200);
    const set = String(r.setCookie);
    expect(set).toMatch(/^tributary_session=[A-Za-z0-9_-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    cookie = set.split(';')[0]!;
    csrf = r.body.data!.csrf_token!;
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const again = await call('POST', '/dashboard/api/setup', { token: setupToken, email: 'other@example.com', password: 'a good long password' });
    expect(again.status).toBe(403);
    expect(await createSetupLink(ctx.store.db, ctx.config.publicUrl, ctx.now())).toBeNull();
  });

  it('accepts the session in place of an API key on the v3 API', async () => {
    const r = await call('GET', '/v3/applications');
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ name: 'Default application' });
  });

  it('leaves requests with an Authorization header to the API-key check, cookie or not', async () => {
    const r = await call('GET', '/v3/applications', undefined, { authorization: 'Bearer not-a-real-key-000000000000' });
    expect(r.status).toBe(401);
    expect(r.body.error?.message).toMatch(/API key is not valid/);
  });

  it('refuses state-changing requests without the CSRF header or from another origin', async () => {
    const body = { url: 'http://localhost:3000/cb' };
    const noToken = await call('POST', '/v3/applications/redirect-uris', body, { origin: ORIGIN });
    expect(noToken.status).toBe(403);
    expect(noToken.body.error?.message).toMatch(/x-csrf-token/);
    const crossSite = await call('POST', '/v3/applications/redirect-uris', body, { origin: 'http://evil.example', 'x-csrf-token': csrf });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body.error?.message).toMatch(/cross-origin/);
    const fetchSite = await call('POST', '/v3/applications/redirect-uris', body, { 'sec-fetch-site': 'cross-site', 'x-csrf-token': csrf });
    expect(fetchSite.status).toBe(403);
    const good = await write('POST', '/v3/applications/redirect-uris', body);
    expect(good.status).toBe(200);
  });

  it('creates an API key shown once, lists it by prefix, and revokes it', async () => {
    const created = await write('POST', '/dashboard/api/api-keys', { name: 'CI' });
    expect(created.status).toBe(200);
    const key = String(created.body.data!.key);
    expect(key.startsWith(String(created.body.data!.prefix))).toBe(true);
    const viaKey = await app.inject({ method: 'GET', url: '/v3/grants', headers: { authorization: `Bearer ${key}` } });
    expect(viaKey.statusCode).toBe(200);
    const list = await call('GET', '/dashboard/api/api-keys');
    const rows = list.body.data as unknown as { id: string; name: string; key?: string }[];
    const row = rows.find((k) => k.name === 'CI')!;
    expect(row).toBeDefined();
    expect(JSON.stringify(rows)).not.toContain(key);
    expect((await write('DELETE', `/dashboard/api/api-keys/${row.id}`)).status).toBe(200);
    expect((await write('DELETE', `/dashboard/api/api-keys/${row.id}`)).status).toBe(404);
    // An API key cannot reach the dashboard's endpoints.
    const keyOnDashboard = await app.inject({ method: 'GET', url: '/dashboard/api/api-keys', headers: { authorization: `Bearer ${key}` } });
    expect(keyOnDashboard.statusCode).toBe(401);
  });

  it('switches applications: the session then acts on the selected one', async () => {
    const created = await write('POST', '/dashboard/api/applications', { name: 'Acme staging', environment: 'staging' });
    expect(created.status).toBe(200);
    expect((await call('GET', '/v3/applications')).body.data).toMatchObject({ name: 'Acme staging', environment: 'staging' });
    const list = (await call('GET', '/dashboard/api/applications')).body.data as unknown as { application_id: string; selected: boolean; is_default: boolean }[];
    expect(list).toHaveLength(2);
    const dflt = list.find((a) => a.is_default)!;
    expect(dflt.selected).toBe(false);
    expect((await write('POST', '/dashboard/api/applications/select', { application_id: dflt.application_id })).status).toBe(200);
    expect((await call('GET', '/v3/applications')).body.data).toMatchObject({ name: 'Default application' });
    expect((await write('POST', '/dashboard/api/applications/select', { application_id: 'nope' })).status).toBe(404);
  });

  it('serves the overview aggregates', async () => {
    const empty = await call('GET', '/dashboard/api/overview?minutes=30');
    expect(empty.status).toBe(200);
    const e = empty.body.data as unknown as { events_per_minute: { t: number; n: number }[]; grants_by_status: Record<string, number> };
    expect(e.events_per_minute).toHaveLength(30);
    expect(e.grants_by_status).toEqual({});
    expect((await call('GET', '/dashboard/api/overview?minutes=1')).status).toBe(400);

    const applicationId = (await ctx.repos.applications.getDefault())!.id;
    // Rows carry the test's clock, not the database's now(): the clock is frozen while a slow
    // run can cross a minute boundary, which would put the rows outside the window asked for.
    const created_at = ctx.now();
    const event = (id: string, type: string) => ({ id, application_id: applicationId, grant_id: 'grant-a', provider: 'imap', type, source: '/imap/emails/realtime', time: 1, object: JSON.stringify({}), created_at });
    await ctx.store.db.insertInto('events').values([event('e1', 'message.created'), event('e2', 'message.created'), event('e3', 'grant.created')]).execute();
    const d = (await call('GET', '/dashboard/api/overview?minutes=5')).body.data as unknown as { events_per_minute: { n: number }[]; messages_24h: Record<string, number> };
    expect(d.events_per_minute.reduce((a, p) => a + p.n, 0)).toBe(3);
    expect(d.messages_24h).toEqual({ 'grant-a': 2 });

    const stream = await write('POST', '/v3/streams', { name: 'files', data_types: ['message.created'], destination: { type: 'file', config: {} }, status: 'pause' });
    expect(stream.status).toBe(200);
    const streamId = String(stream.body.data!.id);
    await ctx.store.db
      .insertInto('delivery_attempts')
      .values([
        { stream_id: streamId, first_seq: '1', last_seq: '5', count: 5, outcome: 'delivered', duration_ms: 3, created_at },
        { stream_id: streamId, first_seq: '6', last_seq: '7', count: 2, outcome: 'retry', duration_ms: 3, created_at },
      ])
      .execute();
    const t = (await call('GET', `/dashboard/api/streams/${streamId}/throughput?minutes=10`)).body.data as unknown as { n: number }[];
    expect(t).toHaveLength(10);
    expect(t.reduce((a, p) => a + p.n, 0)).toBe(5);
    expect((await call('GET', '/dashboard/api/streams/nope/throughput')).status).toBe(404);
  });

  it('refuses a wrong password, then signs in; the session ends when idle too long', async () => {
    const wrong = await call('POST', '/dashboard/api/login', { email: 'admin@example.com', password: 'not the password' }, { cookie: '' });
    expect(wrong.status).toBe(401);
    const crossSite = await call('POST', '/dashboard/api/login', { email: 'admin@example.com', password: 'a good long password' }, { origin: 'http://evil.example' });
    expect(crossSite.status).toBe(403);
    const login = await call('POST', '/dashboard/api/login', { email: 'ADMIN@example.com', password: 'a good long password' });
    expect(login.status).toBe(200);
    const second = String(login.setCookie).split(';')[0]!;
    clock += IDLE_TIMEOUT_MS + 1000;
    const r = await call('GET', '/v3/applications', undefined, { cookie: second });
    expect(r.status).toBe(401);
    expect(r.body.error?.message).toMatch(/sign in again/);
  });

  it('signs out: the cookie is cleared and the session no longer works', async () => {
    const login = await call('POST', '/dashboard/api/login', { email: 'admin@example.com', password: 'a good long password' });
    cookie = String(login.setCookie).split(';')[0]!;
    csrf = login.body.data!.csrf_token!;
    const out = await write('POST', '/dashboard/api/logout');
    expect(out.status).toBe(200);
    expect(String(out.setCookie)).toMatch(/Max-Age=0/);
    expect((await call('GET', '/v3/applications')).status).toBe(401);
    expect((await call('GET', '/dashboard/api/session')).body.data).toMatchObject({ signed_in: false, setup_required: false });
  });
});
