/**
 * bench:imap-cpu — what each new IMAP message costs this process's CPU on its way into the event
 * log, in µs per message (process.cpuUsage, user + system), against Debian's Dovecot on loopback:
 *  1. the plug-in's whole pass (metadata FETCH, body FETCHes, events built) over the mailbox;
 *  2. a raw imapflow FETCH of the same items (what imapflow alone costs, for comparison);
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
import { toMessageEvent, type FetchedMessage, type MessageContext } from '../src/providers/imap/to-events.js';
import { Dovecot } from '../test/helpers/dovecot.js';
import { benchMailbox, drainPasses } from './imap-fixtures.js';
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

  const imap = getProvider('imap')!;
  const settings = { imap_host: dovecot.host, imap_port: dovecot.port, imap_security: 'none', backfill_days: 36500 };
  const handle: GrantHandle = { id: 'grant-cpu', applicationId: 'app-cpu', email: 'cpu@bench.test', credentials: { username: user, password: 'pw' }, settings, integration: { id: 'int-cpu', clientId: null, clientSecret: null, settings: {}, scope: [] }, createdAt: new Date() };
  const pass: number[] = [];
  const passWall: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const session = await imap.open(handle, { logger: silent, now: () => new Date(), fetch, urls: {}, saveCredentials: async () => {} });
    const cursor = await session.baseline();
    let n = 0;
    const m = await cpuPerMessage(MESSAGES, async () => {
      n = await drainPasses(session, cursor);
    });
    await session.close();
    if (n !== MESSAGES) throw new Error(`the pass produced ${n} events, expected ${MESSAGES}`);
    pass.push(m.us);
    passWall.push(m.wallMs);
  }

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
  console.log(`  plug-in pass: FETCHes + events built          ${f(pass)}   (${(MESSAGES / (median(passWall) / 1000)).toFixed(0)} msg/s wall)`);
  console.log(`  raw imapflow FETCH of the metadata alone      ${f(rawFetch)}`);
  console.log(`  replay: toMessageEvent                        ${f(build)}`);
  console.log(`  replay: insertEventsSql encoded               ${f(encode)}`);
} finally {
  await dovecot.destroy();
}
