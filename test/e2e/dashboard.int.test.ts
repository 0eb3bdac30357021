import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { expireGrant } from '../../src/grants/lifecycle.js';
import { Receiver } from '../delivery/receiver.js';
import { GRAPH_PERMISSIONS } from '../../src/providers/microsoft/guide.js';
import { ensureWebBuild, eventually, LAPTOP, launchChromium, newPage, PHONE, screenshot, startDashboardServer, type DashboardServer } from './harness.js';

/**
 * The dashboard in a real browser against the real server and the Microsoft sandbox: first-run
 * setup, sign-in, a guided Microsoft integration, a grant through hosted auth and the sandbox's
 * consent page, mail arriving in the events explorer, a webhook stream with test, deliveries and
 * pause/resume, the expiring-secret warning, and a refused cross-site form post. The steps share
 * one server and one signed-in browser, in order.
 */
const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const USER = 'ada@contoso.com';

describe('dashboard in Chromium', () => {
  let server: DashboardServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let receiver: Receiver;
  let app: { clientId: string; clientSecret: string };
  const problems: string[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    browser = await launchChromium();
    server = await startDashboardServer('pglite');
    receiver = await new Receiver().start();
    const sbApp = server.sandbox.control.createApp({ displayName: 'Tributary e2e', redirectUris: [`${server.url}/v3/connect/callback`], audience: 'multi' });
    app = { clientId: sbApp.clientId, clientSecret: sbApp.clientSecret };
    server.sandbox.control.createUser({ mail: USER, displayName: 'Ada Lovelace' });
    ({ context, page } = await newPage(browser));
    // Script errors and CSP violations (inline code the policy refuses) fail the suite at the end.
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => /Content Security Policy|Refused to/.test(m.text()) && problems.push(`console: ${m.text()}`));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await receiver?.stop();
    await server?.stop();
  });

  // A failing step leaves a picture of what the browser showed.
  afterEach(async (t) => {
    if (t.task.result?.state === 'fail' && page) await screenshot(page, `failed-${t.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
  });

  const nav = (name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true });
  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });

  it('asks for the setup link, then creates the admin account through it', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.getByText('Open the setup link from the server').isVisible()).toBe(true);
    await page.goto(server.setupLink);
    await heading('Create the admin account').waitFor();
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password', { exact: true }).fill('short');
    await page.getByLabel('Confirm password').fill('short');
    await page.getByRole('button', { name: 'Create account and sign in' }).click();
    await page.getByText('Use at least 10 characters').waitFor();
    await page.getByLabel('Password', { exact: true }).fill(ADMIN.password);
    await page.getByLabel('Confirm password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Create account and sign in' }).click();
    await heading('Overview').waitFor();
    expect(new URL(page.url()).pathname).toBe('/overview');
    await page.getByRole('heading', { name: 'Get started' }).waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === 'tributary_session')!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    await screenshot(page, 'overview-empty-laptop');
  });

  it('signs out, refuses a wrong password, and signs in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading('Sign in').waitFor();
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('the email or the password is wrong').waitFor();
    await screenshot(page, 'login-laptop');
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Overview').waitFor();
  });

  it('guides the Microsoft integration: exact redirect URI, permissions and manifest; warns before the secret expires', async () => {
    await nav('Integrations').click();
    await heading('Integrations').waitFor();
    await page.getByTestId('integration-microsoft').click();
    await heading(/Microsoft 365/).waitFor();
    expect(await page.getByTestId('redirect-uri').textContent()).toBe(`${server.url}/v3/connect/callback`);
    const manifest = JSON.parse((await page.getByTestId('manifest').textContent())!) as { resourceAppId: string; resourceAccess: { id: string; type: string }[] }[];
    expect(manifest).toEqual([
      {
        resourceAppId: '00000003-0000-0000-c000-000000000000',
        resourceAccess: [
          { id: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182', type: 'Scope' },
          { id: '37f7f235-527c-4136-accd-4a02d197296e', type: 'Scope' },
          { id: '14dad69e-099b-42c9-810b-d002981feec1', type: 'Scope' },
          { id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' },
          { id: '570282fd-fa5c-430d-a7fd-fc8dc98a9dca', type: 'Scope' },
        ],
      },
    ]);
    expect(await page.getByTestId('permissions').textContent()).toBe(GRAPH_PERMISSIONS.map((p) => p.name).join(''));

    // The form checks before it submits: a single-tenant app needs its tenant id.
    await page.getByLabel('This directory only (single tenant)').check();
    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.getByText('Enter the Directory (tenant) ID').waitFor();
    await page.getByText('Paste the Application (client) ID').waitFor();
    await page.getByLabel('Directory (tenant) ID').fill('not a tenant!');
    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.getByText('Use the tenant GUID').waitFor();

    await page.getByLabel('Any organizational directory (multitenant)').check();
    await page.getByLabel('Application (client) ID').fill(app.clientId);
    await page.getByLabel('Client secret', { exact: true }).fill(app.clientSecret);
    const in10days = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
    await page.getByLabel('Client secret expires on').fill(in10days);
    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.getByText(/The client secret expires in (9|10) days/).waitFor();
    await screenshot(page, 'integration-microsoft-laptop');

    // IMAP takes server defaults instead of OAuth credentials.
    await nav('Integrations').click();
    await page.getByTestId('integration-imap').click();
    await page.getByLabel('Port').fill('99999');
    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.getByText('A port between 1 and 65535').waitFor();
    await page.getByLabel('Default IMAP host').fill('imap.example.com');
    await page.getByLabel('Port').fill('993');
    await page.getByRole('button', { name: 'Create integration' }).click();
    await page.getByText('Saved.').waitFor();

    await nav('Overview').click();
    await page.getByTestId('attention').getByText(/client secret expires in (9|10) days/).waitFor();
  });

  it('adds a grant: hosted-auth link, consent in the sandbox, back on the "connected" page, listed as valid', async () => {
    await nav('Grants').click();
    await page.getByRole('heading', { name: 'No grants yet' }).waitFor();
    await page.getByRole('button', { name: 'Add grant' }).first().click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Email address').fill(USER);
    // IMAP connects with credentials; the server's refusal is shown as it is.
    await dialog.getByLabel('Provider').selectOption('imap');
    await dialog.getByRole('button', { name: 'Connect mailbox' }).click();
    await dialog.getByText('Enter the mailbox password').waitFor();
    await dialog.getByLabel('Password').fill('hunter2hunter2');
    await dialog.getByLabel('IMAP host').fill('127.0.0.1');
    await dialog.getByLabel('Port').fill('9');
    await dialog.getByLabel('Security').selectOption('none');
    await dialog.getByRole('button', { name: 'Connect mailbox' }).click();
    await dialog.getByText('Could not connect').waitFor();
    await screenshot(page, 'grant-add-imap-refused-laptop');
    await dialog.getByLabel('Provider').selectOption('microsoft');
    await dialog.getByRole('button', { name: 'Create sign-in link' }).click();
    const link = (await dialog.getByTestId('auth-link-url').textContent())!;
    expect(link).toMatch(new RegExp(`^${server.url}/v3/connect/auth\\?link=`));
    await screenshot(page, 'grant-add-link-laptop');
    await dialog.getByRole('button', { name: 'Close' }).click();

    // The account owner opens the link (another browser), consents on the sandbox's page.
    const owner = await newPage(browser);
    await owner.page.goto(link);
    await owner.page.getByRole('heading', { name: 'Permissions requested' }).waitFor();
    expect(await owner.page.getByLabel('Account').inputValue()).toBe(USER);
    await owner.page.getByRole('button', { name: 'Accept' }).click();
    await owner.page.getByText('Mailbox connected').waitFor();
    expect(new URL(owner.page.url()).pathname).toBe('/connected');
    await screenshot(owner.page, 'connected-laptop');
    await owner.context.close();

    await page.reload();
    const row = page.getByTestId('grants-table').getByRole('row', { name: new RegExp(USER) });
    await row.waitFor();
    expect(await row.getByText('valid').isVisible()).toBe(true);
  });

  it('shows a delivered message in the events explorer, with its JSON payload', async () => {
    await eventually(async () => server.sandbox.control.listSubscriptions().length > 0 || undefined, 'the Graph subscription of the new grant', 30_000).catch(() => undefined);
    server.sandbox.control.deliverMail(USER, { from: { name: 'Grace Hopper', address: 'grace@navy.example' }, subject: 'Compiler notes', html: '<p>See attached.</p>' });
    await nav('Events').click();
    await heading('Events').waitFor();
    await page.getByLabel('Type').selectOption('message.created');
    await page.getByTestId('events-list').getByText('Compiler notes — from Grace Hopper').waitFor({ timeout: 45_000 });
    await page.getByTestId('events-list').getByText('Compiler notes — from Grace Hopper').click();
    const payload = JSON.parse((await page.getByTestId('event-json').textContent())!) as { type: string; data: { object: { subject: string } } };
    expect(payload.type).toBe('message.created');
    expect(payload.data.object.subject).toBe('Compiler notes');
    await screenshot(page, 'events-laptop');
  }, 90_000);

  it('creates a webhook stream: a failing test keeps it paused; a passing one starts it; deliveries appear; pause and resume', async () => {
    await nav('Streams').click();
    await page.getByRole('link', { name: 'Create a stream' }).click();
    await page.getByTestId('destination-catalog').getByRole('link', { name: /^Webhook/ }).click();
    await heading('New webhook stream').waitFor();
    await page.getByRole('button', { name: 'Test and create' }).click();
    await page.getByText('Give the stream a name').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('CRM webhook');
    // A port nobody listens on: the test fails, and the stream can only be kept paused.
    await page.getByLabel('Url').fill('http://127.0.0.1:9/hook');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('button', { name: 'Test and create' }).click();
    await page.getByText('Test connection failed').waitFor();
    await screenshot(page, 'stream-new-failed-test-laptop');

    await page.getByLabel('Url').fill(receiver.url);
    await page.getByRole('button', { name: 'Test and create' }).click();
    await heading('CRM webhook').waitFor();
    await expect.poll(() => page.getByTestId('stream-status').textContent()).toBe('active');
    expect(receiver.posts().length).toBeGreaterThanOrEqual(1);

    server.sandbox.control.deliverMail(USER, { from: 'linus@kernel.example', subject: 'Patch v2' });
    await page.getByTestId('deliveries-table').getByText('delivered').first().waitFor({ timeout: 45_000 });
    await eventually(async () => receiver.posts().some((r) => r.body.includes('Patch v2')), 'the webhook receiver to get the message', 30_000);
    await screenshot(page, 'stream-detail-laptop');

    await page.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => page.getByTestId('stream-status').textContent()).toBe('paused');
    await page.getByText('Paused: events keep accumulating').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => page.getByTestId('stream-status').textContent()).toBe('active');

    // Webhooks show their signing secret rotation; the new secret is shown once.
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate now' }).click();
    expect((await page.getByTestId('rotated-secret').textContent())!.length).toBeGreaterThanOrEqual(16);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    // Editing keeps the stored secrets (left empty) and the rotation's grace period.
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByLabel('Name', { exact: true }).fill('CRM webhook (edited)');
    expect(await page.getByLabel('Secret', { exact: true }).inputValue()).toBe('');
    await page.getByRole('button', { name: 'Test and save' }).click();
    await heading('CRM webhook (edited)').waitFor();
    await expect.poll(() => page.getByTestId('stream-status').textContent()).toBe('active');
    await page.getByText('The previous secret also signs until').waitFor();

    // Replay from an hour ago: the receiver sees the message again (same event id).
    // The field takes wall-clock time in the browser's zone (the one this process runs in), written
    // from the local fields of that instant: shifting by today's UTC offset would be an hour off
    // within an hour after a DST change, and a replay from "now" would miss the message.
    const hourAgo = new Date(Date.now() - 3600_000);
    const two = (n: number) => String(n).padStart(2, '0');
    const local = `${hourAgo.getFullYear()}-${two(hourAgo.getMonth() + 1)}-${two(hourAgo.getDate())}T${two(hourAgo.getHours())}:${two(hourAgo.getMinutes())}`;
    await page.getByLabel('Replay from (your local time)').fill(local);
    await page.getByRole('button', { name: 'Replay', exact: true }).click();
    await page.getByText(/Rewound: delivery restarts/).waitFor();
    await eventually(async () => receiver.posts().filter((r) => r.body.includes('Patch v2')).length >= 2 || undefined, 'the replayed message', 30_000);

    // An event the receiver refuses (422) becomes a dead letter; once fixed, "Redrive all" delivers it.
    let fixed = false;
    receiver.onPost = (r) => (r.body.includes('Poison pill') && !fixed ? { status: 422, body: 'cannot parse this one' } : { status: 200, body: 'ok' });
    server.sandbox.control.deliverMail(USER, { from: 'mallory@evil.example', subject: 'Poison pill' });
    await page.getByText(/refused this event with 422/).waitFor({ timeout: 45_000 });
    fixed = true;
    await page.getByRole('button', { name: 'Redrive all' }).click();
    await page.getByText('1 queued to be written again.').waitFor();
    await eventually(async () => receiver.posts().some((r) => r.body.includes('Poison pill') && fixed) || undefined, 'the redriven event', 30_000);
    await page.getByText('None — every event went through.').waitFor({ timeout: 30_000 });
  }, 180_000);

  it('creates an API key shown once, lists it by prefix and revokes it', async () => {
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('button', { name: 'Create key' }).first().click();
    await page.getByRole('dialog').getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('dialog').getByText('Name the key after what uses it').waitFor();
    await page.getByRole('dialog').getByLabel('Name').fill('CI pipeline');
    await page.getByRole('dialog').getByRole('button', { name: 'Create key' }).click();
    const key = (await page.getByTestId('new-key-value').textContent())!;
    expect(key).toMatch(/^trb_/);
    const me = await fetch(`${server.url}/v3/applications`, { headers: { authorization: `Bearer ${key}` } });
    expect(me.status).toBe(200);
    await page.getByRole('dialog').getByRole('button', { name: 'Done' }).click();
    const row = page.getByTestId('keys-table').getByRole('row', { name: /CI pipeline/ });
    expect(await row.textContent()).toContain(`${key.slice(0, 12)}…`);
    expect(await page.textContent('body')).not.toContain(key);
    await row.getByRole('button', { name: 'Revoke CI pipeline' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await row.getByText('revoked').waitFor();
  });

  it('switches applications (environments) and back', async () => {
    await page.getByLabel('Application').selectOption({ label: '＋ New application…' });
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('Acme staging');
    await dialog.getByRole('button', { name: 'Create and switch' }).click();
    await heading('Integrations').waitFor();
    await nav('Overview').click();
    await page.getByText('Acme staging · staging · region local').waitFor();
    await page.getByRole('heading', { name: 'Get started' }).waitFor();
    await page.getByLabel('Application').selectOption({ label: 'Default application · production' });
    await page.getByText('Default application · production · region local').waitFor();
  });

  it('offers re-authentication for an expired grant and completes it in the sandbox', async () => {
    const grant = (await server.running.ctx.repos.grants.list((await server.running.ctx.repos.applications.getDefault())!.id, { limit: 10, offset: 0 }))[0]!;
    await expireGrant(server.running.ctx, grant.id, 'AADSTS700082: the refresh token has expired due to inactivity');
    await nav('Grants').click();
    await page.getByLabel('Status').selectOption('expired');
    const row = page.getByTestId('grants-table').getByRole('row', { name: new RegExp(USER) });
    await row.getByText('expired').waitFor();
    await row.getByRole('link', { name: USER }).click();
    await page.getByText('This grant has expired').waitFor();
    await page.getByText('AADSTS700082').waitFor();
    await screenshot(page, 'grant-detail-expired-laptop');
    await page.getByRole('button', { name: 'Send a sign-in link' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: `Re-authenticate ${USER}` }).waitFor();
    expect(await dialog.getByLabel('Email address').inputValue()).toBe(USER);
    await dialog.getByRole('button', { name: 'Create sign-in link' }).click();
    const link = (await dialog.getByTestId('auth-link-url').textContent())!;
    await dialog.getByRole('button', { name: 'Close' }).click();
    const owner = await newPage(browser);
    await owner.page.goto(link);
    await owner.page.getByRole('button', { name: 'Accept' }).click();
    await owner.page.getByText('Mailbox connected').waitFor();
    await owner.context.close();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: USER }).waitFor();
    await expect.poll(() => page.getByText('This grant has expired').count()).toBe(0);
    await screenshot(page, 'grant-detail-laptop');
  }, 60_000);

  it('refuses a cross-site form post made with the session cookie', async () => {
    // A page on another origin of the same site (127.0.0.1, other port): SameSite=Lax still sends
    // the cookie with a top-level POST, so the CSRF token and Origin checks are what stop it.
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><form method="post" action="${server.url}/dashboard/api/api-keys" enctype="text/plain"><input name='{"name":"pwned","x":"' value='"}'></form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const keysBefore = await server.running.ctx.repos.apiKeys.list((await server.running.ctx.repos.applications.getDefault())!.id);
    const responses: number[] = [];
    page.on('response', (r) => {
      if (r.url().endsWith('/dashboard/api/api-keys') && r.request().method() === 'POST') responses.push(r.status());
    });
    await page.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
    await expect.poll(() => responses.length).toBe(1);
    expect(responses[0]).toBe(403);
    expect(await page.textContent('body')).toMatch(/cross-origin request from http:\/\/127\.0\.0\.1:\d+ refused/);
    const keysAfter = await server.running.ctx.repos.apiKeys.list((await server.running.ctx.repos.applications.getDefault())!.id);
    expect(keysAfter).toHaveLength(keysBefore.length);
    await new Promise((r) => evil.close(r));
  });

  it('had no script errors and no CSP violations on the way', () => {
    expect(problems).toEqual([]);
  });

  // One test per width and scheme, each with its own limit: 12 full page loads at about 1.6 s
  // each at load 8 (0.9 s to the heading, 0.45 s for the network to stay idle, 0.2 s for the
  // screenshot). All 48 in one test took 75 s at load 8 and passed 120 s under heavier load.
  it.each([
    ['laptop', LAPTOP, 'light'],
    ['laptop-dark', LAPTOP, 'dark'],
    ['phone', PHONE, 'light'],
    ['phone-dark', PHONE, 'dark'],
  ] as const)('renders the main pages: %s', async (suffix, viewport, scheme) => {
    const appId = (await server.running.ctx.repos.applications.getDefault())!.id;
    const grantId = (await server.running.ctx.repos.grants.list(appId, { limit: 1, offset: 0 }))[0]!.id;
    const streamId = (await server.running.ctx.store.db.selectFrom('streams').select('id').where('application_id', '=', appId).executeTakeFirstOrThrow()).id;
    const pages = [
      ['grant-detail', `/grants/${grantId}`, USER],
      ['stream-detail', `/streams/${streamId}`, 'CRM webhook (edited)'],
      ['overview', '/overview', 'Overview'],
      ['integrations', '/integrations', 'Integrations'],
      ['grants', '/grants', 'Grants'],
      ['streams', '/streams', 'Streams'],
      ['events', '/events', 'Events'],
      ['settings', '/settings', 'Settings'],
      ['api-keys', '/api-keys', 'API keys'],
      ['stream-new', '/streams/new?type=webhook', 'New webhook stream'],
      ['integration-microsoft', '/integrations/microsoft', 'Microsoft 365'],
      ['stream-catalog', '/streams/new', 'New stream'],
    ] as const;
    const ctx = await browser.newContext({ viewport, colorScheme: scheme, storageState: await context.storageState() });
    onTestFinished(() => ctx.close());
    const p = await ctx.newPage();
    for (const [name, path, title] of pages) {
      await p.goto(`${server.url}${path}`);
      await p.getByRole('heading', { level: 1, name: title }).waitFor();
      await p.waitForLoadState('networkidle');
      // No horizontal scrolling at phone width: everything fits or scrolls inside its own box.
      if (viewport === PHONE) expect(await p.evaluate(() => document.documentElement.scrollWidth), `${path} overflows at phone width`).toBeLessThanOrEqual(PHONE.width);
      await screenshot(p, `${name}-${suffix}`);
    }
    if (viewport === PHONE) {
      await p.getByRole('button', { name: 'Open navigation' }).click();
      await p.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Grants', exact: true }).click();
      await p.getByRole('heading', { level: 1, name: 'Grants' }).waitFor();
    }
  }, 90_000);
});
