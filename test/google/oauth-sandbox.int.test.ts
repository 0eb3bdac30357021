import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGoogleSandbox, type GoogleSandbox } from '../../src/sandbox/google/index.js';

/**
 * The Google sandbox's OAuth 2.0 / OpenID Connect side, driven by openid-client as a certified
 * relying party would: discovery, authorization code with PKCE, state and nonce, ID token
 * validation, single-use codes, refresh, userinfo, revocation → invalid_grant.
 */
const REDIRECT = 'https://rp.example.test/cb';
const SCOPE = 'openid email profile https://www.googleapis.com/auth/gmail.readonly';

describe('Google sandbox OAuth with openid-client', () => {
  let sb: GoogleSandbox;
  let config: oidc.Configuration;
  beforeAll(async () => {
    sb = await startGoogleSandbox();
    const c = sb.control.createClient([REDIRECT]);
    config = await oidc.discovery(new URL(sb.url), c.clientId, c.clientSecret, undefined, { execute: [oidc.allowInsecureRequests] });
  });
  afterAll(() => sb?.close());

  async function signIn(email: string, extra: Record<string, string> = { access_type: 'offline', prompt: 'consent' }) {
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: SCOPE, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state, nonce, ...extra });
    const { redirect } = await sb.control.approve(url.href, { email });
    return { redirect: new URL(redirect), verifier, state, nonce };
  }

  it('discovers the issuer, exchanges a PKCE code and validates the ID token', async () => {
    expect(config.serverMetadata()).toMatchObject({ issuer: sb.url, code_challenge_methods_supported: expect.arrayContaining(['S256']) });
    const s = await signIn('ana@gmail.test');
    const tokens = await oidc.authorizationCodeGrant(config, s.redirect, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: sb.url, email: 'ana@gmail.test', email_verified: true, nonce: s.nonce });
    expect(typeof claims.sub).toBe('string');
    expect(tokens.refresh_token).toMatch(/^1\/\//);
    expect(tokens.expires_in).toBe(3599);
    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info.email).toBe('ana@gmail.test');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
  });

  it('refuses a reused code, a wrong verifier, and refresh after revocation with invalid_grant', async () => {
    const s = await signIn('ben@gmail.test');
    const tokens = await oidc.authorizationCodeGrant(config, s.redirect, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
    await expect(oidc.authorizationCodeGrant(config, s.redirect, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce })).rejects.toMatchObject({ error: 'invalid_grant' });
    const t = await signIn('ben@gmail.test');
    await expect(oidc.authorizationCodeGrant(config, t.redirect, { pkceCodeVerifier: oidc.randomPKCECodeVerifier(), expectedState: t.state, expectedNonce: t.nonce })).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(sb.control.revoke('ben@gmail.test')).toBeGreaterThan(0);
    await expect(oidc.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
  });

  it('issues no refresh token without access_type=offline, and Cancel comes back as access_denied', async () => {
    const s = await signIn('cat@gmail.test', {});
    const tokens = await oidc.authorizationCodeGrant(config, s.redirect, { pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce });
    expect(tokens.refresh_token).toBeUndefined();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: SCOPE, state: 'st' });
    const { redirect } = await sb.control.approve(url.href, { email: 'cat@gmail.test', action: 'cancel' });
    expect(Object.fromEntries(new URL(redirect).searchParams)).toEqual({ error: 'access_denied', state: 'st' });
  });

  it('serves a consent page with Continue and Cancel that completes the flow in a browser-like client', async () => {
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: SCOPE, state: 's1', login_hint: 'dan@gmail.test' });
    const page = await fetch(url);
    const html = await page.text();
    expect(html).toContain('value="dan@gmail.test"');
    const id = /name="consent_id" value="([^"]+)"/.exec(html)![1]!;
    const res = await fetch(`${sb.url}/o/oauth2/v2/auth/consent`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ consent_id: id, email: 'dan@gmail.test', action: 'accept' }) });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).searchParams.get('code')).toMatch(/^4\/0/);
    const bad = await fetch(oidc.buildAuthorizationUrl(config, { redirect_uri: 'https://evil.example/cb', scope: SCOPE }));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('redirect_uri_mismatch');
  });
});
