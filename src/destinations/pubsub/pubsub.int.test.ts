import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPubSubSandbox, type PubSubSandbox } from '../../sandbox/pubsub/index.js';
import type { StoredEvent } from '../../domain/event.js';
import { eventRange, grantEvent, messageCreated } from '../conformance/events.js';
import { runConformance, testContext, type Received } from '../conformance/suite.js';
import { pubsubDestination } from './definition.js';
import type { PubSubConfig } from './client.js';

const PROJECT = 'tributary-test';
const signal = () => new AbortController().signal;
/** A key-shaped service-account JSON: the emulator ignores credentials, the logs test looks for it. */
const FAKE_KEY = JSON.stringify({ type: 'service_account', client_email: 'streams@tributary-test.iam.gserviceaccount.com', private_key: '-----BEGIN PRIVATE KEY-----\npk-sentinel-3d9a\n-----END PRIVATE KEY-----\n' });

interface Got extends Received {
  attributes: Record<string, string>;
  orderingKey: string;
  type: string;
}

/**
 * A topic with an ordered subscription, read back with the official client's subscriber
 * (StreamingPull): every message is kept and acknowledged.
 */
async function receiver(sandbox: PubSubSandbox, topicId: string) {
  const client = new PubSub({ projectId: PROJECT, apiEndpoint: sandbox.endpoint, credentials: JSON.parse(FAKE_KEY) as { client_email: string; private_key: string } });
  const [topic] = await client.createTopic(topicId);
  const [sub] = await topic.createSubscription(`${topicId}-sub`, { enableMessageOrdering: true });
  const got: Got[] = [];
  sub.on('message', (m: Message) => {
    const content = m.data.toString();
    const ce = JSON.parse(content) as { type: string; data: { grant_id?: string } };
    got.push({ id: m.attributes.id ?? '', grantId: ce.data.grant_id ?? null, content, attributes: m.attributes, orderingKey: m.orderingKey ?? '', type: ce.type });
    m.ack();
  });
  sub.on('error', () => undefined);
  /** Waits until nothing new arrives for a moment, then returns what arrived for `prefix`. */
  const read = async (prefix: string) => {
    let seen = -1;
    for (let quiet = 0; quiet < 3; ) {
      await new Promise((r) => setTimeout(r, 250));
      if (got.length === seen) quiet += 1;
      else [seen, quiet] = [got.length, 0];
    }
    return got.filter((g) => g.id.startsWith(prefix));
  };
  return { read, close: async () => (await sub.close(), await client.close()) };
}

function hugeGrantEvent(prefix: string): StoredEvent {
  const e = grantEvent(9_999, { prefix });
  return { ...e, id: `${prefix}-evt-huge`, object: { ...e.object, note: 'x'.repeat(10_100_000) } };
}

let sandbox: PubSubSandbox;
const closers: (() => Promise<unknown>)[] = [];
beforeAll(async () => {
  sandbox = await startPubSubSandbox();
});
afterAll(async () => {
  for (const c of closers) await c();
  await sandbox.close();
});

const config = (topicId: string, extra: Partial<PubSubConfig> = {}, key = true): PubSubConfig => ({ project_id: PROJECT, topic_id: topicId, api_endpoint: sandbox.endpoint, ...(key ? { service_account_json: FAKE_KEY } : {}), ...extra });

runConformance<PubSubConfig>('pubsub', {
  definition: pubsubDestination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 'pubsubDestination',
  orderVisible: true,
  async open() {
    const r = await receiver(sandbox, 'conformance');
    closers.push(r.close);
    return { config: config('conformance'), readBack: r.read };
  },
  close: async () => undefined,
  rejectable: hugeGrantEvent,
  failingConfig: () => ({ project_id: PROJECT, topic_id: 'conformance', api_endpoint: '127.0.0.1:1', service_account_json: FAKE_KEY, publish_timeout_ms: 1_500 }),
  // One publish call refused with a code the client does not retry: one ordering key (grant) fails, the others land.
  partialFailure: { provoke: () => sandbox.control.failNext(status.FAILED_PRECONDITION, 1) },
});

