/**
 * bench:imap-cpu — what each new IMAP message costs this process's CPU on its way into the event
 * log, in µs per message (process.cpuUsage, user + system), against Debian's Dovecot on loopback:
 *  1. the plug-in's whole pass (metadata FETCH, body FETCHes, events built) over the mailbox,
 *     imapflow only and with the bulk reader, alternating; and what one bulk connection costs;
 *  2. a raw imapflow FETCH of the same items (what imapflow alone costs, for comparison), and
 *     the same FETCH through the lean bulk reader (ADR 0511), over the network and replayed
 *     from the captured bytes;
 *  3. replayed from memory, without the network: building the events (`toMessageEvent`) and
 *     encoding the append INSERT (`insertEventsSql`, compiled, not executed).
 * CPU time, unlike throughput, barely depends on what else the machine runs; the figures are
 * still medians of --runs passes. Usage: npm run bench:imap-cpu [-- --messages 10000 --runs 5]
 */
import type { FetchMessageObject } from 'imapflow';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import type { NewEvent } from '../src/domain/event.js';
import { insertEventsSql } from '../src/event-log/append.js';
import type { GrantHandle } from '../src/providers/provider.js';
import { pickBodyPart } from '../src/providers/imap/mime.js';
import { getProvider } from '../src/providers/registry.js';
import { LeanImapConnection } from '../src/providers/imap/lean-connection.js';
import { bulkReader } from '../src/providers/imap/sync.js';
import { ResponseFramer } from '../src/providers/imap/lean-frame.js';
import { fetchedOf } from '../src/providers/imap/lean-message.js';
import { parseResponse } from '../src/providers/imap/lean-response.js';
import { BODY_FETCH_CAP } from '../src/providers/imap/to-events.js';
import { connect as netConnect } from 'node:net';
import { toMessageEvent, type FetchedMessage, type MessageContext } from '../src/providers/imap/to-events.js';
import { Dovecot } from '../test/helpers/dovecot.js';
import { benchMailbox, drainPasses } from './imap-fixtures.js';
import { cpuSample, imapBenchGroups } from './cpu-meter.js';
import { machineLine } from './machine.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg('messages', 10_000);
const RUNS = arg('runs', 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const FETCH_META = { uid: true, flags: true, envelope: true, bodyStructure: true, internalDate: true, headers: ['references'] };

/** CPU µs per message of `work` (which handles `count` messages), and its wall time. */
async function cpuPerMessage(count: number, work: () => Promise<void> | void): Promise<{ us: number; wallMs: number }> {
  global.gc?.();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await work();
  const c = process.cpuUsage(c0);
  return { us: (c.user + c.system) / count, wallMs: performance.now() - t0 };
}

/** The raw bytes Dovecot sends for the metadata FETCH of the whole mailbox (for the lean replay). */
async function captureMetaFetch(port: number, user: string, pass: string): Promise<Buffer> {
  const socket = netConnect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`a LOGIN "${user}" "${pass}"\r\nb EXAMINE INBOX\r\nc UID FETCH 1:* (UID FLAGS BODYSTRUCTURE ENVELOPE INTERNALDATE BODY.PEEK[HEADER.FIELDS (REFERENCES)])\r\nd LOGOUT\r\n`);
  await new Promise((resolve) => socket.once('close', resolve));
  const all = Buffer.concat(chunks);
  // From the first FETCH row to the FETCH's completion.
  const start = all.indexOf('\r\n* 1 FETCH') + 2;
  const end = all.indexOf('\r\nc OK') + 2;
  return all.subarray(start, end);
}

/**
 * CPU time (ms) Dovecot has used so far: its processes, live and reaped (bench/cpu-meter.ts).
 * /proc counts in clock ticks (10 ms), so only long spans are meaningful.
 */
const dovecotCpuMs = (): number => Math.round((cpuSample(imapBenchGroups({})).groups.get('Dovecot') ?? 0) * 1000);

