import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { StoredEvent } from '../../domain/event.js';
import { FatalError, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { RowMappingError, SCHEMA_VERSION, testRow, toRows, type TableName, type TableRows } from '../tables.js';
import { createS3Client, type S3Connection } from './client.js';
import { FragmentCodec, type EncodedObject } from './encode.js';
import { classifyS3Error } from './errors.js';
import { fragmentName, normalizePrefix, parseFragment, partitionFolder, partitionId, partitionOf, siblingKey, type Fragment, type Partition, type S3Format } from './layout.js';

export interface S3Config extends S3Connection {
  prefix?: string;
  format?: S3Format;
  gzip?: boolean;
}

/** Objects above this go up in parts (S3 parts are 5 MiB–5 GiB, at most 10,000 per object). */
const PART_BYTES = 8 * 1024 * 1024;
/** Partitions whose fragment list is kept in memory (recent hours); older ones are listed again if touched. */
const INDEX_PARTITIONS = 512;
const ID_CACHE = 32;

interface Group {
  partition: Partition;
  primary: TableName | undefined;
  events: StoredEvent[];
  rows: Map<string, TableRows[]>;
}

/**
 * Writes each batch as one fragment per partition it touches, skipping the events an existing
 * fragment of this stream already holds — so a retried batch, a replay from the start or a
 * takeover after kill -9 adds no duplicate to the dataset (ADR 0220). One writer per stream
 * (the engine's lease); calls are serialized because the partition index is shared state.
 */
export class S3Writer implements DestinationWriter {
  private client: S3Client | null = null;
  private readonly prefix: string;
  private readonly format: S3Format;
  private readonly codec: FragmentCodec;
  private readonly index = new Map<string, Fragment[]>();
  private readonly ids = new Map<string, Set<string>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: S3Config,
    private readonly ctx: DestinationContext,
  ) {
    this.prefix = normalizePrefix(config.prefix);
    this.format = config.format ?? 'ndjson';
    this.codec = new FragmentCodec(this.format, this.format === 'ndjson' && (config.gzip ?? true), this.prefix);
  }

  private s3(): S3Client {
    this.client ??= createS3Client(this.config, this.ctx);
    return this.client;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  test(): Promise<void> {
    return this.serial(async () => {
      const now = this.ctx.now();
      const key = `${this.prefix}_tributary_test/${this.ctx.streamId}-${now.getTime()}.json`;
      try {
        await this.s3().send(new PutObjectCommand({ Bucket: this.config.bucket, Key: key, Body: JSON.stringify(testRow(`test_${now.getTime()}`, this.ctx.streamId, now)), ContentType: 'application/json' }));
        await this.s3().send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }));
      } catch (err) {
        throw classifyS3Error(err, `writing the test object s3://${this.config.bucket}/${key}`);
      }
    });
  }

  write(batch: StoredEvent[], signal: AbortSignal): Promise<WriteResult> {
    return this.serial(async () => {
      const { groups, rejected } = this.group(batch, this.ctx.now());
      try {
        // Partitions are independent (each has its own fragments): they are checked, encoded
        // (up to the encoder's connections at once, DuckDB working off the JS thread) and
        // uploaded concurrently; the batch is acknowledged once every upload finished.
        const outcomes = await Promise.allSettled([...groups.values()].map((g) => this.writeGroup(g, signal)));
        const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
        if (failed) throw failed.reason;
      } catch (err) {
        throw classifyS3Error(err, `writing to s3://${this.config.bucket}/${this.prefix}`);
      }
      return { rejected };
    });
  }

  /** Splits a batch by partition; Parquet maps rows first so an unmappable event is rejected alone. */
  private group(batch: StoredEvent[], now: Date): { groups: Map<string, Group>; rejected: WriteResult['rejected'] } {
    const groups = new Map<string, Group>();
    const rejected: WriteResult['rejected'] = [];
    for (const e of batch) {
      let rows: TableRows[] = [];
      if (this.format === 'parquet') {
        try {
          rows = toRows(e, now);
        } catch (err) {
          if (!(err instanceof RowMappingError)) throw err;
          rejected.push({ id: e.id, reason: err.message });
          continue;
        }
      }
      const partition = partitionOf(e);
      const id = partitionId(partition);
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { partition, primary: rows[0]?.table, events: [], rows: new Map() }));
      g.events.push(e);
      g.rows.set(e.id, rows);
    }
    return { groups, rejected };
  }

  private primaryFolder(g: Group): string {
    return partitionFolder(this.prefix, g.partition, g.primary);
  }

  /** Encodes the group's new events (if any) and uploads them as one fragment. */
  private async writeGroup(g: Group, signal: AbortSignal): Promise<void> {
    const fresh = await this.uncovered(g, signal);
    if (fresh.length === 0) return;
    fresh.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
    const first = BigInt(fresh[0]!.seq);
    const last = BigInt(fresh[fresh.length - 1]!.seq);
    const name = fragmentName(this.ctx.streamId, first, last, fresh[0]!.id);
    const objects = await this.codec.encode({ partition: g.partition, name, events: fresh, rows: fresh.flatMap((e) => g.rows.get(e.id) ?? []), primary: g.primary ?? 'message' });
    const metadata = {
      'tributary-stream': this.ctx.streamId,
      'tributary-count': String(fresh.length),
      'tributary-first-id': encodeURIComponent(fresh[0]!.id),
      'tributary-last-id': encodeURIComponent(fresh[fresh.length - 1]!.id),
      'tributary-first-position': first.toString(),
      'tributary-last-position': last.toString(),
      'tributary-schema-version': String(SCHEMA_VERSION),
    };
    // Secondary tables first, the primary last: a fragment exists once its primary object does.
    const primary = objects[objects.length - 1]!;
    await Promise.all(objects.slice(0, -1).map((o) => this.upload(o, metadata, signal)));
    await this.upload(primary, metadata, signal);
    this.fragments(g).push({ key: primary.key, first, last });
    this.remember(primary.key, new Set(fresh.map((e) => e.id)));
  }

  private async upload(o: EncodedObject, metadata: Record<string, string>, signal: AbortSignal): Promise<void> {
    const params = { Bucket: this.config.bucket, Key: o.key, Body: o.body, ContentType: o.contentType, Metadata: metadata, ...(o.contentEncoding ? { ContentEncoding: o.contentEncoding } : {}) };
    if (o.body.length <= PART_BYTES) {
      await this.s3().send(new PutObjectCommand(params), { abortSignal: signal });
      return;
    }
    const upload = new Upload({ client: this.s3(), params, partSize: PART_BYTES, queueSize: 4, leavePartsOnError: false });
    const abort = () => void upload.abort();
    signal.addEventListener('abort', abort, { once: true });
    try {
      await upload.done();
    } finally {
      signal.removeEventListener('abort', abort);
    }
  }

  private fragments(g: Group): Fragment[] {
    const id = partitionId(g.partition);
    let list = this.index.get(id);
    if (!list) this.index.set(id, (list = []));
    return list;
  }

  /** The events of `g` no fragment of this stream holds yet. Lists the partition on first touch. */
  private async uncovered(g: Group, signal: AbortSignal): Promise<StoredEvent[]> {
    const id = partitionId(g.partition);
    if (!this.index.has(id)) await this.loadPartition(g, signal);
    const list = this.index.get(id)!;
    // Keep the recently used partitions; the oldest is forgotten (listed again if ever touched).
    this.index.delete(id);
    this.index.set(id, list);
    if (this.index.size > INDEX_PARTITIONS) this.index.delete(this.index.keys().next().value!);
    const positions = g.events.map((e) => BigInt(e.seq));
    const lo = positions.reduce((a, b) => (b < a ? b : a));
    const hi = positions.reduce((a, b) => (b > a ? b : a));
    const overlapping = list.filter((f) => f.first <= hi && f.last >= lo);
    if (overlapping.length === 0) return g.events;
    const held = new Set<string>();
    for (const f of overlapping) for (const eid of await this.idsOf(f.key, signal)) held.add(eid);
    return g.events.filter((e) => !held.has(e.id));
  }

  private async loadPartition(g: Group, signal: AbortSignal): Promise<void> {
    const primary = await this.list(`${this.primaryFolder(g)}${this.ctx.streamId}-`, signal);
    this.index.set(partitionId(g.partition), primary.map((k) => parseFragment(k, this.ctx.streamId)).filter((f): f is Fragment => f !== null));
    if (this.format !== 'parquet' || !g.primary) return;
    // A writer killed between a fragment's secondary objects (participant rows) and its primary
    // object leaves orphans that a differently formed redelivery would duplicate: remove them.
    const have = new Set(primary);
    const secondaries = new Set([...g.rows.values()].flat().map((r) => r.table).filter((t) => t !== g.primary));
    for (const table of secondaries) {
      for (const key of await this.list(`${partitionFolder(this.prefix, g.partition, table)}${this.ctx.streamId}-`, signal)) {
        if (have.has(siblingKey(key, this.prefix, table, g.primary))) continue;
        this.ctx.logger.info({ stream_id: this.ctx.streamId, key }, 's3 destination: removing a secondary object of an unfinished fragment');
        await this.s3().send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal: signal });
      }
    }
  }

  private async list(prefix: string, signal: AbortSignal): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3().send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal });
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  private async idsOf(key: string, signal: AbortSignal): Promise<Set<string>> {
    const cached = this.ids.get(key);
    if (cached) return cached;
    const got = await this.s3().send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal: signal });
    if (!got.Body) throw new FatalError(`s3 destination: s3://${this.config.bucket}/${key} has no body`);
    const ids = await this.codec.eventIds(Buffer.from(await got.Body.transformToByteArray()));
    this.remember(key, ids);
    return ids;
  }

  private remember(key: string, ids: Set<string>) {
    this.ids.set(key, ids);
    if (this.ids.size > ID_CACHE) this.ids.delete(this.ids.keys().next().value!);
  }

  close(): Promise<void> {
    return this.serial(async () => {
      await this.codec.close();
      this.client?.destroy();
      this.client = null;
    });
  }
}
