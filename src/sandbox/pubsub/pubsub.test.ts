import { status } from '@grpc/grpc-js';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPubSubSandbox, type PubSubSandbox } from './index.js';

const PROJECT = 'sandbox-test';
const credentials = { client_email: 'test@sandbox-test.iam.gserviceaccount.com', private_key: '' };
let sandbox: PubSubSandbox;
let clock = Date.now();
let pubsub: PubSub;
let publisher: v1.PublisherClient;
let subscriber: v1.SubscriberClient;

beforeAll(async () => {
  sandbox = await startPubSubSandbox({ now: () => clock });
  pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: sandbox.endpoint, credentials });
  const [host, port] = sandbox.endpoint.split(':');
  const low = { servicePath: host!, port: Number(port), sslCreds: (await import('@grpc/grpc-js')).credentials.createInsecure(), credentials };
  publisher = new v1.PublisherClient(low);
  subscriber = new v1.SubscriberClient(low);
});
afterAll(async () => {
  await pubsub.close();
  await publisher.close();
  await subscriber.close();
  await sandbox.close();
});

const topicName = (id: string) => `projects/${PROJECT}/topics/${id}`;
/** Call options that surface the first answer instead of the client's retries. */
const noRetry = {
  retry: { retryCodes: [], backoffSettings: { initialRetryDelayMillis: 100, retryDelayMultiplier: 1, maxRetryDelayMillis: 100, initialRpcTimeoutMillis: 5_000, rpcTimeoutMultiplier: 1, maxRpcTimeoutMillis: 5_000, totalTimeoutMillis: 5_000 } },
};
const rpcCode = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: number; details?: string }) => ({ code: e.code, details: e.details }));

describe('pubsub sandbox (official client)', () => {
  it('topics: create, get, ALREADY_EXISTS, NOT_FOUND', async () => {
    const [t] = await pubsub.createTopic('t-admin');
    expect(t.name).toBe(topicName('t-admin'));
    expect(await rpcCode(pubsub.createTopic('t-admin'))).toMatchObject({ code: status.ALREADY_EXISTS });
    const [meta] = await pubsub.topic('t-admin').getMetadata();
    expect(meta.name).toBe(topicName('t-admin'));
    expect(await rpcCode(pubsub.topic('nope-topic').getMetadata())).toMatchObject({ code: status.NOT_FOUND, details: 'Resource not found (resource=nope-topic).' });
    expect(await rpcCode(publisher.publish({ topic: topicName('nope-topic'), messages: [{ data: Buffer.from('x') }] }))).toMatchObject({ code: status.NOT_FOUND });
  });

  it('publish limits: 1,000 messages and 10 MB per request, attribute sizes, empty messages', async () => {
    await pubsub.createTopic('t-limits');
    const topic = topicName('t-limits');
    const many = Array.from({ length: 1001 }, (_, i) => ({ data: Buffer.from(String(i)) }));
    expect(await rpcCode(publisher.publish({ topic, messages: many }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('message_count is too large. You passed 1001') as string });
    expect(await rpcCode(publisher.publish({ topic, messages: many.slice(0, 1000) }))).toBe('ok');
    const big = [{ data: Buffer.alloc(6_000_000, 1) }, { data: Buffer.alloc(5_000_000, 1) }];
    expect(await rpcCode(publisher.publish({ topic, messages: big }))).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('request_size is too large') as string });
    expect(await rpcCode(publisher.publish({ topic, messages: [{ data: Buffer.from('x'), attributes: { k: 'v'.repeat(1025) } }] }))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await rpcCode(publisher.publish({ topic, messages: [{}] }))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('PERMISSION_DENIED and RESOURCE_EXHAUSTED on demand', async () => {
    await pubsub.createTopic('t-errors');
    const topic = topicName('t-errors');
    sandbox.control.deny(topic);
    expect(await rpcCode(publisher.publish({ topic, messages: [{ data: Buffer.from('x') }] }, noRetry))).toMatchObject({ code: status.PERMISSION_DENIED });
    sandbox.control.allow(topic);
    sandbox.control.failNext(status.RESOURCE_EXHAUSTED, 1);
    expect(await rpcCode(publisher.publish({ topic, messages: [{ data: Buffer.from('x') }] }, noRetry))).toMatchObject({ code: status.RESOURCE_EXHAUSTED });
    expect(await rpcCode(publisher.publish({ topic, messages: [{ data: Buffer.from('x') }] }))).toBe('ok');
  });

  it('pull, acknowledge, and redelivery after the ack deadline; ordered subscriptions hold a key behind its lease', async () => {
    await pubsub.createTopic('t-pull');
    const subscription = `projects/${PROJECT}/subscriptions/s-pull`;
    await subscriber.createSubscription({ name: subscription, topic: topicName('t-pull'), ackDeadlineSeconds: 10, enableMessageOrdering: true });
    await publisher.publish({ topic: topicName('t-pull'), messages: [{ data: Buffer.from('a1'), orderingKey: 'a' }, { data: Buffer.from('b1'), orderingKey: 'b' }] });
    const [first] = await subscriber.pull({ subscription, maxMessages: 10 });
    expect(first.receivedMessages!.map((m) => m.message!.data!.toString())).toEqual(['a1', 'b1']);
    await publisher.publish({ topic: topicName('t-pull'), messages: [{ data: Buffer.from('a2'), orderingKey: 'a' }] });
    const [held] = await subscriber.pull({ subscription, maxMessages: 10 });
    expect(held.receivedMessages ?? []).toEqual([]);
    const b1 = first.receivedMessages!.find((m) => m.message!.data!.toString() === 'b1')!;
    await subscriber.acknowledge({ subscription, ackIds: [b1.ackId!] });
    clock += 11_000;
    const [again] = await subscriber.pull({ subscription, maxMessages: 10 });
    expect(again.receivedMessages!.map((m) => m.message!.data!.toString())).toEqual(['a1', 'a2']);
  });
});
