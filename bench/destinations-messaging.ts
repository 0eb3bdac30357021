/**
 * `npm run bench:destinations:messaging` — the four message-broker destinations side by side:
 * NATS JetStream (a real nats-server), Kafka (librdkafka's mock cluster through kcat), Pub/Sub
 * and SNS (the in-repo sandboxes, each in its own process). For each:
 *
 * 1. throughput: BENCH_EVENTS `message.created` events of ~5 KB over 1,000 grants written
 *    through the destination's writer at its declared maxBatch and maxInFlight (what the delivery
 *    engine does), events/s over the wall clock, generation and serialization included;
 * 2. the ceiling: the same events built and serialized the same way, published with the same
 *    client library directly (same headers/attributes, batching and concurrency), no Tributary
 *    writer in the path, and the ratio;
 * 3. latency: events offered at a steady BENCH_RATE/s, cut into a batch every maxWaitMs and
 *    written as they come (maxInFlight at most); p50/p99 from the moment an event is offered to
 *    the moment its batch is acknowledged. The delivery engine's own log read and offset commit
 *    are not in this path (bench:delivery measures those).
 *
 * Knobs: BENCH_EVENTS (200000), BENCH_RATE (1000), BENCH_LATENCY_S (10), BENCH_ONLY (nats,kafka,pubsub,sns).
 */
import { PubSub } from '@google-cloud/pubsub';
import { CreateTopicCommand, PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import kafkajs from 'kafkajs';
import type { StoredEvent } from '../src/domain/event.js';
import { eventAttributes, eventBody } from '../src/domain/messaging.js';
import { CaptureLogger } from '../src/destinations/conformance/capture-logger.js';
import { messageCreated } from '../src/destinations/conformance/events.js';
import { destinationContext, type DestinationDefinition } from '../src/destinations/destination.js';
import { natsConnect } from '../src/destinations/nats/connection.js';
import { getDestination } from '../src/destinations/registry.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startKafkaMock } from '../test/helpers/kafka.js';
import { startNats } from '../test/helpers/nats.js';
import { machineLine, percentile } from './machine.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const RATE = Number(process.env.BENCH_RATE ?? 1_000);
const LATENCY_S = Number(process.env.BENCH_LATENCY_S ?? 10);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'nats,kafka,pubsub,sns').split(','));
const BODY_BYTES = 4_600; // the serialized event comes to ~5 KB
const GRANTS = 1_000;
const AIMS: Record<string, number> = { nats: 20_000, kafka: 20_000, pubsub: 5_000, sns: 5_000 };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const ctx = () => destinationContext({ logger: new CaptureLogger(), now: () => new Date(), allowPrivateAddresses: true, streamId: 'bench', dataDir: '/nonexistent' });
const event = (i: number, prefix: string) => messageCreated(i, { prefix, grants: GRANTS, bodyBytes: BODY_BYTES });

/** Keeps up to `inFlight` calls of `fn` outstanding over `count` items taken in chunks of `size`. */
async function drive(count: number, size: number, inFlight: number, fn: (from: number, to: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  const pending = new Set<Promise<void>>();
  for (let from = 0; from < count; from += size) {
    const p: Promise<void> = fn(from, Math.min(count, from + size)).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= inFlight) await Promise.race(pending);
  }
  await Promise.all(pending);
  return count / ((performance.now() - started) / 1000);
}

async function throughWriter(def: DestinationDefinition, config: Record<string, unknown>, prefix: string): Promise<number> {
  const writer = def.create(config, ctx());
  await writer.test();
  const started = performance.now();
  await drive(EVENTS, def.limits.maxBatch, def.limits.maxInFlight, async (from, to) => {
    const batch: StoredEvent[] = [];
    for (let i = from; i < to; i += 1) batch.push(event(i, prefix));
    const r = await writer.write(batch, new AbortController().signal, 1);
    if (r.rejected.length || r.failed?.length) throw new Error(`unexpected: ${JSON.stringify({ rejected: r.rejected.slice(0, 2), failed: r.failed?.slice(0, 2) })}`);
  });
  await writer.close();
  return EVENTS / ((performance.now() - started) / 1000);
}

