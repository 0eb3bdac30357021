import { HTTP, type CloudEvent } from 'cloudevents';
import NylasSdk, { NylasApiError, NylasOAuthError, WebhookTriggers, type Grant, type Webhook } from 'nylas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryCatalog } from '../../src/delivery/registry-catalog.js';
import type { DeliveryEngine } from '../../src/delivery/engine.js';
import { startEngine, until } from '../delivery/helpers.js';
import { Receiver } from '../delivery/receiver.js';
import { Dovecot } from '../helpers/dovecot.js';
import { APP_REDIRECT, microsoftHarness, type Harness } from '../microsoft/harness.js';
import { signInThroughBrowser, verifySignatures } from './helpers.js';

// The SDK's ESM build exports the class as default; its type declarations are read as CommonJS.
const Nylas = NylasSdk as unknown as typeof NylasSdk.default;
type Nylas = InstanceType<typeof Nylas>;

/**
 * The official `nylas` SDK, unmodified, against a running Tributary: every resource an app
 * moving over from Nylas uses, hosted auth through the Microsoft sandbox included. Only the
 * base URL differs from a Nylas setup.
 */
describe('the official Nylas SDK against Tributary', () => {
  let h: Harness;
  let nylas: Nylas;
  let dovecot: Dovecot;
  let rx: Receiver;
  let engine: DeliveryEngine | null = null;
  const clientId = () => h.api.applicationId;

  beforeAll(async () => {
    h = await microsoftHarness('postgres', { env: { TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'true' } });
    nylas = new Nylas({ apiKey: h.api.key, apiUri: h.publicUrl, timeout: 20 });
    dovecot = await Dovecot.start();
    dovecot.addUser('imap-user@example.test', 'imap-password');
    rx = await new Receiver().start();
  }, 60_000);
  afterAll(async () => {
    await engine?.stop();
    await rx?.stop();
    await dovecot?.destroy();
    await h?.close();
  });

  it('hosted auth: urlForOAuth2 → sign-in → exchangeCodeForToken → grants/me → refreshAccessToken → revoke', async () => {
    h.sb.control.createUser({ mail: 'ada@contoso.com', displayName: 'Ada' });
    const url = nylas.auth.urlForOAuth2({
      clientId: clientId(),
      redirectUri: APP_REDIRECT,
      provider: 'microsoft',
      loginHint: 'ada@contoso.com',
      accessType: 'offline',
      includeGrantScopes: true,
      prompt: 'select_provider,detect',
      state: 'sdk-state',
      credentialId: 'ignored-credential',
      smtpRequired: true,
    });
    expect(new URL(url).searchParams.get('access_type')).toBe('offline');
    // A parameter some later SDK adds must not break the sign-in either.
    const withExtra = new URL(url);
    withExtra.searchParams.set('some_future_parameter', 'x');
    const final = await signInThroughBrowser(h, withExtra.toString(), 'ada@contoso.com');
    expect(final.searchParams.get('state')).toBe('sdk-state');

    const token = await nylas.auth.exchangeCodeForToken({ clientId: clientId(), redirectUri: APP_REDIRECT, code: final.searchParams.get('code')! });
    expect(token).toMatchObject({ email: 'ada@contoso.com', provider: 'microsoft', tokenType: 'Bearer', expiresIn: 3600 });
    expect(token.accessToken).toMatch(/^trbat_/);
    expect(token.grantId).toBeTruthy();
    expect(token.idToken?.split('.')).toHaveLength(3);
    expect(token.scope).toContain('Mail.Read');

    // The access token is a Bearer credential for its grant: GET /v3/grants/me.
    const asGrant = new Nylas({ apiKey: token.accessToken, apiUri: h.publicUrl });
    const me = await asGrant.grants.find({ grantId: 'me' });
    expect(me.data).toMatchObject({ id: token.grantId, email: 'ada@contoso.com', grantStatus: 'valid' });
    // …and for nothing else.
    await expect(asGrant.grants.list()).rejects.toMatchObject({ statusCode: 403 });

    const refreshed = await nylas.auth.refreshAccessToken({ clientId: clientId(), redirectUri: APP_REDIRECT, refreshToken: token.refreshToken! });
    expect(refreshed.accessToken).not.toBe(token.accessToken);
    expect(refreshed.refreshToken).not.toBe(token.refreshToken);
    expect((await new Nylas({ apiKey: refreshed.accessToken, apiUri: h.publicUrl }).grants.find({ grantId: 'me' })).data.id).toBe(token.grantId);

    // A refresh token works once; its reuse is an OAuth error with a message, and revokes the family.
    const reused = await nylas.auth.refreshAccessToken({ clientId: clientId(), redirectUri: APP_REDIRECT, refreshToken: token.refreshToken! }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(NylasOAuthError);
    expect(reused).toMatchObject({ error: 'invalid_grant', statusCode: 400, errorCode: 1003 });
    expect((reused as Error).message).toMatch(/already used/);
    await expect(new Nylas({ apiKey: refreshed.accessToken, apiUri: h.publicUrl }).grants.find({ grantId: 'me' })).rejects.toMatchObject({ statusCode: 401 });

    // auth.revoke(token) sends ?token= without a body.
    const again = await nylas.auth.exchangeCodeForToken({
      clientId: clientId(),
      redirectUri: APP_REDIRECT,
      code: (await signInThroughBrowser(h, nylas.auth.urlForOAuth2({ clientId: clientId(), redirectUri: APP_REDIRECT, loginHint: 'ada@contoso.com' }), 'ada@contoso.com')).searchParams.get('code')!,
    });
    expect(again.grantId).toBe(token.grantId);
    expect(await nylas.auth.revoke(again.accessToken)).toBe(true);
    await expect(new Nylas({ apiKey: again.accessToken, apiUri: h.publicUrl }).grants.find({ grantId: 'me' })).rejects.toMatchObject({ statusCode: 401 });
    expect((await nylas.grants.find({ grantId: token.grantId })).data.grantStatus).toBe('valid');
  });

  it('hosted auth with PKCE: urlForOAuth2PKCE (s256, UUID verifier) → exchangeCodeForToken({ codeVerifier })', async () => {
    h.sb.control.createUser({ mail: 'grace@contoso.com' });
    const pkce = nylas.auth.urlForOAuth2PKCE({ clientId: clientId(), redirectUri: APP_REDIRECT, provider: 'microsoft', loginHint: 'grace@contoso.com' });
    expect(new URL(pkce.url).searchParams.get('code_challenge_method')).toBe('s256');
    const code = (await signInThroughBrowser(h, pkce.url, 'grace@contoso.com')).searchParams.get('code')!;
    const token = await nylas.auth.exchangeCodeForToken({ clientId: clientId(), redirectUri: APP_REDIRECT, code, codeVerifier: pkce.secret });
    expect(token).toMatchObject({ email: 'grace@contoso.com', expiresIn: 3600 });

    // A wrong verifier is refused with an OAuth error the SDK can read.
    const other = nylas.auth.urlForOAuth2PKCE({ clientId: clientId(), redirectUri: APP_REDIRECT, provider: 'microsoft', loginHint: 'grace@contoso.com' });
    const code2 = (await signInThroughBrowser(h, other.url, 'grace@contoso.com')).searchParams.get('code')!;
    const wrong = await nylas.auth.exchangeCodeForToken({ clientId: clientId(), redirectUri: APP_REDIRECT, code: code2, codeVerifier: pkce.secret }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(NylasOAuthError);
    expect(wrong).toMatchObject({ error: 'invalid_grant', errorDescription: expect.stringMatching(/code_verifier/) });
  });

  it('token endpoint errors are OAuth-shaped, so NylasOAuthError carries a message', async () => {
    const bogus = await nylas.auth.exchangeCodeForToken({ clientId: clientId(), redirectUri: APP_REDIRECT, code: 'not-a-code' }).catch((e: unknown) => e);
    expect(bogus).toBeInstanceOf(NylasOAuthError);
    expect(bogus).toMatchObject({ error: 'invalid_grant', statusCode: 400, errorCode: 1003 });
    expect((bogus as Error).message).toMatch(/unknown, expired or already used/);
    const badKey = await nylas.auth.exchangeCodeForToken({ clientId: clientId(), clientSecret: 'trb_wrong', redirectUri: APP_REDIRECT, code: 'x' }).catch((e: unknown) => e);
    expect(badKey).toMatchObject({ error: 'invalid_client', statusCode: 401 });
    expect((badKey as Error).message).toMatch(/client_secret/);
  });

  it('custom auth, connectors (create/list/find/update with PUT; destroy follows with the grants)', async () => {
    const created = await nylas.connectors.create({
      requestBody: { provider: 'imap', name: 'Mailboxes', settings: { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none' } } as never,
    });
    expect(created.data.provider).toBe('imap');
    const grant = await nylas.auth.customAuthentication({ requestBody: { provider: 'imap', settings: { imap_username: 'imap-user@example.test', imap_password: 'imap-password' }, state: 's1' } });
    expect(grant.data).toMatchObject({ provider: 'imap', email: 'imap-user@example.test', grantStatus: 'valid' });

    const listed = await nylas.connectors.list({ queryParams: { limit: 10 } });
    expect(listed.data.map((c) => c.provider).sort()).toEqual(['imap', 'microsoft']);
    expect((await nylas.connectors.find({ provider: 'microsoft' })).data.provider).toBe('microsoft');
    const renamed = await nylas.connectors.update({ provider: 'imap', requestBody: { name: 'Team mailboxes' } });
    expect((renamed.data as unknown as { name: string }).name).toBe('Team mailboxes');

    const scratch = await nylas.auth.customAuthentication({ requestBody: { provider: 'imap', settings: { imap_username: 'imap-user@example.test', imap_password: 'imap-password' } } });
    expect(scratch.data.id).toBe(grant.data.id); // one grant per email address
  });

  it('grants: filters, grant_status=invalid, sort_by/order_by, paging with page_token, update, destroy', async () => {
    // An expired grant is what Nylas calls invalid.
    const imap = (await nylas.grants.list({ queryParams: { provider: 'imap' } })).data;
    expect(imap.map((g) => g.email)).toEqual(['imap-user@example.test']);
    await h.api.ctx.repos.grants.update(imap[0]!.id, { status: 'expired' });
    expect((await nylas.grants.list({ queryParams: { grantStatus: 'invalid' } })).data.map((g) => g.id)).toEqual([imap[0]!.id]);
    expect((await nylas.grants.list({ queryParams: { email: 'ada@contoso.com' } })).data).toHaveLength(1);

    const asc = (await nylas.grants.list({ queryParams: { sortBy: 'created_at', orderBy: 'asc' } })).data.map((g) => g.id);
    const desc = (await nylas.grants.list({ queryParams: { sortBy: 'created_at', orderBy: 'desc' } })).data.map((g) => g.id);
    expect(asc).toHaveLength(3);
    expect(desc).toEqual([...asc].reverse());
    const byUpdate = (await nylas.grants.list({ queryParams: { sortBy: 'updated_at', orderBy: 'desc' } })).data;
    expect(byUpdate[0]!.id).toBe(imap[0]!.id); // updated last

    // The SDK pages by sending the previous next_cursor as page_token.
    // (grants.list is async, so its pages come through the `next` the SDK puts on the first one.)
    const first = (await nylas.grants.list({ queryParams: { limit: 1, orderBy: 'asc' } })) as unknown as { data: Grant[]; next(): Promise<IteratorResult<{ data: Grant[] }>> };
    const pages: Grant[][] = [first.data];
    for (let next = await first.next(); !next.done; next = await first.next()) pages.push(next.value.data);
    expect(pages.map((p) => p.map((g) => g.id))).toEqual(asc.map((id) => [id]));
    // With a limit the SDK also collects pages until it has that many.
    expect((await nylas.grants.list({ queryParams: { limit: 2 } })).data).toHaveLength(2);

    const updated = await nylas.grants.update({ grantId: asc[0]!, requestBody: { settings: { backfill_days: 3 } } });
    expect(updated.data.settings).toMatchObject({ backfillDays: 3 }); // the SDK camel-cases keys it receives
    await nylas.grants.destroy({ grantId: imap[0]!.id });
    await expect(nylas.grants.find({ grantId: imap[0]!.id })).rejects.toBeInstanceOf(NylasApiError);
    await nylas.connectors.destroy({ provider: 'imap' });
    await expect(nylas.connectors.find({ provider: 'imap' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('applications and redirect URIs (create/list/find/update with PATCH/destroy)', async () => {
    const app = await nylas.applications.getDetails();
    expect(app.data.applicationId).toBe(clientId());
    expect(app.data.organizationId).toBeTruthy();
    expect(app.data.branding.name).toBeTruthy();

    const created = await nylas.applications.redirectUris.create({ requestBody: { url: 'https://app.example.test/sdk-callback', platform: 'web', settings: { origin: 'https://app.example.test' } } });
    expect(created.data).toMatchObject({ url: 'https://app.example.test/sdk-callback', platform: 'web' });
    const all = await nylas.applications.redirectUris.list();
    expect(all.data.map((r) => r.url)).toContain('https://app.example.test/sdk-callback');
    expect((await nylas.applications.redirectUris.find({ redirectUriId: created.data.id })).data.id).toBe(created.data.id);
    const moved = await nylas.applications.redirectUris.update({ redirectUriId: created.data.id, requestBody: { url: 'https://app.example.test/sdk-callback-2' } });
    expect(moved.data.url).toBe('https://app.example.test/sdk-callback-2');
    await nylas.applications.redirectUris.destroy({ redirectUriId: created.data.id });
    expect((await nylas.applications.redirectUris.list()).data.map((r) => r.url)).not.toContain('https://app.example.test/sdk-callback-2');
  });

  it('webhooks: create/list (paged)/find/update/rotateSecret/destroy, a test event verified with the webhook secret, and a delivery CloudEvents can parse', async () => {
    const created = await nylas.webhooks.create({ requestBody: { triggerTypes: [WebhookTriggers.GrantCreated, WebhookTriggers.MessageCreated], webhookUrl: rx.url, description: 'SDK' } });
    const hook = created.data;
    expect(hook.webhookSecret).toMatch(/^whsec_/);
    expect(typeof hook.statusUpdatedAt).toBe('number');
    expect(hook.status).toBe('active');

    // 51 webhooks: more than one page of the default 50, so the SDK's iteration must follow page_token.
    for (let i = 0; i < 50; i++) await nylas.webhooks.create({ requestBody: { triggerTypes: [WebhookTriggers.GrantDeleted], webhookUrl: `${rx.url}?n=${i}` } });
    const seen: Webhook[] = [];
    let pageCount = 0;
    for await (const page of nylas.webhooks.list()) {
      pageCount++;
      seen.push(...page.data);
    }
    expect(pageCount).toBe(2);
    expect(new Set(seen.map((w) => w.id)).size).toBe(51);

    expect((await nylas.webhooks.find({ webhookId: hook.id })).data.webhookUrl).toBe(rx.url);
    const updated = await nylas.webhooks.update({ webhookId: hook.id, requestBody: { description: 'SDK (renamed)', notificationEmailAddresses: ['ops@example.test'] } });
    expect(updated.data).toMatchObject({ description: 'SDK (renamed)', notificationEmailAddresses: ['ops@example.test'] });
    const rotated = await nylas.webhooks.rotateSecret({ webhookId: hook.id });
    expect(rotated.data.webhookSecret).not.toBe(hook.webhookSecret);

    // send-test-event is signed with the webhook's own (rotated) secret, in both schemes.
    const before = rx.posts().length;
    const sent = await fetch(`${h.publicUrl}/v3/webhooks/send-test-event`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.api.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ trigger_type: 'grant.created', webhook_url: rx.url }),
    });
    expect(((await sent.json()) as { data: { success: boolean } }).data.success).toBe(true);
    const test = rx.posts()[before]!;
    expect(verifySignatures(rotated.data.webhookSecret, test.headers, test.body)).toEqual({ nylas: true, standard: true });

    // A real delivery: the Nylas JSON body, plus CloudEvents binary-mode headers.
    engine = startEngine(h.api.ctx, registryCatalog);
    h.sb.control.createUser({ mail: 'linus@contoso.com' });
    const final = await signInThroughBrowser(h, nylas.auth.urlForOAuth2({ clientId: clientId(), redirectUri: APP_REDIRECT, loginHint: 'linus@contoso.com' }), 'linus@contoso.com');
    const token = await nylas.auth.exchangeCodeForToken({ clientId: clientId(), redirectUri: APP_REDIRECT, code: final.searchParams.get('code')! });
    const delivery = await until('grant.created delivered', () => rx.posts().find((p) => p.body.includes(token.grantId) && p.body.includes('"grant.created"')));
    const body = JSON.parse(delivery.body) as { specversion: string; id: string; type: string; time: number; data: { grant_id: string } };
    expect(body).toMatchObject({ specversion: '1.0', type: 'grant.created', data: { grant_id: token.grantId } });
    expect(verifySignatures(rotated.data.webhookSecret, delivery.headers, delivery.body)).toEqual({ nylas: true, standard: true });

    const event = HTTP.toEvent({ headers: delivery.headers, body: delivery.body }) as CloudEvent<typeof body>;
    expect(event.validate()).toBe(true);
    expect(event).toMatchObject({ specversion: '1.0', id: body.id, type: 'grant.created', subject: token.grantId });
    expect(new Date(event.time!).getTime()).toBe(body.time * 1000);
    expect(event.data).toEqual(body);

    await nylas.webhooks.destroy({ webhookId: hook.id });
    await expect(nylas.webhooks.find({ webhookId: hook.id })).rejects.toMatchObject({ statusCode: 404 });
  }, 90_000);
});
