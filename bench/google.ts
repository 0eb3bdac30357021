/**
 * `npm run bench:google` — the Google source end to end against the Google sandbox
 * (PostgreSQL from Debian on loopback). Run `npm run build` first: parts 2 and 3 start
 * `tributary api` and `tributary worker` processes from the compiled dist/.
 *
 * 1. Latency: one grant through hosted auth, Pub/Sub push on; 200 messages delivered one at a
 *    time; time from the sandbox accepting a message to the sync engine having committed its
 *    message.created. Embedded database and PostgreSQL, API and sync engine in this process.
 * 2. Backfill: 10,000 messages already in the mailbox, `backfill_days` set; one worker process
 *    fetches them (messages.get in batch requests of 50) while the sandbox runs in this process;
 *    rate from the first historic event committed to the last, and time from the grant. The
 *    sandbox quota is lifted for this part: real Gmail allows 250 units per user per second,
 *    i.e. about 50 messages.get per second per mailbox, so a real backfill is bound by Google.
 * 3. Scale: 1,000 grants (hosted auth over HTTP against an API process) syncing on one worker
 *    process; the worker's resident memory (from /proc) at rest, and every message once.
 *
 * Knobs: BENCH_MESSAGES (200), BENCH_BACKFILL (10000), BENCH_GRANTS (1000), BENCH_PARTS (`1,2,3`).
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { startGoogleSandbox, type GoogleSandbox } from '../src/sandbox/google/index.js';
import { openPGlite, openPostgres, type Store } from '../src/store/index.js';
import { startSync } from '../src/sync/index.js';
import { hostedAuthOverHttp } from '../src/cli/demo.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { commitLatencies, latencyLine } from './latency.js';
import { machineLine, percentile } from './machine.js';
import { APP_REDIRECT, startTributary, type BenchServer } from './microsoft-setup.js';
import { startTributaryProcesses, usage } from './tributary-processes.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const BACKFILL = Number(process.env.BENCH_BACKFILL ?? 10_000);
const GRANTS = Number(process.env.BENCH_GRANTS ?? 1000);
const PARTS = (process.env.BENCH_PARTS ?? '1,2,3').split(',');
const TOPIC = 'projects/tributary-bench/topics/gmail';
const SA = 'push@tributary-bench.iam.gserviceaccount.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
const GOOGLE_ENV = (sb: GoogleSandbox) => ({ TRIBUTARY_GOOGLE_AUTH_URL: sb.authorizeUrl, TRIBUTARY_GOOGLE_TOKEN_URL: sb.tokenUrl, TRIBUTARY_GMAIL_URL: sb.gmailUrl, TRIBUTARY_FALLBACK_SYNC_MS: '600000' });
const connectorSettings = (client: { clientId: string; clientSecret: string }, settings: Record<string, unknown>) => ({ client_id: client.clientId, client_secret: client.clientSecret, topic_name: TOPIC, push_service_account: SA, ...settings });

async function setup(store: Store): Promise<{ s: BenchServer; sb: GoogleSandbox }> {
  const sb = await startGoogleSandbox();
  const s = await startTributary(store, null, GOOGLE_ENV(sb));
  const client = pushTo(sb, s.publicUrl);
  const call = (url: string, body: unknown) => s.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const c = await call('/v3/connectors', { provider: 'google', settings: connectorSettings(client, {}) });
  if (c.statusCode !== 200) throw new Error(c.body);
  const r = await call('/v3/applications/redirect-uris', { url: APP_REDIRECT });
  if (r.statusCode !== 200) throw new Error(r.body);
  return { s, sb };
}

/** An OAuth client for Tributary at `publicUrl`, and the Pub/Sub push subscription of TOPIC to its endpoint. */
function pushTo(sb: GoogleSandbox, publicUrl: string): { clientId: string; clientSecret: string } {
  const client = sb.control.createClient([`${publicUrl}/v3/connect/callback`]);
  const push = `${publicUrl}/v3/providers/google/notifications`;
  sb.control.addPushSubscription({ name: 'projects/tributary-bench/subscriptions/s', topic: TOPIC, endpoint: push, audience: push, serviceAccountEmail: SA });
  return client;
}