/** Steady arrivals; a batch every maxWaitMs; latency = acknowledged - offered, per event. */
async function latency(def: DestinationDefinition, config: Record<string, unknown>, prefix: string): Promise<{ p50: number; p99: number }> {
  const writer = def.create(config, ctx());
  await writer.test();
  const total = RATE * LATENCY_S;
  const started = performance.now();
  const samples: number[] = [];
  const pending = new Set<Promise<void>>();
  let next = 0;
  while (next < total) {
    await new Promise((r) => setTimeout(r, def.limits.maxWaitMs));
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * RATE));
    if (due <= next) continue;
    const offered: number[] = [];
    const batch: StoredEvent[] = [];
    for (; next < due; next += 1) {
      offered.push(started + (next / RATE) * 1000);
      batch.push(event(next, prefix));
    }
    while (pending.size >= def.limits.maxInFlight) await Promise.race(pending);
    const p: Promise<void> = writer.write(batch, new AbortController().signal, 1).then(() => {
      const done = performance.now();
      for (const t of offered) samples.push(done - t);
      pending.delete(p);
    });
    pending.add(p);
  }
  await Promise.all(pending);
  await writer.close();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/**
 * Runs a sandbox in its own process (as the real service would be: not on the event loop of the
 * client being measured) and returns what it printed: its endpoint.
 */
