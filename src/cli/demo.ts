import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createSetupLink } from '../dashboard/accounts.js';
import { createContext, ensureDefaultApplication, startRoles } from '../main.js';
import { createLogger } from '../observability/logger.js';
import { startMicrosoftSandbox } from '../sandbox/microsoft/index.js';
import { runGoogleDemo } from './demo-google.js';
import { runZoomDemo } from './demo-zoom.js';

/**
 * `tributary demo`: the whole product on one machine with no cloud account. Starts the
 * Microsoft sandbox and Tributary (API + workers, embedded database in a temporary directory),
 * creates a Microsoft connector against the sandbox, walks one mailbox through hosted
 * authentication exactly as a browser would, delivers a few messages and prints the
 * `message.created` events as the API serves them. Everything goes through the public API.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run Tributary against a built-in sandbox: hosted auth, new mail or a meeting transcript, events (about 20 s)')
    .option('--provider <id>', 'microsoft or google (mail), or zoom (a meeting transcript)', 'microsoft')
    .option('--messages <n>', 'messages to deliver', '3')
    .option('--keep', 'keep running afterwards (Ctrl-C to stop) to explore the API and dashboard')
    .action(async (opts: { provider: string; messages: string; keep?: boolean }) => {
      if (opts.provider === 'zoom') return runZoomDemo({ keep: opts.keep === true });
      if (opts.provider === 'google') return runGoogleDemo({ messages: Math.min(50, Math.max(1, Number(opts.messages) || 3)), keep: opts.keep === true });
      if (opts.provider !== 'microsoft') throw new Error(`demo --provider must be microsoft, google or zoom (got ${opts.provider})`);
      await runDemo({ messages: Math.min(50, Math.max(1, Number(opts.messages) || 3)), keep: opts.keep === true });
    });
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export const step = (started: number, text: string) => console.log(`  [${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}`);

export interface DemoTributary {
  ctx: Awaited<ReturnType<typeof createContext>>;
  key: string;
  publicUrl: string;
  dataDir: string;
  /** Calls the REST API with the demo's API key; returns `data`, throws on an error status. */
  api(method: string, path: string, body?: unknown): Promise<unknown>;
  stop(): Promise<void>;
}

/** Tributary (API + workers) on a free loopback port with an embedded database in a temporary directory. */
export async function startDemoTributary(env: Record<string, string>): Promise<DemoTributary> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tributary-demo-'));
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: publicUrl,
    DATABASE_URL: '',
    TRIBUTARY_DATA_DIR: dataDir,
    TRIBUTARY_SECRET_KEYS: '',
    TRIBUTARY_API_KEY: '',
    TRIBUTARY_FALLBACK_SYNC_MS: '30000',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...env,
  });
  const ctx = await createContext(config, createLogger(config.logLevel));
  const { printKey } = await ensureDefaultApplication(ctx);
  const key = printKey ?? (await ctx.repos.apiKeys.create((await ctx.repos.applications.ensureDefault(config.region)).app.id, 'demo')).key;
  const running = await startRoles(ctx, { api: true, worker: true });
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${publicUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await res.json()) as { data?: unknown; error?: unknown };
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(json.error ?? json)}`);
    return json.data;
  };
  return {
    ctx,
    key,
    publicUrl,
    dataDir,
    api,
    async stop() {
      await running.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** `--keep`: print where to go next (the dashboard setup link while no admin exists) and wait for Ctrl-C. */
export async function keepRunning(t: Pick<DemoTributary, 'ctx' | 'publicUrl' | 'key'>, more: string): Promise<void> {
  const setupLink = await createSetupLink(t.ctx.store.db, t.publicUrl, t.ctx.now());
  console.log(`\n  still running: API ${t.publicUrl}/docs  ·  API key ${t.key}  ·  ${more}`);
  if (setupLink) console.log(`  dashboard: create the admin account at ${setupLink}`);
  console.log('  Ctrl-C to stop.');
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
}

/**
 * Hosted auth over HTTP as the user's browser and the app's server do it: GET /v3/connect/auth →
 * the provider's consent page (`approve`: the sandbox's Accept, returning where the browser goes
 * next) → Tributary's callback → the app's redirect with a code → POST /v3/connect/token.
 */
export async function hostedAuthOverHttp(a: {
  publicUrl: string;
  key: string;
  applicationId: string;
  provider: string;
  email: string;
  appRedirect: string;
  approve: (authorizeUrl: string) => Promise<string> | string;
}): Promise<{ grant_id: string; email: string; authUrl: string }> {
  const authUrl = `${a.publicUrl}/v3/connect/auth?${new URLSearchParams({ client_id: a.applicationId, provider: a.provider, redirect_uri: a.appRedirect, response_type: 'code', state: 'demo', login_hint: a.email })}`;
  const toProvider = await fetch(authUrl, { redirect: 'manual' });
  if (toProvider.status !== 302) throw new Error(`GET /v3/connect/auth answered ${toProvider.status}: ${(await toProvider.text()).slice(0, 300)}`);
  const back = await fetch(await a.approve(String(toProvider.headers.get('location'))), { redirect: 'manual' });
  return { ...(await redeemDemoCode(a.publicUrl, String(back.headers.get('location')), a.appRedirect, a.applicationId, a.key)), authUrl };
}

/** The location a sandbox consent (`{ location }` or `{ error }`) sends the browser to. */
export function consentLocation(consent: { location?: string; error?: unknown }): string {
  if (!consent.location) throw new Error(`consent failed: ${JSON.stringify(consent.error)}`);
  return consent.location;
}

/** The app's last hosted-auth step: the code on its redirect → POST /v3/connect/token (form-encoded, as a server would). */
export async function redeemDemoCode(publicUrl: string, finalLocation: string, appRedirect: string, applicationId: string, key: string): Promise<{ grant_id: string; email: string }> {
  const code = new URL(finalLocation).searchParams.get('code');
  if (!code) throw new Error(`hosted auth ended with ${new URL(finalLocation).search}`);
  const res = await fetch(`${publicUrl}/v3/connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: appRedirect, client_id: applicationId, client_secret: key }).toString(),
  });
  return (await res.json()) as { grant_id: string; email: string };
}