/** The sandbox here, `tributary api` and `tributary worker` processes on `pgUrl`, a Google connector; `grant(email)` is hosted auth over HTTP. */
async function setupProcesses(pgUrl: string, settings: Record<string, unknown> = {}, unitsPerSecond?: number) {
  const sb = await startGoogleSandbox(unitsPerSecond ? { unitsPerSecond } : {});
  const t = await startTributaryProcesses(pgUrl, GOOGLE_ENV(sb));
  const client = pushTo(sb, t.publicUrl);
  for (const [path, body] of [['/v3/connectors', { provider: 'google', settings: connectorSettings(client, settings) }], ['/v3/applications/redirect-uris', { url: APP_REDIRECT }]] as const) {
    const res = await t.api('POST', path, body);
    if (!res.ok) throw new Error(`${path}: ${await res.text()}`);
  }
  const applicationId = ((await (await t.api('GET', '/v3/applications')).json()) as { data: { application_id: string } }).data.application_id;
  const grant = async (email: string) =>
    (await hostedAuthOverHttp({ publicUrl: t.publicUrl, key: t.key, applicationId, provider: 'google', email, appRedirect: APP_REDIRECT, approve: async (url) => (await sb.control.approve(url, { email })).redirect })).grant_id;
  const close = async () => {
    await t.stop();
    await sb.close();
  };
  return { sb, t, grant, close };
}

/** Hosted auth for one mailbox through the real routes; returns the grant id. */
async function hostedAuth(s: BenchServer, sb: GoogleSandbox, email: string): Promise<string> {
  const q = new URLSearchParams({ client_id: s.applicationId, provider: 'google', redirect_uri: APP_REDIRECT, response_type: 'code', login_hint: email });
  const start = await s.app.inject({ method: 'GET', url: `/v3/connect/auth?${q}` });
  const { redirect } = await sb.control.approve(String(start.headers.location), { email });
  const cb = new URL(redirect);
  const back = await s.app.inject({ method: 'GET', url: cb.pathname + cb.search });
  const code = new URL(String(back.headers.location)).searchParams.get('code');
  const token = await s.app.inject({ method: 'POST', url: '/v3/connect/token', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: s.applicationId, client_secret: s.key }) });
  if (token.statusCode !== 200) throw new Error(`token: ${token.body}`);
  return (JSON.parse(token.body) as { grant_id: string }).grant_id;
}

/** Calls `fn` after every committed message event (the engine counts right after the transaction). */
function onCommitted(s: BenchServer, fn: (type: string) => void): void {
  const counter = s.ctx.metrics.eventsAppended;
  const inc = counter.inc.bind(counter) as (labels: { type: string }, n?: number) => void;
  Object.assign(counter, {
    inc: (labels: { type: string }, n?: number) => {
      inc(labels, n);
      fn(labels.type);
    },
  });
}

async function latency(label: string, store: Store): Promise<void> {
  const { s, sb } = await setup(store);
  try {
    await hostedAuth(s, sb, 'bench@gmail.test');
    let committed: (() => void) | null = null;
    onCommitted(s, (type) => type === 'message.created' && committed?.());
    const scheduler = await startSync(s.ctx, 'bench', { startSpreadMs: 0 });
    try {
      for (let i = 0; !sb.control.watchOf('bench@gmail.test'); i++) {
        if (i > 200) throw new Error('no Gmail watch after 10 s');
        await sleep(50);
      }
      await sleep(300);
      const r = await commitLatencies(
        MESSAGES,
        (i) => sb.control.deliverMail('bench@gmail.test', { from: { address: 'sender@example.com' }, subject: `latency ${i}`, html: `<p>message ${i}</p>` }),
        (fn) => (committed = fn),
      );
      console.log(latencyLine(label, r));
    } finally {
      await scheduler.stop();
    }
  } finally {
    await s.app.close();
    await sb.close();
  }
}

/** Rows of `sql` counted on the bench's own connection. */
async function count(store: Store, query: ReturnType<typeof sql<{ n: string }>>): Promise<number> {
  return Number((await query.execute(store.db)).rows[0]?.n ?? 0);
}

async function backfill(pgUrl: string, store: Store): Promise<void> {
  const { sb, t, grant, close } = await setupProcesses(pgUrl, { backfill_days: 30 }, 1e12);
  try {
    const day = 86_400_000;
    for (let i = 0; i < BACKFILL; i++) sb.control.deliverMail('history@gmail.test', { from: { address: `s${i % 97}@example.com` }, subject: `old ${i}`, html: `<p>${'x'.repeat(2000)} ${i}</p>`, date: Date.now() - 20 * day + i * 1000 });
    const t0 = performance.now();
    const grantId = await grant('history@gmail.test');
    const historic = () => count(store, sql<{ n: string }>`select count(*) as n from events where grant_id = ${grantId} and source = '/google/emails/historic'`);
    let first = 0;
    let firstN = 0;
    let n = 0;
    const cpu0 = usage(t.worker.pid!).cpuMs;
    const here0 = process.cpuUsage();
    for (let i = 0; n < BACKFILL; i++) {
      if (i > 12_000) throw new Error(`only ${n} of ${BACKFILL} after 10 min`);
      await sleep(50);
      n = await historic();
      if (n > 0 && !first) [first, firstN] = [performance.now(), n];
    }
    const done = performance.now();
    const cpu = usage(t.worker.pid!).cpuMs - cpu0;
    const here = process.cpuUsage(here0);
    const rate = (n - firstN) / ((done - first) / 1000);
    console.log(`  ${BACKFILL} historic messages (≈2 KB bodies) into the log: ${rate.toFixed(0)} msg/s from the first committed batch to the last (${((done - t0) / 1000).toFixed(1)} s from the grant, CPU: worker ${(cpu / 1000).toFixed(1)} s, this process with the sandbox ${((here.user + here.system) / 1e6).toFixed(1)} s; batch requests of 50, ${sb.control.requests()} sandbox requests in all)`);
  } finally {
    await close();
  }
}

