import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedCeph, type CephS3 } from '../../../test/helpers/ceph.js';
import { startSnsSandbox, type SnsSandbox } from '../../sandbox/sns/index.js';
import type { StoredEvent } from '../../domain/event.js';
import { eventRange, grantEvent, messageCreated } from '../conformance/events.js';
import { runConformance, testContext, type Received } from '../conformance/suite.js';
import type { SnsConfig } from './client.js';
import { snsDestination } from './definition.js';
import { POINTER_CLASS, SIZE_ATTRIBUTE } from './writer.js';

const KEY = { accessKeyId: 'AKIATRIBUTARYTEST01', secretAccessKey: 'sandbox-secret-sentinel-5b2e' };
const signal = () => new AbortController().signal;

let sandbox: SnsSandbox;
let admin: SNSClient;
beforeAll(async () => {
  sandbox = await startSnsSandbox({ keys: [KEY] });
  admin = new SNSClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials: KEY });
});
afterAll(async () => {
  admin.destroy();
  await sandbox.close();
});

async function topic(name: string, fifo = name.endsWith('.fifo')): Promise<string> {
  const out = await admin.send(new CreateTopicCommand({ Name: name, ...(fifo ? { Attributes: { FifoTopic: 'true' } } : {}) }));
  return out.TopicArn!;
}

const config = (arn: string, extra: Partial<SnsConfig> = {}): SnsConfig => ({ topic_arn: arn, endpoint: sandbox.endpoint, access_key_id: KEY.accessKeyId, secret_access_key: KEY.secretAccessKey, ...extra });

/** What arrived on a FIFO topic, through the sandbox's control API. */
const fifoReceived = (arn: string): Received[] =>
  sandbox.control.fifoMessages(arn).map((m) => ({ id: m.MessageAttributes.id?.StringValue ?? '', grantId: m.MessageGroupId ?? null, content: m.Message ?? '' }));

/** A grant event of ~300 KB: over SNS's limit and without a bucket, so it is refused. */
function bigGrantEvent(prefix: string): StoredEvent {
  const e = grantEvent(9_999, { prefix });
  return { ...e, id: `${prefix}-evt-big`, object: { ...e.object, note: 'x'.repeat(300_000) } };
}

let conformanceArn = '';
runConformance<SnsConfig>('sns', {
  definition: snsDestination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 'snsDestination',
  orderVisible: true,
  async open() {
    conformanceArn = await topic('conformance.fifo');
    return { config: config(conformanceArn), readBack: async (prefix) => fifoReceived(conformanceArn).filter((r) => r.id.startsWith(prefix)) };
  },
  close: async () => undefined,
  rejectable: bigGrantEvent,
  failingConfig: () => ({ topic_arn: conformanceArn, endpoint: sandbox.endpoint, access_key_id: KEY.accessKeyId, secret_access_key: 'wrong-secret-sentinel-77c0' }),
  partialFailure: { provoke: () => sandbox.control.failEntries(3), heal: () => sandbox.control.failEntries(0) },
});

