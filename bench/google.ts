/**
 * `npm run bench:google` — the Google source end to end against the Google sandbox, in this
 * process (API, sync engine and sandbox share it; PostgreSQL from Debian on loopback).
 *
 * 1. Latency: one grant through hosted auth, Pub/Sub push on; 200 messages delivered one at a
 *    time; time from the sandbox accepting a message to the sync engine having committed its
 *    message.created. Embedded database and PostgreSQL.
 * 2. Backfill: 10,000 messages already in the mailbox, `backfill_days` set; time from the grant
 *    to all 10,000 historic events committed (messages.get in batch requests of 50). The sandbox
 *    quota is lifted for this part: real Gmail allows 250 units per user per second, i.e. about
 *    50 messages.get per second per mailbox, so a real backfill is bound by Google, not Tributary.
 * 3. Scale: 1,000 grants syncing on one sync scheduler; resident memory of the process
 *    (which also holds the API and the sandbox) at rest, and every message once.
 *
 * Knobs: BENCH_MESSAGES (200), BENCH_BACKFILL (10000), BENCH_GRANTS (1000), BENCH_PARTS (`1,2,3`).
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { startGoogleSandbox, type GoogleSandbox } from '../src/sandbox/google/index.js';
import { openPGlite, openPostgres, type Store } from '../src/store/index.js';
import { startSync } from '../src/sync/index.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { machineLine, percentile } from './machine.js';
import { APP_REDIRECT, startTributary, type BenchServer } from './microsoft-setup.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const BACKFILL = Number(process.env.BENCH_BACKFILL ?? 10_000);
const GRANTS = Number(process.env.BENCH_GRANTS ?? 1000);
const PARTS = (process.env.BENCH_PARTS ?? '1,2,3').split(',');
const TOPIC = 'projects/tributary-bench/topics/gmail';
const SA = 'push@tributary-bench.iam.gserviceaccount.com';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (n: number) => `${n.toFixed(1)} ms`;
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;

async function setup(store: Store, settings: Record<string, unknown> = {}, unitsPerSecond?: number): Promise<{ s: BenchServer; sb: GoogleSandbox }> {
  const sb = await startGoogleSandbox(unitsPerSecond ? { unitsPerSecond } : {});
  const s = await startTributary(store, null, { TRIBUTARY_GOOGLE_AUTH_URL: sb.authorizeUrl, TRIBUTARY_GOOGLE_TOKEN_URL: sb.tokenUrl, TRIBUTARY_GMAIL_URL: sb.gmailUrl, TRIBUTARY_FALLBACK_SYNC_MS: '600000' });
  const client = sb.control.createClient([`${s.publicUrl}/v3/connect/callback`]);
  const push = `${s.publicUrl}/v3/providers/google/notifications`;
  sb.control.addPushSubscription({ name: 'projects/tributary-bench/subscriptions/s', topic: TOPIC, endpoint: push, audience: push, serviceAccountEmail: SA });
  const call = (url: string, body: unknown) => s.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const c = await call('/v3/connectors', { provider: 'google', settings: { client_id: client.clientId, client_secret: client.clientSecret, topic_name: TOPIC, push_service_account: SA, ...settings } });
  if (c.statusCode !== 200) throw new Error(c.body);
  const r = await call('/v3/applications/redirect-uris', { url: APP_REDIRECT });
  if (r.statusCode !== 200) throw new Error(r.body);
  return { s, sb };
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
      const latencies: number[] = [];
      let lost = 0;
      for (let i = 0; i < MESSAGES; i++) {
        const done = new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), 5000);
          committed = () => {
            clearTimeout(t);
            resolve(true);
          };
        });
        const t0 = performance.now();
        sb.control.deliverMail('bench@gmail.test', { from: { address: 'sender@example.com' }, subject: `latency ${i}`, html: `<p>message ${i}</p>` });
        if (await done) latencies.push(performance.now() - t0);
        else lost++;
        committed = null;
        await sleep(10 + Math.random() * 20);
      }
      const sorted = latencies.sort((a, b) => a - b);
      console.log(`  ${label.padEnd(10)} n=${sorted.length}  p50 ${ms(percentile(sorted, 50))}  p90 ${ms(percentile(sorted, 90))}  p99 ${ms(percentile(sorted, 99))}  max ${ms(sorted[sorted.length - 1] ?? NaN)}${lost ? `  (${lost} not seen within 5 s)` : ''}`);
    } finally {
      await scheduler.stop();
    }
  } finally {
    await s.app.close();
    await sb.close();
  }
}

async function backfill(store: Store): Promise<void> {
  const { s, sb } = await setup(store, { backfill_days: 30 }, 1e12);
  try {
    const day = 86_400_000;
    for (let i = 0; i < BACKFILL; i++) sb.control.deliverMail('history@gmail.test', { from: { address: `s${i % 97}@example.com` }, subject: `old ${i}`, html: `<p>${'x'.repeat(2000)} ${i}</p>`, date: Date.now() - 20 * day + i * 1000 });
    let historic = 0;
    let doneAt = 0;
    const total = BACKFILL;
    onCommitted(s, () => undefined);
    const grantId = await hostedAuth(s, sb, 'history@gmail.test');
    const t0 = performance.now();
    const scheduler = await startSync(s.ctx, 'bench', { startSpreadMs: 0 });
    try {
      for (let i = 0; historic < total; i++) {
        if (i > 6000) throw new Error(`only ${historic} of ${total} after 10 min`);
        await sleep(100);
        const row = await sql<{ n: string }>`select count(*) as n from events where grant_id = ${grantId} and source = '/google/emails/historic'`.execute(store.db);
        historic = Number(row.rows[0]?.n ?? 0);
      }
      doneAt = performance.now();
    } finally {
      await scheduler.stop();
    }
    const secs = (doneAt - t0) / 1000;
    console.log(`  ${total} historic messages (≈2 KB bodies) into the log in ${secs.toFixed(1)} s: ${(total / secs).toFixed(0)} msg/s (batch requests of 50, ${sb.control.requests()} sandbox requests in all)`);
  } finally {
    await s.app.close();
    await sb.close();
  }
}

async function scale(store: Store): Promise<void> {
  const { s, sb } = await setup(store);
  try {
    const before = process.memoryUsage().rss;
    const emails = Array.from({ length: GRANTS }, (_, i) => `user${i}@gmail.test`);
    const t0 = performance.now();
    for (let i = 0; i < emails.length; i += 10) await Promise.all(emails.slice(i, i + 10).map((e) => hostedAuth(s, sb, e)));
    const authS = (performance.now() - t0) / 1000;
    const scheduler = await startSync(s.ctx, 'bench', { startSpreadMs: 5000 });
    try {
      for (let i = 0; emails.some((e) => !sb.control.watchOf(e)); i++) {
        if (i > 1800) throw new Error('not every grant has a watch after 180 s');
        await sleep(100);
      }
      const readyS = (performance.now() - t0) / 1000;
      await sleep(5000);
      global.gc?.();
      const rss = process.memoryUsage().rss;
      let sent = 0;
      for (let i = 0; i < 200; i++) {
        sb.control.deliverMail(emails[Math.floor(Math.random() * emails.length)]!, { subject: `steady ${i}` });
        sent++;
        await sleep(25);
      }
      let events = 0;
      for (let i = 0; i < 200 && events < sent; i++) {
        await sleep(100);
        const row = await sql<{ n: string }>`select count(*) as n from events where type = 'message.created'`.execute(store.db);
        events = Number(row.rows[0]?.n ?? 0);
      }
      console.log(`  ${GRANTS} grants through hosted auth in ${authS.toFixed(1)} s; all syncing with a Gmail watch after ${readyS.toFixed(1)} s`);
      console.log(`  process RSS with ${GRANTS} grants syncing: ${mb(rss)} (before the grants: ${mb(before)}; includes the API and the sandbox's ${GRANTS} mailboxes)`);
      console.log(`  ${sent} messages at 40 msg/s across them → ${events} message.created${events === sent ? ' (none lost, none doubled)' : ' (MISMATCH)'}`);
    } finally {
      await scheduler.stop();
    }
  } finally {
    await s.app.close();
    await sb.close();
  }
}

async function main(): Promise<void> {
  console.log(`bench:google — ${machineLine()}`);
  const pg = await startPostgres();
  try {
    const fresh = async () => {
      const name = `bench_${Math.random().toString(36).slice(2, 8)}`;
      const admin = await openPostgres(pg.url(), 1);
      await sql.raw(`create database ${name}`).execute(admin.db);
      await admin.close();
      return openPostgres(pg.url(name), 10);
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
      console.log('2. backfill on PostgreSQL:');
      const p = await fresh();
      await backfill(p);
      await p.close();
    }
    if (PARTS.includes('3')) {
      console.log('3. grants on one sync scheduler, PostgreSQL:');
      const p = await fresh();
      await scale(p);
      await p.close();
    }
  } finally {
    pg.stop();
  }
}

await main();