async function sandboxProcess(module: string, start: string, args: object): Promise<{ endpoint: string; region?: string; stop: () => Promise<void> }> {
  const url = new URL(module, import.meta.url).href;
  const code = `const m = await import(${JSON.stringify(url)}); const s = await m.${start}(${JSON.stringify(args)}); process.stdout.write(JSON.stringify({ endpoint: s.endpoint, region: s.region }) + '\\n');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('..', import.meta.url)) });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.once('exit', (c) => reject(new Error(`sandbox process exited (${c})`)));
  });
  const info = JSON.parse(line) as { endpoint: string; region?: string };
  return {
    ...info,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Target {
  name: string;
  config: Record<string, unknown>;
  /** The client library alone: the same bodies, no Tributary code. */
  raw(bodies: (i: number) => { body: Buffer; e: StoredEvent }): Promise<number>;
  stop(): Promise<void>;
}

async function natsTarget(): Promise<Target> {
  const server = await startNats();
  const nc = await natsConnect({ servers: server.url, name: 'bench', guard: ctx().outbound, timeoutMs: 10_000 });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH', subjects: ['tributary.>'] });
  return {
    name: 'nats',
    config: { servers: server.url },
    async raw(bodies) {
      const js = jetstream(nc);
      return drive(EVENTS, 1000, 4, async (from, to) => {
        const acks: Promise<unknown>[] = [];
        for (let i = from; i < to; i += 1) {
          const { body, e } = bodies(i);
          const h = natsHeaders();
          for (const [k, v] of Object.entries(eventAttributes(e))) h.set(k, v);
          acks.push(js.publish(`tributary.raw.${e.type}.${e.grantId}`, body, { msgID: e.id, headers: h }));
          if (acks.length >= 256) await Promise.all(acks.splice(0));
        }
        await Promise.all(acks);
      });
    },
    async stop() {
      await nc.close();
      await server.close();
    },
  };
}

async function kafkaTarget(): Promise<Target> {
  const mock = await startKafkaMock();
  const kafka = new kafkajs.Kafka({ brokers: [mock.bootstrap], logLevel: kafkajs.logLevel.NOTHING });
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  return {
    name: 'kafka',
    // The mock cannot serve the idempotent producer (see docs/destinations/kafka.md).
    config: { brokers: mock.bootstrap, topic: 'bench', idempotent: false },
    async raw(bodies) {
      return drive(EVENTS, 2000, 4, async (from, to) => {
        const messages = [];
        for (let i = from; i < to; i += 1) {
          const { body, e } = bodies(i);
          messages.push({ key: e.grantId, value: body, headers: eventAttributes(e) });
        }
        await producer.send({ topic: 'bench-raw', acks: -1, messages });
      });
    },
    async stop() {
      await producer.disconnect();
      await mock.close();
    },
  };
}

async function pubsubTarget(): Promise<Target> {
  const sandbox = await sandboxProcess('../src/sandbox/pubsub/index.ts', 'startPubSubSandbox', {});
  const credentials = { client_email: 'bench@bench.iam.gserviceaccount.com', private_key: '' };
  const client = new PubSub({ projectId: 'bench', apiEndpoint: sandbox.endpoint, credentials });
  await client.createTopic('bench');
  const [rawTopic] = await client.createTopic('bench-raw');
  rawTopic.setPublishOptions({ messageOrdering: true, batching: { maxMessages: 1000, maxBytes: 9 * 1024 * 1024, maxMilliseconds: 5 } });
  return {
    name: 'pubsub',
    config: { project_id: 'bench', topic_id: 'bench', api_endpoint: sandbox.endpoint },
    async raw(bodies) {
      return drive(EVENTS, 1000, 4, async (from, to) => {
        const ids: Promise<string>[] = [];
        for (let i = from; i < to; i += 1) {
          const { body, e } = bodies(i);
          ids.push(rawTopic.publishMessage({ data: body, attributes: eventAttributes(e), orderingKey: e.grantId ?? '' }));
        }
        await Promise.all(ids);
      });
    },
    async stop() {
      await client.close();
      await sandbox.stop();
    },
  };
}

async function snsTarget(): Promise<Target> {
  const key = { accessKeyId: 'AKIABENCHMARK00001', secretAccessKey: 'bench-secret-key-0001' };
  const sandbox = await sandboxProcess('../src/sandbox/sns/index.ts', 'startSnsSandbox', { keys: [key] });
  const sns = new SNSClient({ endpoint: sandbox.endpoint, region: sandbox.region!, credentials: key });
  const arn = (await sns.send(new CreateTopicCommand({ Name: 'bench' }))).TopicArn!;
  const rawArn = (await sns.send(new CreateTopicCommand({ Name: 'bench-raw' }))).TopicArn!;
  return {
    name: 'sns',
    config: { topic_arn: arn, endpoint: sandbox.endpoint, access_key_id: key.accessKeyId, secret_access_key: key.secretAccessKey },
    async raw(bodies) {
      // Same shape as the writer: 10 entries per call, 16 calls in flight per batch of 500, 4 batches.
      return drive(EVENTS, 10, 64, async (from, to) => {
        const entries = [];
        for (let i = from; i < to; i += 1) {
          const { body, e } = bodies(i);
          entries.push({ Id: `e${i - from}`, Message: body.toString(), MessageAttributes: Object.fromEntries(Object.entries(eventAttributes(e)).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])) });
        }
        await sns.send(new PublishBatchCommand({ TopicArn: rawArn, PublishBatchRequestEntries: entries }));
      });
    },
    async stop() {
      sns.destroy();
      await sandbox.stop();
    },
  };
}

async function main() {
  console.log(machineLine());
  const sample = eventBody(event(0, 'size')).length;
  console.log(`${fmt(EVENTS)} message.created events of ~${(sample / 1024).toFixed(1)} KB over ${fmt(GRANTS)} grants; latency at ${fmt(RATE)} events/s for ${LATENCY_S} s`);
  const starters: Record<string, () => Promise<Target>> = { nats: natsTarget, kafka: kafkaTarget, pubsub: pubsubTarget, sns: snsTarget };
  for (const [name, start] of Object.entries(starters)) {
    if (!ONLY.has(name)) continue;
    const def = getDestination(name)!;
    const target = await start();
    try {
      const rate = await throughWriter(def, target.config, `${name}-w`);
      // The ceiling gets the same work before the client: build the event and serialize it.
      const prebuilt = (i: number) => {
        const e = event(i, `${name}-raw`);
        return { body: eventBody(e), e };
      };
      const ceiling = await target.raw(prebuilt);
      const lat = await latency(def, target.config, `${name}-l`);
      const aim = AIMS[name]!;
      const row = `${name.padEnd(7)} ${fmt(rate).padStart(8)} events/s (aim ≥ ${fmt(aim)}: ${rate >= aim ? 'met' : 'NOT met'})   raw client ${fmt(ceiling).padStart(8)}/s   ratio ${(rate / ceiling).toFixed(2)} (aim ≥ 0.7)   p50 ${lat.p50.toFixed(1)} ms  p99 ${lat.p99.toFixed(1)} ms`;
      console.log(row);
    } finally {
      await target.stop();
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
