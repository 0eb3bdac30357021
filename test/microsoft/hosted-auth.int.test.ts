import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES } from '../helpers/context.js';
import { APP_REDIRECT, grantEvents, microsoftHarness, type Harness } from './harness.js';

describe.each(DATABASES)('hosted authentication against the Microsoft sandbox (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await microsoftHarness(kind);
  });
  afterAll(() => h?.close());

  it('creates the grant, emits grant.created and hands the app a one-time code', async () => {
    const user = h.sb.control.createUser({ mail: 'ada@contoso.com', displayName: 'Ada Lovelace' });
    const start = await h.auth({ login_hint: user.mail, prompt: 'select_account' });
    expect(start.status).toBe(302);
    const authorize = new URL(start.location);
    expect(authorize.pathname).toBe('/common/oauth2/v2.0/authorize');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${h.publicUrl}/v3/connect/callback`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('state')).not.toBe('app-state-1');
    expect(authorize.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['offline_access', 'openid', 'Mail.Read', 'User.Read']));

    const approved = h.sb.control.approve(start.location, { username: user.mail });
    const back = await h.callback(approved.location!);
    expect(back.status).toBe(302);
    const final = new URL(back.location);
    expect(final.origin + final.pathname).toBe(APP_REDIRECT);
    expect(final.searchParams.get('state')).toBe('app-state-1');
    const code = final.searchParams.get('code')!;

    const token = await h.api.call('POST', '/v3/connect/token', { grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: h.api.applicationId, client_secret: h.api.key }, null);
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ email: 'ada@contoso.com', provider: 'microsoft', token_type: 'Bearer' });
    expect(token.body.scope).toContain('Mail.Read');
    expect(token.body.id_token.split('.')).toHaveLength(3);

    const grant = await h.api.call('GET', `/v3/grants/${token.body.grant_id}`);
    expect(grant.body.data).toMatchObject({ grant_status: 'valid', provider: 'microsoft', email: 'ada@contoso.com' });
    expect(JSON.stringify(grant.body)).not.toContain('access_token');
    const row = await h.api.ctx.repos.grants.getById(token.body.grant_id);
    expect(row!.provider_user_id).toBe(`${user.tenantId}:${user.id}`);
    expect(row!.credentials).not.toContain('refresh');
    expect(await grantEvents(h.api, token.body.grant_id)).toEqual(['grant.created']);

    // The code works once.
    const again = await h.api.call('POST', '/v3/connect/token', { grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: h.api.applicationId, client_secret: h.api.key }, null);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ error: 'invalid_grant', error_code: 1003 });
  });

  it('re-authentication keeps the grant id and emits grant.updated', async () => {
    h.sb.control.createUser({ mail: 'grace@contoso.com' });
    const first = await h.grant('grace@contoso.com');
    const second = await h.grant('grace@contoso.com');
    expect(second.grant_id).toBe(first.grant_id);
    expect(await grantEvents(h.api, first.grant_id)).toEqual(['grant.created', 'grant.updated']);
  });

  it('a different Microsoft account under an email already connected is refused, not swapped in', async () => {
    h.sb.control.createUser({ mail: 'twin@contoso.com' });
    const { grant_id } = await h.grant('twin@contoso.com');
    // As if the address had belonged to another directory object (tid:oid) when it was connected.
    await h.api.ctx.store.db.updateTable('grants').set({ provider_user_id: 'another-tenant:another-object' }).where('id', '=', grant_id).execute();
    const final = await h.connect('twin@contoso.com');
    expect(final.searchParams.get('error')).toBe('access_denied');
    expect(final.searchParams.get('error_description')).toMatch(/different microsoft account/);
    expect((await h.api.ctx.repos.grants.getById(grant_id))!.provider_user_id).toBe('another-tenant:another-object');
    expect(await grantEvents(h.api, grant_id)).toEqual(['grant.created']);
  });

  it('denied consent goes back to the app as access_denied, and no grant is made', async () => {
    h.sb.control.createUser({ mail: 'nope@contoso.com' });
    const final = await h.connect('nope@contoso.com', {}, 'cancel');
    expect(final.searchParams.get('error')).toBe('access_denied');
    expect(final.searchParams.get('error_description')).toMatch(/declined/);
    expect(final.searchParams.get('state')).toBe('app-state-1');
    expect(final.searchParams.get('code')).toBeNull();
    expect(await h.api.ctx.repos.grants.findByEmail(h.api.applicationId, 'nope@contoso.com')).toBeUndefined();
  });

  it('an unregistered redirect URI gets a page, not a redirect', async () => {
    const res = await h.auth({ redirect_uri: 'https://evil.example.test/steal' });
    expect(res.status).toBe(400);
    expect(res.location).toBe('');
    expect(res.body).toContain('is not registered');
    const unknownApp = await h.auth({ client_id: 'no-such-app' });
    expect(unknownApp.status).toBe(400);
    expect(unknownApp.body).toContain('no application');
  });

  it('errors after the redirect URI is trusted go back to the app', async () => {
    const res = await h.auth({ response_type: 'token' });
    expect(res.status).toBe(302);
    const u = new URL(res.location);
    expect(u.searchParams.get('error')).toBe('unsupported_response_type');
    expect(u.searchParams.get('state')).toBe('app-state-1');
  });

  it('a forged state and a replayed callback are refused without a grant', async () => {
    const forged = await h.api.app.inject({ method: 'GET', url: '/v3/connect/callback?state=forged&code=whatever' });
    expect(forged.statusCode).toBe(400);
    expect(forged.body).toContain('unknown sign-in state');

    h.sb.control.createUser({ mail: 'replay@contoso.com' });
    const start = await h.auth({ login_hint: 'replay@contoso.com' });
    const approved = h.sb.control.approve(start.location, { username: 'replay@contoso.com' });
    expect((await h.callback(approved.location!)).status).toBe(302);
    const replay = await h.callback(approved.location!);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('already completed');
  });

  it('an expired session sends the user back to the app with an error and makes no grant', async () => {
    h.sb.control.createUser({ mail: 'slow@contoso.com' });
    const start = await h.auth({ login_hint: 'slow@contoso.com' });
    const approved = h.sb.control.approve(start.location, { username: 'slow@contoso.com' });
    await h.api.ctx.store.db.updateTable('auth_sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('used_at', 'is', null).execute();
    const back = await h.callback(approved.location!);
    expect(back.status).toBe(302);
    expect(new URL(back.location).searchParams.get('error_description')).toMatch(/expired/);
    expect(await h.api.ctx.repos.grants.findByEmail(h.api.applicationId, 'slow@contoso.com')).toBeUndefined();
  });

  it('the app PKCE challenge is enforced at /v3/connect/token', async () => {
    h.sb.control.createUser({ mail: 'pkce@contoso.com' });
    const verifier = 'v'.repeat(50);
    const { createHash } = await import('node:crypto');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const final = await h.connect('pkce@contoso.com', { code_challenge: challenge, code_challenge_method: 'S256' });
    const code = final.searchParams.get('code')!;
    const body = { grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: h.api.applicationId, client_secret: h.api.key };
    const wrongKey = await h.api.call('POST', '/v3/connect/token', { ...body, client_secret: 'not-a-key' }, null);
    expect(wrongKey.status).toBe(401);
    const bad = await h.api.call('POST', '/v3/connect/token', { ...body, code_verifier: 'x'.repeat(50) }, null);
    expect(bad.status).toBe(400);
    expect(bad.body.error_description).toMatch(/code_verifier/);
    // The failed attempt consumed the code: a code is good for one try.
    const good = await h.api.call('POST', '/v3/connect/token', { ...body, code_verifier: verifier }, null);
    expect(good.status).toBe(400);
  });

  it('auth links are single-use and bound to their email address', async () => {
    h.sb.control.createUser({ mail: 'link@contoso.com' });
    h.sb.control.createUser({ mail: 'other@contoso.com' });
    const made = await h.api.call('POST', '/v3/connect/auth-links', { provider: 'microsoft', login_hint: 'link@contoso.com', expires_in: 3600, redirect_uri: APP_REDIRECT });
    expect(made.status).toBe(200);
    const url = new URL(made.body.data.url);
    const start = await h.api.app.inject({ method: 'GET', url: url.pathname + url.search });
    expect(start.statusCode).toBe(302);
    expect(new URL(String(start.headers.location)).searchParams.get('login_hint')).toBe('link@contoso.com');

    // Someone else signing in through the link is refused.
    const wrong = h.sb.control.approve(String(start.headers.location), { username: 'other@contoso.com' });
    const refused = await h.callback(wrong.location!);
    expect(new URL(refused.location).searchParams.get('error')).toBe('access_denied');

    const again = await h.api.app.inject({ method: 'GET', url: url.pathname + url.search });
    const ok = h.sb.control.approve(String(again.headers.location), { username: 'link@contoso.com' });
    const done = await h.callback(ok.location!);
    expect(new URL(done.location).searchParams.get('code')).toBeTruthy();

    const used = await h.api.app.inject({ method: 'GET', url: url.pathname + url.search });
    expect(used.statusCode).toBe(400);
    expect(used.body).toContain('already used');
  });

  it('a bad client secret marks the connector, not a grant', async () => {
    h.sb.control.createUser({ mail: 'secret@contoso.com' });
    await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { client_secret: 'wrong-secret' } });
    try {
      const final = await h.connect('secret@contoso.com');
      expect(final.searchParams.get('error')).toBe('invalid_client');
      expect(final.searchParams.get('error_description')).toMatch(/AADSTS7000215/);
      const connector = await h.api.call('GET', '/v3/connectors/microsoft');
      expect(connector.body.data.status).toBe('error');
    } finally {
      await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { client_secret: h.msApp.clientSecret } });
    }
    expect((await h.api.call('GET', '/v3/connectors/microsoft')).body.data.status).toBe('ok');
  });

  it('a single-tenant connector signs in its tenant users (fixed issuer) and refuses others at Microsoft', async () => {
    const tenant = h.sb.control.createTenant({ domain: 'fabrikam.com' });
    const single = h.sb.control.createApp({ displayName: 'single', audience: 'single', tenantId: tenant.id, redirectUris: [`${h.publicUrl}/v3/connect/callback`] });
    h.sb.control.createUser({ mail: 'kim@fabrikam.com' });
    await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { client_id: single.clientId, client_secret: single.clientSecret, tenant: tenant.id } });
    try {
      const start = await h.auth({ login_hint: 'kim@fabrikam.com' });
      expect(new URL(start.location).pathname).toBe(`/${tenant.id}/oauth2/v2.0/authorize`);
      const token = await h.grant('kim@fabrikam.com');
      const row = await h.api.ctx.repos.grants.getById(token.grant_id);
      expect(row!.provider_user_id!.startsWith(`${tenant.id}:`)).toBe(true);
      // A user of another tenant is stopped by Microsoft and the error reaches the app.
      const outsider = await h.auth({ login_hint: 'ada@contoso.com' });
      const refused = h.sb.control.approve(outsider.location, { username: 'ada@contoso.com' });
      if (refused.location) expect(new URL((await h.callback(refused.location)).location).searchParams.get('error')).toBeTruthy();
      else expect(refused.error).toBeTruthy();
    } finally {
      await h.api.call('PATCH', '/v3/connectors/microsoft', { settings: { client_id: h.msApp.clientId, client_secret: h.msApp.clientSecret, tenant: 'common' } });
    }
  });
});
