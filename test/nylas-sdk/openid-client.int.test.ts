import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMicrosoftSandbox, type MicrosoftSandbox } from '../../src/sandbox/microsoft/index.js';

const REDIRECT = 'https://rp.example.test/callback';
const SIGNED_OUT = 'https://rp.example.test/signed-out';

/**
 * A certified OpenID Connect relying party (openid-client v6) against the Microsoft sandbox:
 * discovery metadata, authorization code + PKCE with nonce and state, ID-token validation,
 * UserInfo with the subject check, refresh, and RP-initiated logout. Every endpoint the
 * discovery document announces must work.
 */
describe('openid-client against the Microsoft sandbox', () => {
  let sb: MicrosoftSandbox;
  let config: oidc.Configuration;
  let app: ReturnType<MicrosoftSandbox['control']['createApp']>;

  beforeAll(async () => {
    sb = await startMicrosoftSandbox();
    app = sb.control.createApp({ displayName: 'openid-client', redirectUris: [REDIRECT, SIGNED_OUT] });
    // The document names login.microsoftonline.com as issuer (as the real one does), so it is read
    // first and handed to the client as static metadata; everything after goes through openid-client.
    const metadata = (await (await fetch(`${sb.url}/${app.tenantId}/v2.0/.well-known/openid-configuration`)).json()) as oidc.ServerMetadata;
    config = new oidc.Configuration(metadata, app.clientId, app.clientSecret);
    oidc.allowInsecureRequests(config);
  });
  afterAll(() => sb?.close());

  it('announces only endpoints it serves', async () => {
    const m = config.serverMetadata();
    expect(m.userinfo_endpoint).toBe(`${sb.url}/oidc/userinfo`);
    expect(m.end_session_endpoint).toBe(`${sb.url}/${app.tenantId}/oauth2/v2.0/logout`);
    expect(m.device_authorization_endpoint).toBeUndefined();
    for (const url of [m.authorization_endpoint, m.jwks_uri, m.userinfo_endpoint, m.end_session_endpoint]) {
      expect((await fetch(url!, { redirect: 'manual' })).status, url).not.toBe(404);
    }
    expect((await fetch(m.token_endpoint!, { method: 'POST' })).status).toBe(400);
  });

  it('signs in with code + PKCE, validates the ID token, reads UserInfo, refreshes and signs out', async () => {
    const user = sb.control.createUser({ mail: 'oidc@contoso.com', displayName: 'Olive Dunn', tenant: app.tenantId });
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const authorizeUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT,
      scope: 'openid profile email offline_access User.Read',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
      login_hint: user.mail,
    });
    const approved = sb.control.approve(authorizeUrl.href, { username: user.mail });
    expect(approved.location).toBeTruthy();

    const tokens = await oidc.authorizationCodeGrant(config, new URL(approved.location!), { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: state, idTokenExpected: true });
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ iss: `https://login.microsoftonline.com/${app.tenantId}/v2.0`, aud: app.clientId, tid: app.tenantId, preferred_username: user.mail });

    const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    expect(info).toMatchObject({ sub: claims.sub, name: 'Olive Dunn', given_name: 'Olive', family_name: 'Dunn', email: user.mail });
    // A token of another user is refused by the subject check, and a made-up one by the endpoint.
    await expect(oidc.fetchUserInfo(config, tokens.access_token, 'someone-else')).rejects.toThrow(/unexpected JSON attribute value/);
    await expect(oidc.fetchUserInfo(config, 'not-a-token', claims.sub)).rejects.toThrow();

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect((await oidc.fetchUserInfo(config, refreshed.access_token, claims.sub)).sub).toBe(claims.sub);

    const logout = oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: SIGNED_OUT, id_token_hint: tokens.id_token!, state: 'bye', client_id: app.clientId });
    const out = await fetch(logout, { redirect: 'manual' });
    expect(out.status).toBe(302);
    expect(out.headers.get('location')).toBe(`${SIGNED_OUT}?state=bye`);
    const foreign = await fetch(oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: 'https://evil.example/', client_id: app.clientId }), { redirect: 'manual' });
    expect(foreign.status).toBe(400);
  });
});
