import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testApi, type TestApi } from '../helpers/api.js';
import { DATABASES } from '../helpers/context.js';
import { Dovecot, freePort } from '../helpers/dovecot.js';

let dovecot: Dovecot;
beforeAll(async () => {
  dovecot = await Dovecot.start();
  dovecot.addUser('carol@example.test', 'right-password');
});
afterAll(async () => {
  await dovecot?.destroy();
});

describe.each(DATABASES)('POST /v3/connect/custom against Dovecot on %s', (kind) => {
  let api: TestApi;
  const grantCount = async () => (await api.ctx.store.db.selectFrom('grants').select('id').execute()).length;

  beforeEach(async () => {
    api = await testApi(kind);
    const c = await api.call('POST', '/v3/connectors', { provider: 'imap', settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none' } });
    expect(c.status).toBe(200);
  });
  afterEach(async () => {
    await api.close();
  });

  it('logs in, then creates the grant with the password sealed and announces grant.created', async () => {
    const res = await api.call('POST', '/v3/connect/custom', { provider: 'imap', settings: { imap_username: 'carol@example.test', imap_password: 'right-password' }, state: 'xyz' });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ provider: 'imap', email: 'carol@example.test', grant_status: 'valid', state: 'xyz' });
    expect(JSON.stringify(res.body)).not.toContain('right-password');
    const row = await api.ctx.repos.grants.getById(res.body.data.id);
    expect(row!.credentials).not.toContain('right-password');
    expect(api.ctx.repos.grants.openCredentials(row!)).toEqual({ username: 'carol@example.test', password: 'right-password' });
    expect(row!.settings).toMatchObject({ imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none' });
    const events = await api.ctx.store.db.selectFrom('events').select('type').where('grant_id', '=', row!.id).execute();
    expect(events.map((e) => e.type)).toEqual(['grant.created']);
    expect(api.ctx.logs.text).not.toContain('right-password');

    // Connecting again re-authenticates the same grant.
    const again = await api.call('POST', '/v3/connect/custom', { provider: 'imap', settings: { imap_username: 'carol@example.test', imap_password: 'right-password' } });
    expect(again.body.data.id).toBe(res.body.data.id);
  });

  it('refuses bad credentials with a 400 that says so, and creates no grant', async () => {
    const res = await api.call('POST', '/v3/connect/custom', { provider: 'imap', settings: { imap_username: 'carol@example.test', imap_password: 'wrong' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/rejected the username or password/);
    expect(await grantCount()).toBe(0);
  });

  it('refuses an unreachable host with a 400 that says so', async () => {
    const port = await freePort();
    const res = await api.call('POST', '/v3/connect/custom', { provider: 'imap', settings: { imap_username: 'carol@example.test', imap_password: 'right-password', imap_host: '127.0.0.1', imap_port: port } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/unreachable/);
    expect(await grantCount()).toBe(0);
  });

  it('refuses a TLS failure with a 400 that says so', async () => {
    const res = await api.call('POST', '/v3/connect/custom', { provider: 'imap', settings: { imap_username: 'carol@example.test', imap_password: 'right-password', imap_security: 'tls' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/TLS/);
    expect(await grantCount()).toBe(0);
  });

  it('validates the body', async () => {
    const missing = await api.call('POST', '/v3/connect/custom', { provider: 'imap', settings: { imap_username: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/imap_password/);
    const other = await api.call('POST', '/v3/connect/custom', { provider: 'google', settings: { imap_username: 'x', imap_password: 'y' } });
    expect(other.status).toBe(400);
    const extra = await api.call('POST', '/v3/connect/custom', { provider: 'imap', settings: { imap_username: 'x', imap_password: 'y', pop3: true } });
    expect(extra.status).toBe(400);
  });

  it('refuses private hosts unless the operator allows them', async () => {
    const strict = await testApi(kind, { TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'false' });
    try {
      await strict.call('POST', '/v3/connectors', { provider: 'imap', settings: { imap_host: '127.0.0.1', imap_port: dovecot.port, imap_security: 'none' } });
      const res = await strict.call('POST', '/v3/connect/custom', { provider: 'imap', settings: { imap_username: 'carol@example.test', imap_password: 'right-password' } });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/loopback|private/);
    } finally {
      await strict.close();
    }
  });
});
