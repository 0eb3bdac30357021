import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafkaProxy, type KafkaProxy } from '../../../test/helpers/kafka-proxy.js';
import { startKafkaMock, type KafkaMock, type KafkaRecord } from '../../../test/helpers/kafka.js';
import type { StoredEvent } from '../../domain/event.js';
import { eventRange, grantEvent, messageCreated } from '../conformance/events.js';
import { runConformance, testContext, type Received } from '../conformance/suite.js';
import { kafkaDestination } from './definition.js';
import type { KafkaConfig } from './writer.js';

const signal = () => new AbortController().signal;
// The mock's controller id matches no broker, so the idempotent producer cannot start against
// it (see docs/destinations/kafka.md); its configuration is covered by client.test.ts.
const base = (brokers: string, topic: string): KafkaConfig => ({ brokers, topic, idempotent: false });

const asReceived = (r: KafkaRecord): Received => ({ id: r.headers.id ?? '', grantId: r.key, content: r.payload ?? '' });

/** A grant event over 1 MB: no truncated form, so the destination refuses it. */
function hugeGrantEvent(prefix: string): StoredEvent {
  const e = grantEvent(9_999, { prefix });
  return { ...e, id: `${prefix}-evt-huge`, object: { ...e.object, note: 'x'.repeat(1_100_000) } };
}

// The conformance receiver: a two-broker mock behind a proxy that can stall one partition.
let shared: Promise<{ mock: KafkaMock; proxy: KafkaProxy }> | null = null;
const sharedCluster = () =>
  (shared ??= (async () => {
    const mock = await startKafkaMock({ brokers: 2 });
    return { mock, proxy: await startKafkaProxy(mock.brokers) };
  })());
afterAll(async () => {
  const s = await shared;
  await s?.proxy.close();
  await s?.mock.close();
});

runConformance<KafkaConfig>('kafka', {
  definition: kafkaDestination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 'kafkaDestination',
  // Records of one grant share a partition; the read-back lists each partition by offset.
  orderVisible: true,
  async open() {
    const { mock, proxy } = await sharedCluster();
    // A stalled partition's requests time out: keep that short so the partial-result case stays quick.
    const config = { ...base(proxy.bootstrap, 'conformance'), request_timeout_ms: 3_000, retries: 1 };
    // Read back straight from the brokers, with an independent client.
    return { config, readBack: async (prefix) => (await mock.read('conformance')).map(asReceived).filter((r) => r.id.startsWith(prefix)) };
  },
  close: async () => undefined,
  rejectable: hugeGrantEvent,
  failingConfig: () => ({ brokers: '127.0.0.1:1', topic: 'none', idempotent: false, retries: 1, sasl_mechanism: 'plain', sasl_username: 'trb', sasl_password: 'pw-sentinel-kafka-41aa' }),
  // The partition of the batch's first Produce request hangs (its leader never answers); the
  // batch's other partitions are served. Its grants are reported failed, the rest lands.
  partialFailure: { provoke: async () => (await sharedCluster()).proxy.stallNextPartition(), heal: async () => (await sharedCluster()).proxy.heal() },
});

