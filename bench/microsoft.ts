/**
 * `npm run bench:microsoft` — the Microsoft source end to end against the sandbox.
 *
 * 1. Latency: one grant made through hosted auth, notifications on; 200 messages delivered one
 *    at a time; time from the sandbox accepting a message (deliverMail returns) to the sync
 *    engine having committed its message.created (outbox transaction done). Embedded database
 *    and PostgreSQL side by side, in this process.
 * 2. Scale: one `tributary worker` process on PostgreSQL syncing 1,000 grants (each made through
 *    hosted auth over HTTP against a separate `tributary api` process, which also receives the
 *    Graph notifications and hints the worker through PostgreSQL), mail arriving at a steady rate
 *    across them; resident memory and CPU of the worker at steady state (and of the API), and
 *    whether every message became exactly one event.
 * 3. Backfill: one grant with `backfill_days` over a mailbox of BENCH_BACKFILL historic messages
 *    (many sharing a second, as an import leaves them), on PostgreSQL: time until every one is a
 *    historic message.created, and how many Graph requests that took (the sandbox enforces
 *    Outlook's 10,000 requests per 10 minutes and mailbox, so requests per message decide how big
 *    a mailbox can be backfilled without waiting out 429s).
 *
 * Knobs: BENCH_MESSAGES (200), BENCH_GRANTS (1000), BENCH_STEADY_S (60), BENCH_RATE (20 msg/s),
 * BENCH_BACKFILL (5000), BENCH_PARTS (`1,2,3`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { startMicrosoftSandbox } from '../src/sandbox/microsoft/index.js';
import { openPGlite, openPostgres, type Store } from '../src/store/index.js';
import { startSync } from '../src/sync/index.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { commitLatencies, latencyLine } from './latency.js';
import { machineLine, percentile } from './machine.js';
import { APP_REDIRECT, connectMicrosoft, hostedAuth, startTributary } from './microsoft-setup.js';
import { startTributaryProcesses, usage } from './tributary-processes.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const GRANTS = Number(process.env.BENCH_GRANTS ?? 1000);
const STEADY_S = Number(process.env.BENCH_STEADY_S ?? 60);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const BACKFILL = Number(process.env.BENCH_BACKFILL ?? 5000);
const PARTS = (process.env.BENCH_PARTS ?? '1,2,3').split(',');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function latency(label: string, store: Store): Promise<number[]> {
  const sb = await startMicrosoftSandbox();
  const s = await startTributary(store, sb, { TRIBUTARY_FALLBACK_SYNC_MS: '600000' });
  try {
    await connectMicrosoft(s, sb);
    sb.control.createUser({ mail: 'bench@contoso.com' });
    await hostedAuth(s, sb, 'bench@contoso.com');
    // The sync engine counts each committed event right after its transaction: observe that.
    let committed: (() => void) | null = null;
    const counter = s.ctx.metrics.eventsAppended;
    const inc = counter.inc.bind(counter) as (labels: { type: string }) => void;
    Object.assign(counter, {
      inc: (labels: { type: string }) => {
        inc(labels);
        if (labels.type === 'message.created') committed?.();
      },
    });
    const scheduler = await startSync(s.ctx, 'bench', { startSpreadMs: 0 });
    try {
      for (let i = 0; sb.control.listSubscriptions().length === 0; i++) {
        if (i > 200) throw new Error('no Graph subscription after 10 s');
        await sleep(50);
      }
      const r = await commitLatencies(
        MESSAGES,
        (i) => sb.control.deliverMail('bench@contoso.com', { from: 'sender@example.com', subject: `latency ${i}`, html: `<p>message ${i}</p>` }),
        (fn) => (committed = fn),
      );
      console.log(latencyLine(label, r));
      const sorted = r.sorted;
      return sorted;
    } finally {
      await scheduler.stop();
    }
  } finally {
    await s.app.close();
    await sb.close();
  }
}

async function scale(pgUrl: string): Promise<void> {
  const sb = await startMicrosoftSandbox();
  const t = await startTributaryProcesses(pgUrl, { TRIBUTARY_MICROSOFT_LOGIN_URL: sb.url, TRIBUTARY_MICROSOFT_GRAPH_URL: sb.graphUrl });
  const { publicUrl, key, api, worker: child, apiProcess: apiChild } = t;
  try {
    await sleep(3000); // the worker starts beside the API
    const idle = usage(child.pid!);
    const entra = sb.control.createApp({ displayName: 'bench', redirectUris: [`${publicUrl}/v3/connect/callback`] });
    await api('POST', '/v3/connectors', { provider: 'microsoft', settings: { client_id: entra.clientId, client_secret: entra.clientSecret } });
    await api('POST', '/v3/applications/redirect-uris', { url: APP_REDIRECT });
    const applicationId = ((await (await api('GET', '/v3/applications')).json()) as { data: { application_id: string } }).data.application_id;
    const setupStart = performance.now();
    const mails: string[] = [];
    const authOne = async (mail: string) => {
      const q = new URLSearchParams({ client_id: applicationId, provider: 'microsoft', redirect_uri: APP_REDIRECT, response_type: 'code', login_hint: mail });
      const start = await api('GET', `/v3/connect/auth?${q}`);
      const consent = sb.control.approve(String(start.headers.get('location')), { username: mail });
      const back = await fetch(consent.location!, { redirect: 'manual' });
      const code = new URL(String(back.headers.get('location'))).searchParams.get('code')!;
      const tok = await fetch(`${publicUrl}/v3/connect/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: applicationId, client_secret: key }).toString() });
      if (tok.status !== 200) throw new Error(`token ${tok.status}: ${await tok.text()}`);
    };
    for (let i = 0; i < GRANTS; i += 8) {
      const batch = Array.from({ length: Math.min(8, GRANTS - i) }, (_, j) => `user${i + j}@contoso.com`);
      for (const m of batch) sb.control.createUser({ mail: m });
      await Promise.all(batch.map(authOne));
      mails.push(...batch);
    }
    const authSecs = (performance.now() - setupStart) / 1000;
    for (let i = 0; sb.control.listSubscriptions().length < GRANTS; i++) {
      if (i > 1800) throw new Error(`only ${sb.control.listSubscriptions().length} subscriptions after 180 s`);
      await sleep(100);
    }
    const readySecs = (performance.now() - setupStart) / 1000;
    console.log(`  ${GRANTS} grants through hosted auth in ${authSecs.toFixed(1)} s (${(GRANTS / authSecs).toFixed(0)}/s); all syncing with a Graph subscription after ${readySecs.toFixed(1)} s`);
    await sleep(5000); // let the first passes settle
    const samples: { rss: number; cpuMs: number; at: number }[] = [];
    let sent = 0;
    const started = performance.now();
    const apiRss: number[] = [];
    const sampler = setInterval(() => {
      samples.push({ ...usage(child.pid!), at: performance.now() });
      apiRss.push(usage(apiChild.pid!).rss);
    }, 1000);
    while (performance.now() - started < STEADY_S * 1000) {
      sb.control.deliverMail(mails[Math.floor(Math.random() * mails.length)]!, { from: 'load@example.com', subject: `steady ${sent}`, html: '<p>load</p>' });
      sent++;
      await sleep(1000 / RATE);
    }
    clearInterval(sampler);
    const store = await openPostgres(pgUrl, 2);
    let events = 0;
    for (let i = 0; i < 100; i++) {
      const row = await sql<{ n: string }>`select count(*) as n from events where type = 'message.created'`.execute(store.db);
      events = Number(row.rows[0]?.n ?? 0);
      if (events >= sent) break;
      await sleep(100);
    }
    await store.close();
    const rss = samples.map((x) => x.rss).sort((a, b) => a - b);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const cpu = ((last.cpuMs - first.cpuMs) / (last.at - first.at)) * 100;
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MB`;
    console.log(`  steady state, ${STEADY_S} s at ${RATE} msg/s across ${GRANTS} grants (fallback pass every 5 min per grant, notifications on):`);
    console.log(`    worker: RSS median ${mb(percentile(rss, 50))}, max ${mb(rss[rss.length - 1]!)} (same process idle, before any grant: ${mb(idle.rss)}); CPU ${cpu.toFixed(1)} % of one core`);
    console.log(`    api (hosted auth + notifications): RSS median ${mb(percentile(apiRss.sort((a, b) => a - b), 50))}`);
    console.log(`    ${sent} messages delivered → ${events} message.created events${events === sent ? ' (none lost, none doubled)' : ' (MISMATCH)'}`);
  } finally {
    await t.stop();
    await sb.close();
  }
}

async function backfill(store: Store): Promise<void> {
  const sb = await startMicrosoftSandbox();
  const s = await startTributary(store, sb, { TRIBUTARY_FALLBACK_SYNC_MS: '600000' });
  // Count what the sync sessions ask Graph (they use the global fetch).
  const realFetch = globalThis.fetch;
  let requests = 0;
  let throttled = 0;
  globalThis.fetch = async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const res = await realFetch(input, init);
    if (url.startsWith(sb.graphUrl)) {
      requests++;
      if (res.status === 429) throttled++;
    }
    return res;
  };
  try {
    await connectMicrosoft(s, sb);
    const patched = await s.app.inject({ method: 'PATCH', url: '/v3/connectors/microsoft', headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' }, payload: JSON.stringify({ settings: { backfill_days: 30 } }) });
    if (patched.statusCode !== 200) throw new Error(patched.body);
    const user = 'history@contoso.com';
    sb.control.createUser({ mail: user });
    const base = Date.now() - 20 * 86_400_000;
    const seeded = performance.now();
    for (let i = 0; i < BACKFILL; i++) {
      sb.control.deliverMail(user, { from: 'archive@example.com', subject: `historic ${i}`, html: `<p>message ${i} of the import</p>`, receivedDateTime: new Date(base + Math.floor(i / 20) * 1000).toISOString() });
    }
    const seedSecs = (performance.now() - seeded) / 1000;
    const started = performance.now();
    const grantId = await hostedAuth(s, sb, user);
    const scheduler = await startSync(s.ctx, 'bench', { startSpreadMs: 0 });
    try {
      let events = 0;
      const limit = Math.max(120_000, BACKFILL * 10);
      for (;;) {
        const row = await sql<{ n: string }>`select count(*) as n from events where grant_id = ${grantId} and source = '/microsoft/emails/historic'`.execute(store.db);
        events = Number(row.rows[0]?.n ?? 0);
        if (events >= BACKFILL || performance.now() - started > limit) break;
        await sleep(250);
      }
      const secs = (performance.now() - started) / 1000;
      console.log(`  ${BACKFILL} historic messages seeded in ${seedSecs.toFixed(1)} s; grant → ${events} historic events in ${secs.toFixed(1)} s (${(events / secs).toFixed(0)} messages/s)${events === BACKFILL ? '' : ' (INCOMPLETE)'}`);
      console.log(`  ${requests} Graph requests (${(requests / Math.max(1, events)).toFixed(3)} per message, ${throttled} answered 429); Outlook allows 10,000 per 10 minutes per mailbox`);
    } finally {
      await scheduler.stop();
    }
  } finally {
    globalThis.fetch = realFetch;
    await s.app.close();
    await sb.close();
  }
}

async function latencyPart(pgUrl: string, liteDir: string): Promise<void> {
  console.log(`\n1. notification → committed message.created, ${MESSAGES} messages one at a time, one grant`);
  const liteStore = await openPGlite(liteDir);
  const lite = await latency('PGlite', liteStore);
  await liteStore.close();
  const pgStore = await openPostgres(pgUrl);
  const pgl = await latency('PostgreSQL', pgStore);
  await pgStore.close();
  console.log(`  p50 ratio PostgreSQL / PGlite: ${(percentile(pgl, 50) / percentile(lite, 50)).toFixed(2)}`);
}

async function main(): Promise<void> {
  console.log(`bench:microsoft — ${machineLine()}`);
  const pg = await startPostgres();
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-lite-'));
  try {
    const admin = await openPostgres(pg.url());
    await sql`CREATE DATABASE bench_latency`.execute(admin.db);
    await sql`CREATE DATABASE bench_scale`.execute(admin.db);
    await sql`CREATE DATABASE bench_backfill`.execute(admin.db);
    await admin.close();
    if (PARTS.includes('1')) await latencyPart(pg.url('bench_latency'), dir);
    if (PARTS.includes('2')) {
      console.log(`\n2. one \`tributary worker\` process on PostgreSQL with ${GRANTS} grants (+ one \`tributary api\` process)`);
      await scale(pg.url('bench_scale'));
    }
    if (PARTS.includes('3')) {
      console.log(`\n3. backfill of ${BACKFILL} historic messages, one grant, PostgreSQL`);
      const store = await openPostgres(pg.url('bench_backfill'));
      await backfill(store);
      await store.close();
    }
  } finally {
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