async function scale(pgUrl: string, store: Store): Promise<void> {
  const { sb, t, grant, close } = await setupProcesses(pgUrl);
  try {
    await sleep(3000); // the worker starts beside the API
    const idle = usage(t.worker.pid!).rss;
    const emails = Array.from({ length: GRANTS }, (_, i) => `user${i}@gmail.test`);
    const t0 = performance.now();
    for (let i = 0; i < emails.length; i += 10) await Promise.all(emails.slice(i, i + 10).map(grant));
    const authS = (performance.now() - t0) / 1000;
    for (let i = 0; emails.some((e) => !sb.control.watchOf(e)); i++) {
      if (i > 1800) throw new Error('not every grant has a watch after 180 s');
      await sleep(100);
    }
    const readyS = (performance.now() - t0) / 1000;
    await sleep(5000); // let the first passes settle
    const rss: number[] = [];
    const sampler = setInterval(() => rss.push(usage(t.worker.pid!).rss), 1000);
    let sent = 0;
    for (let i = 0; i < 200; i++) {
      sb.control.deliverMail(emails[Math.floor(Math.random() * emails.length)]!, { subject: `steady ${i}` });
      sent++;
      await sleep(25);
    }
    let events = 0;
    for (let i = 0; i < 200 && events < sent; i++) {
      await sleep(100);
      events = await count(store, sql<{ n: string }>`select count(*) as n from events where type = 'message.created'`);
    }
    clearInterval(sampler);
    rss.sort((a, b) => a - b);
    console.log(`  ${GRANTS} grants through hosted auth (over HTTP, API process) in ${authS.toFixed(1)} s; all syncing with a Gmail watch after ${readyS.toFixed(1)} s`);
    console.log(`  worker process RSS with ${GRANTS} grants syncing: median ${mb(percentile(rss, 50))}, max ${mb(rss[rss.length - 1] ?? NaN)} (the same process before any grant: ${mb(idle)}); API process ${mb(usage(t.apiProcess.pid!).rss)}`);
    console.log(`  ${sent} messages at 40 msg/s across them → ${events} message.created${events === sent ? ' (none lost, none doubled)' : ' (MISMATCH)'}`);
  } finally {
    await close();
  }
}

async function main(): Promise<void> {
  console.log(`bench:google — ${machineLine()}`);
  const pg = await startPostgres();
  try {
    const freshUrl = async () => {
      const name = `bench_${Math.random().toString(36).slice(2, 8)}`;
      const admin = await openPostgres(pg.url(), 1);
      await sql.raw(`create database ${name}`).execute(admin.db);
      await admin.close();
      return pg.url(name);
    };
    const fresh = async () => openPostgres(await freshUrl(), 10);
    /** A fresh database for processes that migrate it themselves, and a small store of the bench's own to count rows. */
    const forProcesses = async (run: (url: string, store: Store) => Promise<void>) => {
      const url = await freshUrl();
      const store = await openPostgres(url, 2);
      try {
        await run(url, store);
      } finally {
        await store.close();
      }
    };
    if (PARTS.includes('1')) {
      console.log(`1. push → committed event, ${MESSAGES} messages one at a time:`);
      const lite = await openPGlite(null);
      await latency('embedded', lite);
      await lite.close();
      const p = await fresh();
      await latency('postgres', p);
      await p.close();
    }
    if (PARTS.includes('2')) {
      console.log('2. backfill, one `tributary worker` process on PostgreSQL:');
      await forProcesses(backfill);
    }
    if (PARTS.includes('3')) {
      console.log('3. grants on one `tributary worker` process (+ one `tributary api` process), PostgreSQL:');
      await forProcesses(scale);
    }
  } finally {
    pg.stop();
  }
}

await main();