describe('kafka destination specifics', () => {
  let mock: KafkaMock;
  beforeAll(async () => {
    mock = await startKafkaMock();
  });
  afterAll(() => mock.close());

  it('key = grant id, value = the CloudEvents JSON, headers carry the attributes; a grant stays in one partition', async () => {
    const w = kafkaDestination.create(base(mock.bootstrap, 'shape'), testContext());
    const events = eventRange(0, 40, { prefix: 'shape', grants: 8 });
    expect(await w.write(events, signal(), 1)).toEqual({ rejected: [] });
    await w.close();
    const got = await mock.read('shape');
    expect(got).toHaveLength(40);
    const first = got.find((r) => r.headers.id === events[0]!.id)!;
    expect(first.key).toBe(events[0]!.grantId);
    expect(first.headers).toEqual({ type: 'message.created', id: events[0]!.id, grant_id: events[0]!.grantId, application_id: 'app_conformance', source: '/imap/emails/realtime' });
    expect(JSON.parse(first.payload!)).toMatchObject({ specversion: '1.0', id: events[0]!.id, type: 'message.created' });
    const partitionsOf = new Map<string, Set<number>>();
    for (const r of got) partitionsOf.set(r.key!, (partitionsOf.get(r.key!) ?? new Set()).add(r.partition));
    for (const [grant, ps] of partitionsOf) expect(ps.size, grant).toBe(1);
    expect(new Set(got.map((r) => r.partition)).size, 'grants spread over the 4 partitions').toBeGreaterThan(1);
  });

  it('a message.created over max_message_bytes is sent truncated; an event that cannot shrink is refused', async () => {
    const w = kafkaDestination.create({ ...base(mock.bootstrap, 'sizes'), max_message_bytes: 100_000 }, testContext());
    const big = messageCreated(1, { prefix: 'sizes', bodyBytes: 200_000 });
    const huge = hugeGrantEvent('sizes');
    const result = await w.write([big, huge], signal(), 1);
    await w.close();
    expect(result.rejected).toEqual([{ id: huge.id, reason: expect.stringContaining('max_message_bytes') as string, status: 413 }]);
    const [r] = await mock.read('sizes');
    expect(r!.headers.type).toBe('message.created.truncated');
    expect((JSON.parse(r!.payload!) as { data: { object: Record<string, unknown> } }).data.object.body).toBeUndefined();
  });

  it('a hung broker, then back: what was not acknowledged is reported failed, nothing is lost, order holds', { timeout: 120_000 }, async () => {
    const w = kafkaDestination.create({ ...base(mock.bootstrap, 'outage'), request_timeout_ms: 1_500, retries: 1 }, testContext());
    const events = eventRange(0, 300, { prefix: 'outage', grants: 6 });
    expect((await w.write(events.slice(0, 100), signal(), 1)).failed).toBeUndefined();
    mock.pause();
    let remaining = events.slice(100);
    const during = await w.write(remaining, signal(), 1);
    expect(during.failed?.length, 'writes to a hung broker must report failures').toBeGreaterThan(0);
    mock.resume();
    remaining = remaining.filter((e) => (during.failed ?? []).some((f) => f.id === e.id));
    for (let attempt = 2; remaining.length && attempt < 20; attempt += 1) {
      const failed = new Set(((await w.write(remaining, signal(), attempt)).failed ?? []).map((f) => f.id));
      remaining = remaining.filter((e) => failed.has(e.id));
    }
    await w.close();
    expect(remaining).toEqual([]);
    const got = (await mock.read('outage')).map(asReceived);
    expect(new Set(got.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)));
    const pos = new Map(events.map((e, i) => [e.id, i]));
    const seen = new Set<string>();
    const last = new Map<string, number>();
    for (const r of got) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      expect(pos.get(r.id)!, `order of ${r.grantId}`).toBeGreaterThan(last.get(r.grantId ?? '') ?? -1);
      last.set(r.grantId ?? '', pos.get(r.id)!);
    }
  });

  it('the fault proxy stands in front of every broker: the cluster it describes has only proxy ports', async () => {
    const { mock: cluster, proxy } = await sharedCluster();
    const admin = new kafkajs.Kafka({ brokers: [proxy.bootstrap], logLevel: kafkajs.logLevel.NOTHING }).admin();
    await admin.connect();
    const { brokers } = await admin.describeCluster();
    await admin.disconnect();
    expect(brokers).toHaveLength(2);
    for (const b of brokers) expect(cluster.brokers, `broker ${b.nodeId} is reached through its proxy`).not.toContain(`${b.host}:${b.port}`);
  });

  it('one partition stalls: exactly its grants are reported failed and none of them landed; the others landed; after healing the retry lands them', async () => {
    const { mock: cluster, proxy } = await sharedCluster();
    const w = kafkaDestination.create({ ...base(proxy.bootstrap, 'stall'), request_timeout_ms: 3_000, retries: 1 }, testContext());
    // Fixed grant ids: their partitions are the same every run, and 8 grants cover several of the 4.
    const events = eventRange(0, 80, { prefix: 'stall', grants: 8 });
    proxy.stallNextPartition();
    let first;
    try {
      first = await w.write(events, signal(), 1);
    } finally {
      proxy.heal();
    }
    const failed = new Set((first.failed ?? []).map((f) => f.id));
    const landed = new Set((await cluster.read('stall')).map((r) => r.headers.id));
    expect(proxy.stalled).not.toBeNull();
    expect(failed.size, 'the stalled partition shows in WriteResult.failed').toBeGreaterThan(0);
    expect(failed.size, 'healthy partitions are not reported failed').toBeLessThan(events.length);
    for (const e of events) expect(landed.has(e.id), `${e.id} landed iff it was not reported failed`).toBe(!failed.has(e.id));
    const retry = await w.write(
      events.filter((e) => failed.has(e.id)),
      signal(),
      2,
    );
    await w.close();
    expect(retry.failed ?? []).toEqual([]);
    const got = await cluster.read('stall');
    expect(new Set(got.map((r) => r.headers.id))).toEqual(new Set(events.map((e) => e.id)));
    // What failed is exactly the stalled partition's records, and nothing else was written twice.
    expect(new Set(got.filter((r) => r.partition === proxy.stalled).map((r) => r.headers.id))).toEqual(failed);
    expect(got).toHaveLength(events.length);
  });

  it('private broker addresses are refused unless the operator allows them', async () => {
    const w = kafkaDestination.create(base(mock.bootstrap, 'guard'), testContext({ allowPrivateAddresses: false }));
    await expect(w.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS') as string });
    await w.close();
  });
});
