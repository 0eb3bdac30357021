import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseKeyRing } from '../../src/crypto/keyring.js';
import { createSealer } from '../../src/crypto/sealing.js';
import { registryCatalog } from '../../src/delivery/registry-catalog.js';
import { streamLease, type StreamRow } from '../../src/delivery/stream-store.js';
import { streamService } from '../../src/delivery/streams.js';
import { appendEvents } from '../../src/event-log/append.js';
import { createLogger } from '../../src/observability/logger.js';
import { openPostgres } from '../../src/store/index.js';
import { migrate } from '../../src/store/migrate.js';
import { createRepositories } from '../../src/store/repositories/index.js';
import { createTestDatabase, TEST_KEYS } from '../helpers/context.js';
import { spawnTributary, type TributaryProcess } from '../helpers/process.js';
import { message, until } from './helpers.js';
import { Receiver } from './receiver.js';

describe('stream runner takeover between two worker processes (PostgreSQL)', () => {
  it('one runner per stream; after kill -9 of the holder the other process takes over within seconds and nothing is lost', async () => {
    const databaseUrl = await createTestDatabase();
    const store = await openPostgres(databaseUrl, 4);
    await migrate(store);
    const sealer = createSealer(parseKeyRing(TEST_KEYS));
    const repos = createRepositories(store, sealer);
    const { app } = await repos.applications.ensureDefault('local');
    const rx = await new Receiver().start();
    const svc = streamService({ db: store.db, sealer, catalog: registryCatalog, now: () => new Date(), logger: createLogger('silent'), allowPrivateAddresses: true, dataDir: '/nonexistent' });
    const streams: StreamRow[] = [];
    for (let i = 0; i < 3; i++) {
      streams.push(await svc.create(app.id, { name: `s${i}`, dataTypes: ['message.created'], destination: { type: 'webhook', config: { url: rx.url, secret: `secret-${i}-0123456789abcdef` } } }));
    }
    const env = { DATABASE_URL: databaseUrl, TRIBUTARY_SECRET_KEYS: TEST_KEYS, TRIBUTARY_DATA_DIR: '/nonexistent-data-dir', TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS: 'true' };
    const workers: TributaryProcess[] = [spawnTributary(['worker'], env), spawnTributary(['worker'], env)];
    // Which stream a delivery came from: the secret it was signed with.
    const streamOf = (body: string, signature: string) =>
      streams.find((_, i) => createHmac('sha256', `secret-${i}-0123456789abcdef`).update(body).digest('hex') === signature)?.id ?? 'unknown';
    const received = () => {
      const perStream = new Map<string, string[]>();
      for (const p of rx.posts()) {
        const stream = streamOf(p.body, String(p.headers['x-nylas-signature']));
        perStream.set(stream, [...(perStream.get(stream) ?? []), (JSON.parse(p.body) as { id: string }).id]);
      }
      return perStream;
    };

    let n = 0;
    const grantOf = (k: number) => `g${k % 5}`;
    const append = async (count: number) => {
      const batch = Array.from({ length: count }, () => {
        const k = n++;
        return message(`tk-${k}`, grantOf(k));
      });
      await appendEvents(store.db, app.id, batch);
    };
    try {
      await Promise.all(workers.map((w) => w.waitForOutput(/\(worker\) is running/, 45_000)));
      await append(20);
      await until('first events everywhere', () => streams.every((s) => (received().get(s.id)?.length ?? 0) >= 20), 30_000);

      // Exactly one holder per stream; find the process holding the first stream.
      const leases = await repos.leases.list('stream:');
      expect(leases.map((l) => l.name).sort()).toEqual(streams.map((s) => streamLease(s.id)).sort());
      const holder = leases.find((l) => l.name === streamLease(streams[0]!.id))!.holder;
      const pid = Number(holder.split(':')[1]);
      const victim = workers.find((w) => w.child.pid === pid)!;
      const survivor = workers.find((w) => w !== victim)!;
      expect(victim).toBeTruthy();

      // Keep appending while the holder dies.
      const appending = (async () => {
        for (let i = 0; i < 10; i++) {
          await append(5);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await new Promise((r) => setTimeout(r, 300));
      victim.child.kill('SIGKILL');
      const killedAt = Date.now();
      await victim.exited;
      // The survivor holds every stream's lease within one lease TTL (6 s) plus a scan (1 s).
      await until('survivor holds every lease', async () => {
        const held = await repos.leases.list('stream:');
        return held.length === streams.length && held.every((l) => l.holder.includes(`:${survivor.child.pid}:`) && l.expires_at.getTime() > Date.now());
      }, 20_000);
      const leaseTakeoverMs = Date.now() - killedAt;
      expect(leaseTakeoverMs).toBeLessThan(10_000);
      await appending;
      await append(10);
      const total = n;
      await until(
        'every event at every stream after takeover',
        () => streams.every((s) => new Set(received().get(s.id)).size === total),
        30_000,
      );
      const takeoverMs = Date.now() - killedAt;
      expect(takeoverMs).toBeLessThan(15_000);
      const after = await repos.leases.list('stream:');
      expect(new Set(after.map((l) => l.holder))).toEqual(new Set([after[0]!.holder]));
      expect(after[0]!.holder).toContain(`:${survivor.child.pid}:`);
      // Per grant, first deliveries follow log order (a takeover may repeat some, never reorder).
      for (const s of streams) {
        const firstSeen = [...new Set(received().get(s.id))].map((id) => Number(id.slice(3)));
        expect(firstSeen).toHaveLength(total);
        for (let g = 0; g < 5; g++) {
          const mine = firstSeen.filter((k) => grantOf(k) === `g${g}`);
          expect(mine).toEqual([...mine].sort((a, b) => a - b));
        }
      }
    } finally {
      const codes = await Promise.all(workers.map((w) => w.kill()));
      await rx.stop();
      await store.close();
      const outputs = workers.map((w) => w.output()).join('\n');
      expect(outputs).not.toMatch(/"level":50/);
      expect(codes.filter((c) => c === 0).length).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);
});