/** An http endpoint subscribed to a standard topic: confirms the subscription, keeps notifications. */
async function httpSubscriber(arn: string) {
  const notes: { Type: string; Message: string; MessageAttributes?: Record<string, { Type: string; Value: string }> }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const n = JSON.parse(body) as { Type: string; SubscribeURL?: string; Message: string };
      if (n.Type === 'SubscriptionConfirmation') void fetch(n.SubscribeURL!).then((r) => r.text());
      else notes.push(n);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await admin.send(new SubscribeCommand({ TopicArn: arn, Protocol: 'http', Endpoint: `http://127.0.0.1:${port}/sns` }));
  const deadline = Date.now() + 5_000;
  while (!sandbox.state.topics.get(arn)!.subscriptions.every((s) => s.confirmed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const settle = async (count: number) => {
    const until = Date.now() + 10_000;
    while (notes.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return notes;
  };
  return { settle, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('sns destination specifics', () => {
  it('a standard topic delivers the CloudEvents JSON with the attributes to an http subscription', async () => {
    const arn = await topic('standard');
    const sub = await httpSubscriber(arn);
    const w = snsDestination.create(config(arn), testContext());
    const events = eventRange(0, 25, { prefix: 'std', grants: 4 });
    expect(await w.write(events, signal(), 1)).toEqual({ rejected: [] });
    await w.close();
    const notes = await sub.settle(25);
    await sub.close();
    expect(notes).toHaveLength(25);
    const first = notes.find((n) => n.MessageAttributes?.id?.Value === events[0]!.id)!;
    expect(first.MessageAttributes).toEqual({
      type: { Type: 'String', Value: 'message.created' },
      id: { Type: 'String', Value: events[0]!.id },
      grant_id: { Type: 'String', Value: events[0]!.grantId },
      application_id: { Type: 'String', Value: 'app_conformance' },
      source: { Type: 'String', Value: '/imap/emails/realtime' },
    });
    expect(JSON.parse(first.Message)).toMatchObject({ specversion: '1.0', id: events[0]!.id });
  });

  it('FIFO: group = grant id, dedupe id = event id; a replay inside 5 minutes is dropped, after it the same ids arrive again', async () => {
    const arn = await topic('dedupe.fifo');
    const w = snsDestination.create(config(arn), testContext());
    const events = eventRange(0, 12, { prefix: 'dd', grants: 3 });
    await w.write(events, signal(), 1);
    await w.write(events, signal(), 2);
    expect(fifoReceived(arn)).toHaveLength(12);
    expect(sandbox.control.fifoMessages(arn)[0]).toMatchObject({ MessageGroupId: events[0]!.grantId, MessageDeduplicationId: events[0]!.id });
    sandbox.control.advance(5 * 60_000 + 1_000);
    await w.write(events, signal(), 3);
    await w.close();
    expect(fifoReceived(arn)).toHaveLength(24);
  });

  it('per-entry failures are reported as failed (with the rest of their grant) and land on retry, in order', async () => {
    const arn = await topic('entries.fifo');
    const w = snsDestination.create(config(arn), testContext());
    const events = eventRange(0, 40, { prefix: 'pe', grants: 5 });
    sandbox.control.failEntries(3);
    const first = await w.write(events, signal(), 1);
    expect(first.failed?.length).toBeGreaterThanOrEqual(3);
    const failed = new Set(first.failed!.map((f) => f.id));
    const again = await w.write(events.filter((e) => failed.has(e.id)), signal(), 2);
    await w.close();
    expect(again.failed).toBeUndefined();
    const got = fifoReceived(arn);
    expect(new Set(got.map((g) => g.id))).toEqual(new Set(events.map((e) => e.id)));
    const pos = new Map(events.map((e, i) => [e.id, i]));
    const last = new Map<string, number>();
    for (const g of got) {
      expect(pos.get(g.id)!, `order of ${g.grantId}`).toBeGreaterThan(last.get(g.grantId ?? '') ?? -1);
      last.set(g.grantId ?? '', pos.get(g.id)!);
    }
  });

  it('throttled, then back: the batch is reported failed and lands on retry', async () => {
    const arn = await topic('throttle.fifo');
    const w = snsDestination.create(config(arn), testContext());
    const events = eventRange(0, 30, { prefix: 'th', grants: 3 });
    sandbox.control.throttle(100);
    const during = await w.write(events, signal(), 1);
    expect(during.failed?.map((f) => f.id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(during.failed![0]!.reason).toContain('throttled');
    sandbox.control.throttle(0);
    expect((await w.write(events, signal(), 2)).failed).toBeUndefined();
    await w.close();
    expect(fifoReceived(arn).map((r) => r.id)).toHaveLength(30);
  });

  it('an event over 256 KB without a bucket is one dead letter that says why', async () => {
    const arn = await topic('nobucket');
    const w = snsDestination.create(config(arn), testContext());
    const big = messageCreated(1, { prefix: 'nb', bodyBytes: 300_000 });
    const result = await w.write([big], signal(), 1);
    await w.close();
    expect(result.rejected).toEqual([{ id: big.id, status: 413, reason: expect.stringContaining('set s3_bucket') as string }]);
  });

  it('bad credentials, missing topic and missing permission fail the stream with a readable reason', async () => {
    const arn = await topic('errors');
    const wrong = snsDestination.create(config(arn, { secret_access_key: 'not-the-right-secret-000' }), testContext());
    await expect(wrong.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('AWS rejected the credentials (SignatureDoesNotMatch') as string });
    await wrong.close();
    const unknown = snsDestination.create(config(arn, { access_key_id: 'AKIAUNKNOWNKEY000000' }), testContext());
    await expect(unknown.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('InvalidClientTokenId') as string });
    await unknown.close();
    const missing = snsDestination.create(config(arn.replace(':errors', ':nope')), testContext());
    await expect(missing.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('does not exist') as string });
    await missing.close();
    sandbox.control.deny(arn);
    const denied = snsDestination.create(config(arn), testContext());
    await expect(denied.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('allow sns:Publish') as string });
    const write = await denied.write([messageCreated(1, { prefix: 'deny' })], signal(), 1);
    expect(write.failed?.[0]?.fatal).toBe(true);
    await denied.close();
  });

  it('endpoint overrides go through the outbound guard', async () => {
    const w = snsDestination.create(config(conformanceArn), testContext({ allowPrivateAddresses: false }));
    await expect(w.test()).rejects.toMatchObject({ name: 'FatalError' });
    await w.close();
  });
});

describe('sns large events offloaded to S3 (Ceph radosgw)', () => {
  let ceph: CephS3;
  let s3: S3Client;
  let offSandbox: SnsSandbox;
  beforeAll(async () => {
    ceph = await sharedCeph();
    s3 = new S3Client(ceph.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket: 'sns-offload' })).catch((e: Error) => {
      if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
    });
    // The same keys sign SNS (sandbox) and S3 (Ceph) calls, as one IAM user would.
    offSandbox = await startSnsSandbox({ keys: [{ accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey }] });
  }, 120_000);
  afterAll(async () => {
    s3?.destroy();
    await offSandbox?.close();
  });

  it('the payload goes to S3 under the event id; the message is the extended client pointer with ExtendedPayloadSize', { timeout: 60_000 }, async () => {
    const c = new SNSClient({ endpoint: offSandbox.endpoint, region: offSandbox.region, credentials: { accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey } });
    const arn = (await c.send(new CreateTopicCommand({ Name: 'offload.fifo', Attributes: { FifoTopic: 'true' } }))).TopicArn!;
    c.destroy();
    const w = snsDestination.create(
      { topic_arn: arn, endpoint: offSandbox.endpoint, access_key_id: ceph.accessKeyId, secret_access_key: ceph.secretAccessKey, s3_bucket: 'sns-offload', s3_prefix: 'events/', s3_endpoint: ceph.endpoint, s3_force_path_style: true },
      testContext(),
    );
    const big = messageCreated(1, { prefix: 'off', bodyBytes: 400_000 });
    const small = messageCreated(2, { prefix: 'off' });
    expect(await w.write([big, small], signal(), 1)).toEqual({ rejected: [] });
    await w.close();
    const [m1, m2] = offSandbox.control.fifoMessages(arn);
    expect(JSON.parse(m1!.Message!)).toEqual([POINTER_CLASS, { s3BucketName: 'sns-offload', s3Key: `events/${big.id}` }]);
    const stored = await (await s3.send(new GetObjectCommand({ Bucket: 'sns-offload', Key: `events/${big.id}` }))).Body!.transformToString();
    expect(m1!.MessageAttributes[SIZE_ATTRIBUTE]).toEqual({ DataType: 'Number', StringValue: String(Buffer.byteLength(stored)) });
    expect(m1!.MessageAttributes.id!.StringValue).toBe(big.id);
    expect(JSON.parse(stored)).toMatchObject({ id: big.id, type: 'message.created', data: { object: { body: expect.stringContaining('Lorem') as string } } });
    expect(JSON.parse(m2!.Message!)).toMatchObject({ id: small.id });
  });
});
