import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../src/sandbox/microsoft/index.js';
import { authorizeUrl, pkce, postForm, REDIRECT, SCOPES, signIn } from './microsoft-helpers.js';

const DAY = 86_400_000;

describe('Microsoft sandbox: identity platform v2', () => {
  let sb: MicrosoftSandbox;
  let app: { clientId: string; clientSecret: string; tenantId: string };
  let user: { id: string; tenantId: string; mail: string };

  beforeAll(async () => {
    sb = await startMicrosoftSandbox({ accessTokenLifetimeSeconds: 3600 });
    app = sb.control.createApp({ displayName: 'Tributary test', redirectUris: [REDIRECT], audience: 'multi' });
    user = sb.control.createUser({ mail: 'ada@contoso.com', displayName: 'Ada Lovelace' });
  });
  afterAll(() => sb.close());

  const token = (tenant: string, form: Record<string, string>) => postForm(`${sb.loginUrl}/${tenant}/oauth2/v2.0/token`, form);
  const expectAadError = (r: { status: number; body: Record<string, unknown> }, status: number, error: string, code: number) => {
    expect(r.status).toBe(status);
    expect(r.body.error).toBe(error);
    expect(r.body.error_codes).toEqual([code]);
    expect(String(r.body.error_description)).toMatch(new RegExp(`^AADSTS${code}: `));
    for (const k of ['timestamp', 'trace_id', 'correlation_id']) expect(typeof r.body[k]).toBe('string');
  };

  it('publishes discovery documents per tenant, with the multitenant issuer templated', async () => {
    const common = (await (await fetch(`${sb.loginUrl}/common/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(common.issuer).toBe('https://login.microsoftonline.com/{tenantid}/v2.0');
    expect(common.authorization_endpoint).toBe(`${sb.loginUrl}/common/oauth2/v2.0/authorize`);
    expect(common.token_endpoint).toBe(`${sb.loginUrl}/common/oauth2/v2.0/token`);
    expect(common.jwks_uri).toBe(`${sb.loginUrl}/common/discovery/v2.0/keys`);
    const own = (await (await fetch(`${sb.loginUrl}/${user.tenantId}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(own.issuer).toBe(`https://login.microsoftonline.com/${user.tenantId}/v2.0`);
    const byDomain = (await (await fetch(`${sb.loginUrl}/contoso.com/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(byDomain.issuer).toBe(own.issuer);
    const consumers = (await (await fetch(`${sb.loginUrl}/consumers/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(consumers.issuer).toBe('https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0');
    const unknown = await fetch(`${sb.loginUrl}/nowhere.example/v2.0/.well-known/openid-configuration`);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error_codes: number[] }).error_codes).toEqual([90002]);
  });

  it('runs the code flow with PKCE; the ID token verifies against the JWKS and carries tid, oid and the nonce', async () => {
    const tokens = await signIn(sb, app, user.mail, { nonce: 'nonce-123' });
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(typeof tokens.refresh_token).toBe('string');
    expect(String(tokens.scope).split(' ')).toEqual(expect.arrayContaining(['User.Read', 'Mail.Read', 'openid', 'profile']));
    const jwks = createRemoteJWKSet(new URL(`${sb.loginUrl}/common/discovery/v2.0/keys`));
    const claims = decodeJwt(String(tokens.id_token));
    // Multitenant validation as a client must do it: the issuer template filled with the token's own tid.
    const issuer = 'https://login.microsoftonline.com/{tenantid}/v2.0'.replace('{tenantid}', String(claims.tid));
    const { payload, protectedHeader } = await jwtVerify(String(tokens.id_token), jwks, { issuer, audience: app.clientId });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ tid: user.tenantId, oid: user.id, nonce: 'nonce-123', preferred_username: user.mail, name: 'Ada Lovelace', ver: '2.0' });
    expect(payload.email).toBeUndefined(); // only with the `email` scope
    expect(Number(payload.exp) - Number(payload.iat)).toBe(3600);

    const me = await fetch(`${sb.graphUrl}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: user.id, mail: user.mail, userPrincipalName: user.mail, displayName: 'Ada Lovelace' });
  });

  it('includes email only with the email scope, and no refresh token without offline_access', async () => {
    const tokens = await signIn(sb, app, user.mail, { scope: 'openid email User.Read' });
    expect(tokens.refresh_token).toBeUndefined();
    expect(decodeJwt(String(tokens.id_token)).email).toBe(user.mail);
  });

  it('shows a consent page with the app name, the scopes and Accept/Cancel, without scripts', async () => {
    const { challenge } = pkce();
    const url = authorizeUrl(sb, 'organizations', { client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPES, state: 'xyz', code_challenge: challenge, code_challenge_method: 'S256', login_hint: user.mail });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('Tributary test');
    expect(html).toContain('Read your mail');
    expect(html).toContain(`value="${user.mail}"`);
    expect(html).not.toMatch(/<script/i);
    const ctx = /name="ctx" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const action = new URL('../../login', url).toString();

    const cancel = await fetch(action, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ctx, username: user.mail, action: 'cancel' }) });
    expect(cancel.status).toBe(302);
    const denied = new URL(cancel.headers.get('location') ?? '');
    expect(`${denied.origin}${denied.pathname}`).toBe(REDIRECT);
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect(denied.searchParams.get('error_description')).toMatch(/^AADSTS65004: User declined to consent/);
    expect(denied.searchParams.get('state')).toBe('xyz');

    const again = await (await fetch(url)).text();
    const ctx2 = /name="ctx" value="([^"]+)"/.exec(again)?.[1] ?? '';
    const accept = await fetch(action, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ctx: ctx2, username: user.mail, action: 'accept' }) });
    expect(accept.status).toBe(302);
    const ok = new URL(accept.headers.get('location') ?? '');
    expect(ok.searchParams.get('code')).toBeTruthy();
    expect(ok.searchParams.get('state')).toBe('xyz');
  });

  it('re-shows the page for an unknown account, and prompt=none needs a signed-in session that consented', async () => {
    const params = { client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPES, state: 'p' };
    const html = await (await fetch(authorizeUrl(sb, 'common', params))).text();
    const ctx = /name="ctx" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const login = `${sb.loginUrl}/common/login`;
    const form = (username: string) => ({ method: 'POST', redirect: 'manual' as const, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ctx, username, action: 'accept' }) });
    const unknown = await fetch(login, form('nobody@contoso.com'));
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('AADSTS50034');
    const accepted = await fetch(login, form(user.mail));
    expect(accepted.status).toBe(302);
    const cookie = (accepted.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

    const silent = authorizeUrl(sb, 'common', { ...params, prompt: 'none' });
    const noSession = await fetch(silent, { redirect: 'manual' });
    expect(new URL(noSession.headers.get('location') ?? '').searchParams.get('error')).toBe('login_required');
    const withSession = await fetch(silent, { redirect: 'manual', headers: { cookie } });
    expect(new URL(withSession.headers.get('location') ?? '').searchParams.get('code')).toBeTruthy();
    const moreScopes = await fetch(authorizeUrl(sb, 'common', { ...params, prompt: 'none', scope: `${SCOPES} Mail.ReadWrite` }), { redirect: 'manual', headers: { cookie } });
    const denied = new URL(moreScopes.headers.get('location') ?? '');
    expect(denied.searchParams.get('error')).toBe('consent_required');
    expect(denied.searchParams.get('error_description')).toMatch(/^AADSTS65001/);
  });

  it('refuses an unregistered redirect URI with an error page and no redirect (AADSTS50011)', async () => {
    const res = await fetch(authorizeUrl(sb, 'common', { client_id: app.clientId, response_type: 'code', redirect_uri: 'https://evil.example/cb', scope: SCOPES }), { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('AADSTS50011');
    const unknownApp = sb.control.approve(authorizeUrl(sb, 'common', { client_id: '00000000-0000-0000-0000-000000000000', response_type: 'code', redirect_uri: REDIRECT, scope: SCOPES }));
    expect(unknownApp.error?.code).toBe(700016);
    expect(unknownApp.location).toBeUndefined();
  });

  it('redirects scope errors back to the app (AADSTS70011)', () => {
    const r = sb.control.approve(authorizeUrl(sb, 'common', { client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid Mail.Teleport', state: 'q' }));
    const loc = new URL(r.location ?? '');
    expect(loc.searchParams.get('error')).toBe('invalid_scope');
    expect(loc.searchParams.get('error_description')).toMatch(/^AADSTS70011/);
  });

  it('single-tenant apps refuse /common (AADSTS50194) and users of other tenants (AADSTS50020)', () => {
    const single = sb.control.createApp({ redirectUris: [REDIRECT], audience: 'single', tenantId: user.tenantId });
    const viaCommon = sb.control.approve(authorizeUrl(sb, 'common', { client_id: single.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPES, login_hint: user.mail }));
    expect(viaCommon.error?.code).toBe(50194);
    const stranger = sb.control.createUser({ mail: 'bob@fabrikam.com' });
    const viaTenant = sb.control.approve(authorizeUrl(sb, user.tenantId, { client_id: single.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPES, login_hint: stranger.mail }));
    expect(viaTenant.error?.code).toBe(50020);
    const own = sb.control.approve(authorizeUrl(sb, user.tenantId, { client_id: single.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPES, login_hint: user.mail }));
    expect(own.location).toContain('code=');
  });

  it('codes work once (AADSTS54005), expire after 10 minutes (AADSTS70008) and need the right verifier and redirect URI', async () => {
    const issue = () => {
      const p = pkce();
      const loc = sb.control.approve(authorizeUrl(sb, 'common', { client_id: app.clientId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPES, code_challenge: p.challenge, code_challenge_method: 'S256', login_hint: user.mail })).location;
      return { code: new URL(loc ?? '').searchParams.get('code') ?? '', verifier: p.verifier };
    };
    const form = (c: { code: string; verifier: string }, extra: Record<string, string> = {}) => ({ client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier, ...extra });

    const once = issue();
    expect((await token('common', form(once))).status).toBe(200);
    expectAadError(await token('common', form(once)), 400, 'invalid_grant', 54005);

    const badVerifier = issue();
    expectAadError(await token('common', form(badVerifier, { code_verifier: pkce().verifier })), 400, 'invalid_grant', 50148);
    const badRedirect = issue();
    expectAadError(await token('common', form(badRedirect, { redirect_uri: 'http://127.0.0.1:9/other' })), 400, 'invalid_grant', 500112);
    expectAadError(await token('common', form({ code: 'garbage', verifier: 'x' })), 400, 'invalid_grant', 70000);

    const late = issue();
    sb.control.advanceClock(10 * 60_000 + 1000);
    expectAadError(await token('common', form(late)), 400, 'invalid_grant', 70008);
  });

  it('checks the client: unknown app (AADSTS700016), bad secret (AADSTS7000215), expired secret (AADSTS7000222), Basic auth', async () => {
    const tokens = await signIn(sb, app, user.mail);
    const refresh = (clientId: string, secret: string) => token('common', { client_id: clientId, client_secret: secret, grant_type: 'refresh_token', refresh_token: String(tokens.refresh_token) });
    expectAadError(await refresh('11111111-2222-3333-4444-555555555555', 'x'), 400, 'unauthorized_client', 700016);
    expectAadError(await refresh(app.clientId, 'not-the-secret'), 401, 'invalid_client', 7000215);
    expectAadError(await token('common', { client_id: app.clientId, grant_type: 'refresh_token', refresh_token: 'x' }), 401, 'invalid_client', 7000218);

    const basic = await postForm(`${sb.loginUrl}/common/oauth2/v2.0/token`, { grant_type: 'refresh_token', refresh_token: String(tokens.refresh_token) }, { authorization: `Basic ${Buffer.from(`${app.clientId}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}` });
    expect(basic.status).toBe(200);

    const shortLived = sb.control.createApp({ redirectUris: [REDIRECT], secretExpiresAt: sb.control.now() + DAY });
    const t2 = await signIn(sb, shortLived, user.mail);
    sb.control.advanceClock(DAY + 1000);
    expectAadError(await token('common', { client_id: shortLived.clientId, client_secret: shortLived.clientSecret, grant_type: 'refresh_token', refresh_token: String(t2.refresh_token) }), 401, 'invalid_client', 7000222);
  });

  it('rotates refresh tokens on every use; the previous one is not revoked (as the docs say)', async () => {
    const first = await signIn(sb, app, user.mail);
    const r1 = await token('common', { client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'refresh_token', refresh_token: String(first.refresh_token) });
    expect(r1.status).toBe(200);
    expect(r1.body.refresh_token).toBeTruthy();
    expect(r1.body.refresh_token).not.toBe(first.refresh_token);
    expect(r1.body.access_token).not.toBe(first.access_token);
    const again = await token('common', { client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'refresh_token', refresh_token: String(first.refresh_token) });
    expect(again.status).toBe(200);
  });

  it('refresh tokens die after 90 days without use (AADSTS700082) but live on when used', async () => {
    const t = await signIn(sb, app, user.mail);
    let rt = String(t.refresh_token);
    for (let i = 0; i < 3; i++) {
      sb.control.advanceClock(60 * DAY);
      const r = await token('common', { client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'refresh_token', refresh_token: rt });
      expect(r.status).toBe(200);
      rt = String(r.body.refresh_token);
    }
    sb.control.advanceClock(91 * DAY);
    expectAadError(await token('common', { client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'refresh_token', refresh_token: rt }), 400, 'invalid_grant', 700082);
  });

  it('revoking a user kills refresh tokens (AADSTS50173); access tokens die too only with CAE-style revocation', async () => {
    const victim = sb.control.createUser({ mail: 'grace@contoso.com' });
    const t = await signIn(sb, app, victim.mail);
    sb.control.revokeUser(victim.id);
    expectAadError(await token('common', { client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'refresh_token', refresh_token: String(t.refresh_token) }), 400, 'invalid_grant', 50173);
    const me = await fetch(`${sb.graphUrl}/me`, { headers: { authorization: `Bearer ${t.access_token}` } });
    expect(me.status).toBe(200);

    const t2 = await signIn(sb, app, victim.mail);
    sb.control.revokeUser(victim.id, { accessTokens: true });
    const refused = await fetch(`${sb.graphUrl}/me`, { headers: { authorization: `Bearer ${t2.access_token}` } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toContain('insufficient_claims');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('InvalidAuthenticationToken');
  });

  it('a removed consent needs interaction again (AADSTS65001); a disabled account fails with AADSTS50057', async () => {
    const u = sb.control.createUser({ mail: 'linus@contoso.com' });
    const t = await signIn(sb, app, u.mail);
    sb.control.revokeConsent(u.id, app.clientId);
    expectAadError(await token('common', { client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'refresh_token', refresh_token: String(t.refresh_token) }), 400, 'invalid_grant', 65001);
    const t2 = await signIn(sb, app, u.mail);
    sb.control.disableUser(u.id);
    expectAadError(await token('common', { client_id: app.clientId, client_secret: app.clientSecret, grant_type: 'refresh_token', refresh_token: String(t2.refresh_token) }), 400, 'invalid_grant', 50057);
  });

  it('Graph refuses missing, unknown and expired access tokens with InvalidAuthenticationToken', async () => {
    const t = await signIn(sb, app, user.mail);
    const call = (auth?: string) => fetch(`${sb.graphUrl}/me`, auth ? { headers: { authorization: auth } } : {});
    for (const [auth, message] of [
      [undefined, 'Access token is empty.'],
      ['Bearer not-a-token', 'IDX14100'],
    ] as const) {
      const r = await call(auth);
      expect(r.status).toBe(401);
      const body = (await r.json()) as { error: { code: string; message: string; innerError: Record<string, string> } };
      expect(body.error.code).toBe('InvalidAuthenticationToken');
      expect(body.error.message).toContain(message);
      expect(body.error.innerError['request-id']).toBeTruthy();
    }
    sb.control.advanceClock(3601_000);
    const expired = await call(`Bearer ${t.access_token}`);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
  });

  it('serves the same flow over the HTTP control API', async () => {
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${sb.url}/_control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: r.status, body: (await r.json()) as Record<string, string> };
    };
    const a = await post('apps', { redirectUris: [REDIRECT], displayName: 'Over HTTP' });
    expect(a.status).toBe(200);
    const u = await post('users', { mail: 'http@contoso.com' });
    const consent = await post('consent', { authorizeUrl: authorizeUrl(sb, 'common', { client_id: a.body.clientId ?? '', response_type: 'code', redirect_uri: REDIRECT, scope: SCOPES, login_hint: u.body.mail ?? '' }) });
    expect(consent.body.location).toContain('code=');
    const bad = await post('apps', { redirectUris: 'nope' });
    expect(bad.status).toBe(400);
  });
});
