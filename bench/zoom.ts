/**
 * `npm run bench:zoom` — Zoom transcripts end to end against the sandbox.
 *
 * 1. Latency: one grant made through hosted auth; 200 meetings of one hour end one at a time,
 *    each with a Zoom-style WebVTT transcript (900 cues, three speakers, ~75 KB). Measured from
 *    the sandbox sending `recording.transcript_completed` to the `conference.zoom.transcript`
 *    event being committed in the log — signature check, durable wake-up, the download with the
 *    download_token through the file-host redirect, parsing and the append. Embedded database and
 *    PostgreSQL, in this process.
 * 2. WebVTT parse rate: a 3-hour transcript parsed repeatedly, MB/s.
 *
 * Knobs: BENCH_MEETINGS (200), BENCH_PARTS (`1,2`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { parseVtt } from '../src/providers/zoom/vtt.js';
import { startZoomSandbox, type ZoomSandbox } from '../src/sandbox/zoom/index.js';
import { openPGlite, openPostgres, type Store } from '../src/store/index.js';
import { startSync } from '../src/sync/index.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { longVtt } from '../test/zoom/fixtures.js';
import { machineLine, percentile } from './machine.js';
import { APP_REDIRECT, startTributary, type BenchServer } from './microsoft-setup.js';

const MEETINGS = Number(process.env.BENCH_MEETINGS ?? 200);
const PARTS = (process.env.BENCH_PARTS ?? '1,2').split(',');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function call(s: BenchServer, url: string, body: unknown, auth = true) {
  const res = await s.app.inject({ method: 'POST', url, headers: { ...(auth ? { authorization: `Bearer ${s.key}` } : {}), 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return JSON.parse(res.body) as Record<string, unknown>;
}

/** Zoom app + integration + hosted auth for one user through the real routes; returns the grant id. */
async function connect(s: BenchServer, sb: ZoomSandbox, email: string): Promise<string> {
  const app = sb.control.createApp({ name: 'bench', redirectUris: [`${s.publicUrl}/v3/connect/callback`], eventUrl: `${s.publicUrl}/v3/providers/zoom/notifications` });
  await call(s, '/v3/connectors', { provider: 'zoom', settings: { client_id: app.clientId, client_secret: app.clientSecret, webhook_secret_token: app.secretToken } });
  await call(s, '/v3/applications/redirect-uris', { url: APP_REDIRECT });
  sb.control.createUser({ email });
  const q = new URLSearchParams({ client_id: s.applicationId, provider: 'zoom', redirect_uri: APP_REDIRECT, response_type: 'code', login_hint: email });
  const start = await s.app.inject({ method: 'GET', url: `/v3/connect/auth?${q}` });
  const consent = sb.control.approve(String(start.headers.location), { email });
  const cb = new URL(consent.location!);
  const back = await s.app.inject({ method: 'GET', url: cb.pathname + cb.search });
  const code = new URL(String(back.headers.location)).searchParams.get('code');
  const token = await call(s, '/v3/connect/token', { grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: s.applicationId, client_secret: s.key }, false);
  return String(token.grant_id);
}

async function transcripts(s: BenchServer, grantId: string): Promise<number> {
  const row = await s.ctx.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('grant_id', '=', grantId).where('type', '=', 'conference.zoom.transcript').executeTakeFirstOrThrow();
  return Number(row.n);
}

async function latency(label: string, store: Store): Promise<void> {
  const sb = await startZoomSandbox();
  const s = await startTributary(store, null, { TRIBUTARY_ZOOM_URL: sb.url, TRIBUTARY_FALLBACK_SYNC_MS: '600000' });
  const scheduler = await startSync(s.ctx, 'bench', { startSpreadMs: 0 });
  try {
    const grantId = await connect(s, sb, 'bench@zoom.test');
    const vtt = longVtt(60);
    const samples: number[] = [];
    for (let i = 0; i < MEETINGS; i++) {
      const started = performance.now();
      sb.control.finishMeeting({ user: 'bench@zoom.test', topic: `Meeting ${i}`, transcript: vtt, durationMinutes: 60 });
      // One row at a time: poll the log until this meeting's event is committed.
      while ((await transcripts(s, grantId)) < i + 1) {
        if (performance.now() - started > 30_000) throw new Error(`meeting ${i}: no transcript event after 30 s`);
        await sleep(1);
      }
      samples.push(performance.now() - started);
    }
    await sleep(500);
    const total = await transcripts(s, grantId);
    samples.sort((a, b) => a - b);
    console.log(`  ${label}: webhook → event committed over ${MEETINGS} one-hour transcripts (${(Buffer.byteLength(vtt) / 1024).toFixed(0)} KB each): p50 ${ms(percentile(samples, 50))}, p99 ${ms(percentile(samples, 99))}, max ${ms(samples.at(-1)!)}; events ${total} (expected ${MEETINGS})`);
  } finally {
    await scheduler.stop();
    await s.app.close();
    await sb.close();
  }
}

function parseRate(): void {
  const vtt = longVtt(180);
  const bytes = Buffer.byteLength(vtt);
  for (let i = 0; i < 5; i++) parseVtt(vtt); // warm-up
  const runs = 50;
  const started = performance.now();
  let segments = 0;
  for (let i = 0; i < runs; i++) segments += parseVtt(vtt).segments.length;
  const s = (performance.now() - started) / 1000;
  console.log(`  WebVTT parse: 3-hour transcript (${(bytes / 1024).toFixed(0)} KB, ${segments / runs} cues) × ${runs}: ${((bytes * runs) / 2 ** 20 / s).toFixed(1)} MB/s, ${((segments / s) / 1000).toFixed(0)}k cues/s`);
}

async function main(): Promise<void> {
  console.log(machineLine());
  if (PARTS.includes('1')) {
    console.log('1. latency');
    const dir = mkdtempSync(join(tmpdir(), 'bench-zoom-'));
    try {
      const store = await openPGlite(join(dir, 'db'));
      await latency('embedded (PGlite)', store);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const pg = await startPostgres();
    try {
      const admin = await openPostgres(pg.url());
      await sql`CREATE DATABASE bench_zoom`.execute(admin.db);
      await admin.close();
      const store = await openPostgres(pg.url('bench_zoom'));
      await latency('PostgreSQL', store);
      await store.close();
    } finally {
      pg.stop();
    }
  }
  if (PARTS.includes('2')) {
    console.log('2. parse');
    parseRate();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