describe('pubsub destination specifics', () => {
  it('data is the CloudEvents JSON, attributes and ordering key are set, requests stay within 1,000 messages', async () => {
    const r = await receiver(sandbox, 'shape');
    closers.push(r.close);
    const w = pubsubDestination.create(config('shape'), testContext());
    const events = eventRange(0, 1000, { prefix: 'shape', grants: 3 });
    expect(await w.write(events, signal(), 1)).toEqual({ rejected: [] });
    await w.close();
    const got = await r.read('shape');
    expect(new Set(got.map((g) => g.id)).size).toBe(1000);
    const first = got.find((g) => g.id === events[0]!.id)!;
    expect(first.attributes).toEqual({ type: 'message.created', id: events[0]!.id, grant_id: events[0]!.grantId, application_id: 'app_conformance', source: '/imap/emails/realtime' });
    expect(first.orderingKey).toBe(events[0]!.grantId);
    expect(Math.max(...sandbox.state.publishRequests)).toBeLessThanOrEqual(1000);
  });

  it('a message.created over 10 MB arrives truncated; an event that cannot shrink is refused', async () => {
    const r = await receiver(sandbox, 'sizes');
    closers.push(r.close);
    // No key: an emulator needs none (and the client must not go looking for default credentials).
    const w = pubsubDestination.create(config('sizes', {}, false), testContext());
    const big = messageCreated(1, { prefix: 'sizes', bodyBytes: 10_200_000 });
    const huge = hugeGrantEvent('sizes');
    const result = await w.write([big, huge], signal(), 1);
    await w.close();
    expect(result.rejected).toEqual([{ id: huge.id, reason: expect.stringContaining('10 MB') as string, status: 413 }]);
    const [got] = await r.read('sizes');
    expect(got!.type).toBe('message.created.truncated');
    expect(got!.attributes.type).toBe('message.created.truncated');
  });

  it('service unavailable, then back: failed grants are reported, their keys resumed, nothing lost, order kept', async () => {
    const r = await receiver(sandbox, 'outage');
    closers.push(r.close);
    const w = pubsubDestination.create(config('outage', { publish_timeout_ms: 2_000 }), testContext());
    const events = eventRange(0, 200, { prefix: 'outage', grants: 5 });
    // Enough failures to outlast the client's own retries for several keys.
    sandbox.control.failNext(status.UNAVAILABLE, 12);
    let remaining = events;
    let failedOnce = false;
    for (let attempt = 1; remaining.length && attempt < 20; attempt += 1) {
      const failed = new Set(((await w.write(remaining, signal(), attempt)).failed ?? []).map((f) => f.id));
      if (failed.size) failedOnce = true;
      remaining = remaining.filter((e) => failed.has(e.id));
    }
    await w.close();
    expect(failedOnce).toBe(true);
    expect(remaining).toEqual([]);
    const got = await r.read('outage');
    expect(new Set(got.map((g) => g.id))).toEqual(new Set(events.map((e) => e.id)));
    const pos = new Map(events.map((e, i) => [e.id, i]));
    const seen = new Set<string>();
    const last = new Map<string, number>();
    for (const g of got) {
      if (seen.has(g.id)) continue;
      seen.add(g.id);
      expect(pos.get(g.id)!, `order of ${g.grantId}`).toBeGreaterThan(last.get(g.grantId ?? '') ?? -1);
      last.set(g.grantId ?? '', pos.get(g.id)!);
    }
  });

  it('test(): a missing topic and a denied permission are FatalErrors that say what to do', async () => {
    const missing = pubsubDestination.create(config('does-not-exist'), testContext());
    await expect(missing.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('projects/tributary-test/topics/does-not-exist does not exist') as string });
    await missing.close();
    const r = await receiver(sandbox, 'denied');
    closers.push(r.close);
    sandbox.control.deny(`projects/${PROJECT}/topics/denied`);
    const denied = pubsubDestination.create(config('denied'), testContext());
    await expect(denied.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('grant it roles/pubsub.publisher') as string });
    const write = await denied.write([messageCreated(1, { prefix: 'denied' })], signal(), 1);
    expect(write.failed?.[0]).toMatchObject({ fatal: true, status: 403 });
    await denied.close();
  });

  it('bad credentials: a JSON that is not a service-account key fails the stream with a readable reason', async () => {
    const w = pubsubDestination.create(config('conformance', { service_account_json: '{"type":"authorized_user"}' }), testContext());
    await expect(w.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('needs "client_email" and "private_key"') as string });
    await w.close();
  });

  it('emulator endpoints go through the outbound guard', async () => {
    const w = pubsubDestination.create(config('conformance'), testContext({ allowPrivateAddresses: false }));
    await expect(w.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('TRIBUTARY_ALLOW_PRIVATE_DESTINATIONS') as string });
    await w.close();
  });
});
