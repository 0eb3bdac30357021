/**
 * bench:imap-commit — what one committed batch of the IMAP sync costs, alone: `commitBatch` of
 * 500 mail-sized events (about 12 KB of JSON each, like the bench mailbox's) on PostgreSQL, one
 * after another as the engine commits them. Prints wall ms per batch beside PostgreSQL's and this
 * process's CPU ms per batch, i.e. how much of a commit is the database working and how much is
 * waiting or our encoding.
 * Usage: node --import tsx bench/imap-commit.ts [-- --batches 20]
 */
import { randomBytes } from 'node:crypto';
import type { NewEvent } from '../src/domain/event.js';
import { commitBatch } from '../src/sync/outbox.js';
import { grantLeaseName } from '../src/sync/leases.js';
import { seedGrants } from '../test/helpers/grants.js';
import { startPostgres } from '../test/helpers/postgres-server.js';
import { benchContext } from './e2e/harness.js';
import { cpuSample, imapBenchGroups } from './cpu-meter.js';
import { machineLine } from './machine.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const BATCHES = arg('batches', 20);
const SIZE = 500;
const WORDS = 'the quick brown fox jumps over lazy dog mail stream event grant folder inbox report quarterly meeting notes draft review'.split(' ');

function event(grantId: string, n: number): NewEvent {
  const text = Array.from({ length: 1200 }, (_, i) => WORDS[(i * 7 + n) % WORDS.length]).join(' ');
  return {
    id: `ev-${randomBytes(8).toString('hex')}`,
    type: 'message.created',
    source: '/imap/emails/historic',
    time: 1_780_000_000 + n,
    grantId,
    provider: 'imap',
    object: { id: `m-${n}`, grant_id: grantId, subject: `Bench message ${n}`, from: [{ name: 'Sender', email: 'sender@bench.test' }], to: [{ email: 'rcpt@bench.test' }], snippet: text.slice(0, 200), body: `<html><body><p>${text}</p></body></html>`, folders: ['INBOX'], unread: true },
  };
}

const pg = await startPostgres();
const ctx = await benchContext(pg.url());
try {
  console.log(machineLine());
  const { grants } = await seedGrants(ctx, 1, { settings: {} });
  const g = grants[0]!;
  const lease = await ctx.repos.leases.acquire(grantLeaseName(g.id), 'bench', 600_000);
  const held = { name: grantLeaseName(g.id), holder: 'bench', token: lease!.token };
  const batches = Array.from({ length: BATCHES + 2 }, (_, b) => Array.from({ length: SIZE }, (_, i) => event(g.id, b * SIZE + i)));
  // Two warm-up batches (plans, caches), then the measured ones.
  for (const events of batches.slice(0, 2)) await commitBatch(ctx.store.db, held, { id: g.id, applicationId: g.application_id }, { events, cursor: { n: 0 } });
  const groups = imapBenchGroups({});
  const a = cpuSample(groups, [pg.pid()]);
  const c0 = process.cpuUsage();
  const walls: number[] = [];
  for (const [k, events] of batches.slice(2).entries()) {
    const t = performance.now();
    await commitBatch(ctx.store.db, held, { id: g.id, applicationId: g.application_id }, { events, cursor: { n: k } });
    walls.push(performance.now() - t);
  }
  const b = cpuSample(groups, [pg.pid()]);
  const c = process.cpuUsage(c0);
  const pgMs = ((b.groups.get('PostgreSQL') ?? 0) - (a.groups.get('PostgreSQL') ?? 0)) * 1000;
  const sorted = [...walls].sort((x, y) => x - y);
  const bytes = JSON.stringify(batches[2]).length;
  console.log(`commitBatch of ${SIZE} events (${(bytes / SIZE / 1024).toFixed(1)} KB of JSON each), ${BATCHES} batches one after another:`);
  console.log(`  wall per batch: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms (min ${sorted[0]!.toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)}); PostgreSQL CPU ${(pgMs / BATCHES).toFixed(1)} ms per batch; this process ${((c.user + c.system) / 1000 / BATCHES).toFixed(1)} ms per batch`);
} finally {
  await ctx.store.close();
  pg.stop();
}