async function runDemo(o: { messages: number; keep: boolean }): Promise<void> {
  const started = Date.now();
  console.log('\nTributary demo — Microsoft 365 sandbox → hosted auth → message.created\n');
  const sandbox = await startMicrosoftSandbox();
  step(started, `Microsoft sandbox (identity platform + Graph) on ${sandbox.url}`);
  const t = await startDemoTributary({
    TRIBUTARY_MICROSOFT_LOGIN_URL: sandbox.url,
    TRIBUTARY_MICROSOFT_GRAPH_URL: sandbox.graphUrl,
    TRIBUTARY_MICROSOFT_NOTIFICATION_URL: '',
  });
  const { key, publicUrl, api } = t;
  step(started, `Tributary API + workers on ${publicUrl} (embedded database in ${t.dataDir})`);
  const stop = async () => {
    await t.stop();
    await sandbox.close();
  };

  try {
    const entra = sandbox.control.createApp({ displayName: 'Acme Mail Insights (demo)', redirectUris: [`${publicUrl}/v3/connect/callback`] });
    const user = sandbox.control.createUser({ mail: 'ada@contoso.com', displayName: 'Ada Lovelace' });
    step(started, `registered an Entra app (${entra.clientId}) and a mailbox ${user.mail} in the sandbox`);
    await api('POST', '/v3/connectors', { provider: 'microsoft', settings: { client_id: entra.clientId, client_secret: entra.clientSecret, tenant: 'common' } });
    const appRedirect = `${publicUrl}/demo-app/connected`;
    await api('POST', '/v3/applications/redirect-uris', { url: appRedirect, platform: 'web' });
    const applicationId = ((await api('GET', '/v3/applications')) as { application_id: string }).application_id;
    step(started, 'created the Microsoft connector and the app redirect URI through /v3');

    // Hosted auth, as the user's browser would do it.
    const token = await hostedAuthOverHttp({ publicUrl, key, applicationId, provider: 'microsoft', email: user.mail, appRedirect, approve: (url) => consentLocation(sandbox.control.approve(url, { username: user.mail })) });
    step(started, `hosted auth: ${token.authUrl.split('?')[0]} → consent → callback → code → grant ${token.grant_id} (${token.email})`);

    await waitFor(async () => {
      const g = (await api('GET', `/v3/grants/${token.grant_id}`)) as { sync_state: { cursor?: unknown } };
      return g.sync_state.cursor !== undefined && sandbox.control.listSubscriptions().length > 0;
    }, 20_000);
    step(started, 'sync started: delta cursor saved, Graph subscription created (notifications on)');

    const subjects = ['Welcome aboard', 'Quarterly numbers', 'Lunch on Friday?', 'Release notes', 'Invoice 2026-11'];
    for (let i = 0; i < o.messages; i++) {
      sandbox.control.deliverMail(user.mail, {
        from: { name: 'Grace Hopper', address: 'grace@fabrikam.com' },
        toRecipients: [{ name: user.displayName, address: user.mail }],
        subject: `${subjects[i % subjects.length]}${i >= subjects.length ? ` #${i}` : ''}`,
        html: `<p>Message ${i + 1} of the demo.</p>`,
      });
    }
    step(started, `delivered ${o.messages} message(s) to ${user.mail}`);
    const events = await waitFor(async () => {
      const list = (await api('GET', `/v3/events?grant_id=${token.grant_id}&type=message.created`)) as DemoEvent[];
      return list.length >= o.messages ? list : null;
    }, 20_000);
    step(started, `${events.length} message.created event(s) in the log (GET /v3/events):\n`);
    for (const e of [...events].reverse()) {
      const m = e.data.object;
      console.log(`    ${e.type}  ${e.source}  id=${e.id}\n      from ${m.from[0]?.name} <${m.from[0]?.email}>  subject "${m.subject}"  unread=${m.unread}  thread=${String(m.thread_id).slice(0, 16)}…`);
    }
    const grantEvents = (await api('GET', `/v3/events?grant_id=${token.grant_id}&type=grant.created`)) as unknown[];
    console.log(`\n    plus ${grantEvents.length} grant.created event; one full envelope:\n`);
    console.log(JSON.stringify(events[events.length - 1], null, 2).replace(/^/gm, '    '));
    console.log(`\n  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (o.keep) await keepRunning(t, `deliver more mail with POST ${sandbox.url}/_control/mail`);
  } finally {
    await stop();
  }
}

interface DemoEvent {
  id: string;
  type: string;
  source: string;
  data: { object: { subject: string; unread: boolean; thread_id: string; from: { name: string; email: string }[] } };
}

export async function waitFor<T>(check: () => Promise<T | null | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`the demo timed out after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
