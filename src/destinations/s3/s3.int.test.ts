import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedCeph, type CephS3 } from '../../../test/helpers/ceph.js';
import type { StoredEvent } from '../../domain/event.js';
import { withObjectJson } from '../../domain/event-json.js';
import { eventRange, messageCreated } from '../conformance/events.js';
import { runConformance, testContext, type Received } from '../conformance/suite.js';
import { SCHEMA_VERSION } from '../tables.js';
import { s3Destination } from './definition.js';
import type { S3Config } from './writer.js';

let ceph: CephS3;
let s3: S3Client;
let bucketCount = 0;
const signal = () => new AbortController().signal;

async function newBucket(): Promise<string> {
  ceph ??= await sharedCeph();
  s3 ??= new S3Client(ceph.clientConfig);
  const bucket = `trb-${process.pid}-${Date.now().toString(36)}-${(bucketCount += 1)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

const configFor = (bucket: string, extra: Partial<S3Config> = {}): S3Config => ({
  bucket,
  endpoint: ceph.endpoint,
  region: ceph.region,
  force_path_style: true,
  access_key_id: ceph.accessKeyId,
  secret_access_key: ceph.secretAccessKey,
  ...extra,
});

async function keys(bucket: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    out.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function body(bucket: string, key: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** Every row of every Parquet object under `folder`, read from local copies (DuckDB's httpfs is not available here). */
async function parquetRows(bucket: string, folder: string): Promise<Record<string, unknown>[]> {
  const dir = await mkdtemp(join(tmpdir(), 'trb-s3-read-'));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const rows: Record<string, unknown>[] = [];
    for (const [i, key] of (await keys(bucket, folder)).entries()) {
      const path = join(dir, `${i}.parquet`);
      await writeFile(path, await body(bucket, key));
      const r = await conn.runAndReadAll(`SELECT to_json(t)::VARCHAR AS j FROM read_parquet('${path}') t`);
      for (const o of r.getRowObjects()) rows.push({ ...(JSON.parse(String(o.j)) as Record<string, unknown>), _key: key });
    }
    return rows;
  } finally {
    conn.closeSync();
    db.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every CloudEvent line of every NDJSON object under `prefix`. */
async function ndjsonEvents(bucket: string, prefix = ''): Promise<{ id: string; key: string; line: string }[]> {
  const out: { id: string; key: string; line: string }[] = [];
  for (const key of await keys(bucket, prefix)) {
    if (!key.includes('.ndjson')) continue;
    const raw = await body(bucket, key);
    const text = (key.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    for (const line of text.split('\n')) if (line) out.push({ id: (JSON.parse(line) as { id: string }).id, key, line });
  }
  return out;
}

beforeAll(async () => {
  ceph = await sharedCeph();
  s3 = new S3Client(ceph.clientConfig);
}, 120_000);
afterAll(() => s3?.destroy());

runConformance<S3Config>('s3 (parquet)', {
  definition: s3Destination,
  module: fileURLToPath(new URL('./definition.ts', import.meta.url)),
  exportName: 's3Destination',
  orderVisible: false,
  async open() {
    const bucket = await newBucket();
    return {
      config: configFor(bucket, { format: 'parquet', prefix: 'lake' }),
      async readBack(prefix): Promise<Received[]> {
        const rows = [...(await parquetRows(bucket, 'lake/message/')), ...(await parquetRows(bucket, 'lake/grant_event/'))];
        return rows
          .filter((r) => String(r.event_id).startsWith(prefix))
          .map(({ _synced_at: _s, _key: _k, ...r }) => ({ id: String(r.event_id), grantId: String(r.grant_id), content: JSON.stringify(r) }));
      },
    };
  },
  close: async () => undefined,
  rejectable(prefix) {
    const e = messageCreated(9_999, { prefix });
    // A message without an id cannot become a row of the message table (its primary key).
    return { ...e, id: `${prefix}-evt-noid`, object: { ...e.object, id: undefined } };
  },
  partialFailure: { unsupported: 'write waits for every upload of the batch and throws if any of them failed, so the whole batch is redelivered' },
  failingConfig: (r) => ({ ...r.config, secret_access_key: 'wrong-secret-sentinel-7d1e' }),
});

describe('s3 destination specifics', () => {
  it('NDJSON: every batch delivered twice, then a replay from the start in other batch shapes → each event exactly once', async () => {
    const bucket = await newBucket();
    const config = configFor(bucket, { prefix: 'events/', format: 'ndjson', gzip: true });
    const events = eventRange(0, 41, { prefix: 'nd', grants: 3 });
    const live = s3Destination.create(config, testContext());
    for (let i = 0; i < 40; i += 4) {
      const batch = events.slice(i, i + 4);
      await live.write(batch, signal(), 1);
      await live.write(batch, signal(), 2);
    }
    await live.close();
    // Another process replays the whole log from the beginning in one batch of 41.
    const replay = s3Destination.create(config, testContext());
    expect(await replay.write(events, signal(), 1)).toEqual({ rejected: [] });
    await replay.close();
    const got = await ndjsonEvents(bucket, 'events/');
    expect(got.map((g) => g.id).sort()).toEqual(events.map((e) => e.id).sort());
    expect(got.every((g) => /^events\/type=(message\.created|grant\.updated)\/date=2025-11-24\/hour=16\/str_conformance-\d{20}-\d{20}-[0-9a-f]{8}\.ndjson\.gz$/.test(g.key))).toBe(true);
    const line = JSON.parse(got.find((g) => g.id === events[0]!.id)!.line) as Record<string, unknown>;
    expect(line).toMatchObject({ specversion: '1.0', type: 'message.created', id: events[0]!.id });
    // The manifest of each object travels with it, as metadata.
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: got[0]!.key }));
    expect(head.Metadata).toMatchObject({ 'tributary-count': expect.stringMatching(/^\d+$/), 'tributary-first-id': expect.any(String), 'tributary-last-id': expect.any(String), 'tributary-schema-version': String(SCHEMA_VERSION) });
    expect(head.ContentEncoding).toBe('gzip');
  });

  it('Parquet: redelivery of every batch twice gives exact row counts in message and participant', async () => {
    const bucket = await newBucket();
    const config = configFor(bucket, { format: 'parquet' });
    const events = eventRange(0, 60, { prefix: 'pq', grants: 4 }).filter((e) => e.type === 'message.created');
    const w = s3Destination.create(config, testContext());
    for (let i = 0; i < events.length; i += 10) {
      await w.write(events.slice(i, i + 10), signal(), 1);
      await w.write(events.slice(i, i + 10), signal(), 2);
    }
    await w.close();
    const messages = await parquetRows(bucket, 'message/');
    expect(messages.length).toBe(events.length);
    expect(new Set(messages.map((m) => m.id)).size).toBe(events.length);
    const participants = await parquetRows(bucket, 'participant/');
    const expected = events.reduce((n, e) => n + 2 + ((e.object.cc as unknown[]).length > 0 ? 1 : 0), 0);
    expect(participants.length).toBe(expected);
    expect(messages[0]).toMatchObject({ truncated: false, folders: '["INBOX"]' });
    expect(messages.every((m) => typeof m._synced_at === 'string')).toBe(true);
  });

  it('Parquet, events as the log reader hands them (object as JSON text): bodies intact, and the same events redelivered as parsed objects add nothing', async () => {
    const bucket = await newBucket();
    const config = configFor(bucket, { format: 'parquet' });
    const events = eventRange(0, 40, { prefix: 'logtext', grants: 3, bodyBytes: 2_000 }).filter((e) => e.type === 'message.created');
    events.forEach((e, i) => (e.object.body = `${String(e.object.body)} "quoted" \\ back\\slash\n — ${i % 2 ? 'ünï' : '😀'}`));
    const fromLog = events.map(({ object, ...fields }) => withObjectJson<StoredEvent>(fields, JSON.stringify(object)));
    const w = s3Destination.create(config, testContext());
    expect(await w.write(fromLog, signal(), 1)).toEqual({ rejected: [] });
    expect(await w.write(events.slice(5, 25), signal(), 2)).toEqual({ rejected: [] });
    await w.close();
    const messages = await parquetRows(bucket, 'message/');
    expect(messages.map((m) => m.event_id).sort()).toEqual(events.map((e) => e.id).sort());
    const byId = new Map(messages.map((m) => [m.event_id, m.body]));
    expect(events.every((e) => byId.get(e.id) === e.object.body)).toBe(true);
  });

  it('Parquet, batches in flight together: per-grant lanes into the same partitions, redeliveries started while the first copy uploads → exact row counts', async () => {
    expect(s3Destination.limits.maxInFlight).toBeGreaterThan(1);
    const bucket = await newBucket();
    const config = configFor(bucket, { format: 'parquet' });
    const events = eventRange(0, 120, { prefix: 'inflight', grants: 4 }).filter((e) => e.type === 'message.created');
    // Two lanes as the engine plans them (a grant in one lane only): interleaved positions, same hour.
    const lanes = [0, 1].map((l) => events.filter((e) => Number(e.grantId!.slice(-1)) % 2 === l));
    const w = s3Destination.create(config, testContext());
    const first = lanes.map((lane) => w.write(lane.slice(0, 30), signal(), 1));
    // A retry of lane 0's batch (its acknowledgement "lost") while it is still being written, and
    // one of lane 1 formed differently (its first batch and more).
    const retries = [w.write(lanes[0]!.slice(0, 30), signal(), 2), w.write(lanes[1]!.slice(10), signal(), 2)];
    expect(await Promise.all([...first, ...retries])).toEqual([{ rejected: [] }, { rejected: [] }, { rejected: [] }, { rejected: [] }]);
    await w.write(lanes[0]!.slice(30), signal(), 1);
    await w.close();
    // And another process replaying everything adds nothing.
    const replay = s3Destination.create(config, testContext());
    await replay.write(events, signal(), 1);
    await replay.close();
    const messages = await parquetRows(bucket, 'message/');
    expect(messages.map((m) => m.event_id).sort()).toEqual(events.map((e) => e.id).sort());
    const participants = await parquetRows(bucket, 'participant/');
    expect(participants.length).toBe(events.reduce((n, e) => n + 2 + ((e.object.cc as unknown[]).length > 0 ? 1 : 0), 0));
  });

  it('a participant object left by a writer killed before its message object is removed, so a redelivery does not duplicate it', async () => {
    const bucket = await newBucket();
    const config = configFor(bucket, { format: 'parquet' });
    const events = eventRange(0, 6, { prefix: 'orph' }).filter((e) => e.type === 'message.created');
    const first = s3Destination.create(config, testContext());
    await first.write(events, signal(), 1);
    await first.close();
    // Simulate the crash: the message object of that fragment is gone, its participant object stays.
    const [messageKey] = await keys(bucket, 'message/');
    const orphan = messageKey!.replace(/^message\//, 'participant/').replace(/-\d{20}-\d{20}-/, '-00000000000000000002-00000000000000000005-');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: orphan, Body: await body(bucket, (await keys(bucket, 'participant/'))[0]!) }));
    const second = s3Destination.create(config, testContext());
    await second.write(events, signal(), 2);
    await second.close();
    expect(await keys(bucket, 'participant/')).not.toContain(orphan);
    expect((await parquetRows(bucket, 'message/')).length).toBe(events.length);
  });

  it('uploads a large object in parts and reads it back whole', async () => {
    const bucket = await newBucket();
    const config = configFor(bucket, { format: 'ndjson', gzip: false });
    const events: StoredEvent[] = eventRange(0, 14, { prefix: 'big', bodyBytes: 900_000 }).filter((e) => e.type === 'message.created');
    const w = s3Destination.create(config, testContext());
    await w.write(events, signal(), 1);
    await w.close();
    const [key] = (await keys(bucket)).filter((k) => k.startsWith('type=message.created/'));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key! }));
    expect(head.ContentLength).toBeGreaterThan(8 * 1024 * 1024);
    expect(head.ETag).toMatch(/-\d+"?$/); // a multipart ETag: md5-of-parts "-" part count
    expect((await ndjsonEvents(bucket)).map((e) => e.id)).toEqual(events.map((e) => e.id));
  });

  it('test() writes a marker object and deletes it; a missing bucket or bad keys fail with a reason', async () => {
    const bucket = await newBucket();
    const ok = s3Destination.create(configFor(bucket, { prefix: 'p' }), testContext());
    await ok.test();
    await ok.close();
    expect(await keys(bucket)).toEqual([]);
    const missing = s3Destination.create(configFor('no-such-bucket-here'), testContext());
    await expect(missing.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('NoSuchBucket') });
    await missing.close();
    const bad = s3Destination.create(configFor(bucket, { access_key_id: 'NOTAKEY' }), testContext());
    await expect(bad.write(eventRange(0, 2, { prefix: 'bad' }), signal(), 1)).rejects.toMatchObject({ name: 'FatalError', message: expect.stringContaining('InvalidAccessKeyId') });
    await bad.close();
  });

  it('refuses an endpoint on a private address unless private destinations are allowed', async () => {
    const bucket = await newBucket();
    const w = s3Destination.create(configFor(bucket), testContext({ allowPrivateAddresses: false }));
    await expect(w.test()).rejects.toMatchObject({ name: 'FatalError', message: expect.stringMatching(/private|https/) });
    await w.close();
  });
});