/** Compiles statements as for PostgreSQL without a connection. */
const compiler = new Kysely<unknown>({ dialect: { createAdapter: () => new PostgresAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (db) => new PostgresIntrospector(db), createQueryCompiler: () => new PostgresQueryCompiler() } });

const dovecot = await Dovecot.start();
try {
  console.log(machineLine());
  const user = 'cpu';
  dovecot.addUser(user, 'pw');
  dovecot.writeMessages(user, benchMailbox(MESSAGES));
  const client = await dovecot.client(user, 'pw');
  await client.mailboxOpen('INBOX');
  // Warm-up (Dovecot indexes the Maildir on first access) and the replay's input.
  const metas: FetchMessageObject[] = await client.fetchAll('1:*', FETCH_META, { uid: true });
  const bodies = new Map<number, Buffer>();
  for (const m of metas) {
    const choice = pickBodyPart(m.bodyStructure);
    if (!choice) continue;
    const row = await client.fetchOne(String(m.uid), { uid: true, bodyParts: [choice.section] }, { uid: true });
    const buf = row ? row.bodyParts?.values().next().value : undefined;
    if (buf) bodies.set(m.uid, buf);
  }

  const rawFetch: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    rawFetch.push((await cpuPerMessage(MESSAGES, async () => void (await client.fetchAll('1:*', FETCH_META, { uid: true })))).us);
  }
  await client.logout();

  const leanSettings = { host: dovecot.host, port: dovecot.port, security: 'none' as const, username: user, password: 'pw' };
  const limits = { maxLiteral: 2 * BODY_FETCH_CAP, idleTimeoutMs: 60_000 };
  const leanFetch: number[] = [];
  const { conn } = await LeanImapConnection.open(leanSettings, 'INBOX', { logger: silent }, limits);
  for (let r = 0; r < RUNS; r++) {
    leanFetch.push((await cpuPerMessage(MESSAGES, async () => void (await conn.fetchMeta('1:*')))).us);
  }
  await conn.logout();
  const captured = await captureMetaFetch(dovecot.port, user, 'pw');
  const leanReplay: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let rows = 0;
    leanReplay.push(
      (
        await cpuPerMessage(MESSAGES, () => {
          const framer = new ResponseFramer({ maxLine: 4 << 20, maxLiteral: limits.maxLiteral, maxResponse: 8 << 20 });
          // Socket-sized chunks, as the connection receives them.
          for (let i = 0; i < captured.length; i += 65_536) {
            framer.push(captured.subarray(i, i + 65_536), (b) => {
              const res = parseResponse(b);
              if (res.kind === 'fetch') {
                fetchedOf(res.row);
                rows++;
              }
            });
          }
        })
      ).us,
    );
    if (rows !== MESSAGES) throw new Error(`the replay read ${rows} rows, expected ${MESSAGES}`);
  }

  const imap = getProvider('imap')!;
  const settings = { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none', backfill_days: 36500 };
  const handle: GrantHandle = { id: 'grant-cpu', applicationId: 'app-cpu', email: 'cpu@bench.test', credentials: { username: user, password: 'pw' }, settings, integration: { id: 'int-cpu', clientId: null, clientSecret: null, settings: {}, scope: [] }, createdAt: new Date() };
  const pass: number[] = [];
  const passWall: number[] = [];
  const flowPass: number[] = [];
  const flowPassWall: number[] = [];
  const serverMs = { flow: [] as number[], bulk: [] as number[] };
  const onePass = async (bulk: boolean, cpu: number[], wall: number[]) => {
    bulkReader.minUids = bulk ? defaultMinUids : Infinity;
    const session = await imap.open(handle, { logger: silent, now: () => new Date(), fetch, urls: {}, saveCredentials: async () => {} });
    const cursor = await session.baseline();
    let n = 0;
    const server0 = dovecotCpuMs();
    const m = await cpuPerMessage(MESSAGES, async () => {
      n = await drainPasses(session, cursor);
    });
    serverMs[bulk ? 'bulk' : 'flow'].push(dovecotCpuMs() - server0);
    await session.close();
    if (n !== MESSAGES) throw new Error(`the pass produced ${n} events, expected ${MESSAGES}`);
    cpu.push(m.us);
    wall.push(m.wallMs);
  };
  // Alternating, so both see the same machine.
  const defaultMinUids = bulkReader.minUids;
  for (let r = 0; r < RUNS; r++) {
    await onePass(false, flowPass, flowPassWall);
    await onePass(true, pass, passWall);
  }
  bulkReader.minUids = defaultMinUids;

  // What one bulk connection costs this process: connect, LOGIN, EXAMINE, LOGOUT.
  const OPENS = 20;
  const openServer0 = dovecotCpuMs();
  const open = await cpuPerMessage(OPENS, async () => {
    for (let i = 0; i < OPENS; i++) await (await LeanImapConnection.open(leanSettings, 'INBOX', { logger: silent }, limits)).conn.logout();
  });
  await new Promise((r) => setTimeout(r, 500)); // the sessions' processes exit and are reaped
  const openServerMs = (dovecotCpuMs() - openServer0) / OPENS;

  const mctx: MessageContext = { applicationId: handle.applicationId, grantId: handle.id, folder: 'INBOX', uidValidity: '1', historic: true, now: () => new Date() };
  const fetched: FetchedMessage[] = metas.map((m) => ({ uid: m.uid, flags: m.flags, envelope: m.envelope, bodyStructure: m.bodyStructure, internalDate: m.internalDate, headers: m.headers }));
  let events: NewEvent[] = [];
  const build: number[] = [];
  const encode: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    build.push(
      (
        await cpuPerMessage(MESSAGES, () => {
          events = fetched.map((m) => toMessageEvent(m, pickBodyPart(m.bodyStructure), bodies.get(m.uid), mctx));
        })
      ).us,
    );
    encode.push(
      (
        await cpuPerMessage(MESSAGES, () => {
          for (let i = 0; i < events.length; i += 500) insertEventsSql(handle.applicationId, events.slice(i, i + 500)).compile(compiler);
        })
      ).us,
    );
  }
  const f = (xs: number[]) => median(xs).toFixed(1).padStart(8);
  console.log(`\n${MESSAGES} messages (${bodies.size} with a body part); CPU of this process, µs per message, median of ${RUNS}`);
  console.log(`  plug-in pass, imapflow only                   ${f(flowPass)}   (${(MESSAGES / (median(flowPassWall) / 1000)).toFixed(0)} msg/s wall)`);
  console.log(`  plug-in pass, bulk reader (ranges >= ${defaultMinUids})   ${f(pass)}   (${(MESSAGES / (median(passWall) / 1000)).toFixed(0)} msg/s wall; ${(median(flowPass) / median(pass)).toFixed(2)}× less CPU)`);
  console.log(`  one bulk connection (open, EXAMINE, LOGOUT)   ${(open.us / 1000).toFixed(2).padStart(8)} ms CPU; pays for itself after ~${Math.ceil(open.us / Math.max(1, median(flowPass) - median(pass)))} messages`);
  console.log(`  raw imapflow FETCH of the metadata alone      ${f(rawFetch)}`);
  console.log(`  lean reader FETCH of the metadata alone       ${f(leanFetch)}   (${(median(rawFetch) / median(leanFetch)).toFixed(1)}× cheaper)`);
  console.log(`  replay: lean parse of the captured FETCH      ${f(leanReplay)}`);
  console.log(`  replay: toMessageEvent                        ${f(build)}`);
  console.log(`  replay: insertEventsSql encoded               ${f(encode)}`);
  console.log(`\nDovecot's CPU (all its processes, 10 ms ticks): per pass imapflow only ${median(serverMs.flow)} ms, with the bulk reader ${median(serverMs.bulk)} ms; per bulk connection ${openServerMs.toFixed(1)} ms`);
} finally {
  await dovecot.destroy();
}
