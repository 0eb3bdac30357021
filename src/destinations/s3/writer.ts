import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { StoredEvent } from '../../domain/event.js';
import { FatalError, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { RowMappingError, SCHEMA_VERSION, testRow, type TableName, type TableRows } from '../tables.js';
import { createS3Client, type S3Connection } from './client.js';
import { FragmentCodec, type EncodedObject } from './encode.js';
import { classifyS3Error } from './errors.js';
import { FragmentIndex, type Claim } from './fragment-index.js';
import { logRows } from './log-rows.js';
import { extension, fragmentName, normalizePrefix, parseFragment, partitionFolder, partitionId, partitionOf, siblingKey, type Fragment, type Partition, type S3Format } from './layout.js';

export interface S3Config extends S3Connection {
  prefix?: string;
  format?: S3Format;
  gzip?: boolean;
}

/** Objects above this go up in parts (S3 parts are 5 MiB–5 GiB, at most 10,000 per object). */
const PART_BYTES = 8 * 1024 * 1024;

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
 * (the engine's lease); its batches may be in flight together, the partition index keeps the
 * fragments they are still uploading so they never write the same event twice (ADR 0225).
 */
export class S3Writer implements DestinationWriter {
  private client: S3Client | null = null;
  private readonly prefix: string;
  private readonly format: S3Format;
  private readonly gzip: boolean;
  private readonly codec: FragmentCodec;
  private readonly index = new FragmentIndex();
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly config: S3Config,
    private readonly ctx: DestinationContext,
    /** Whether log-read messages may be mapped by DuckDB (ADR 0228); off only to measure or compare the JS mapping. */
    private readonly sqlMapping = true,
  ) {
    this.prefix = normalizePrefix(config.prefix);
    this.format = config.format ?? 'ndjson';
    this.gzip = this.format === 'ndjson' && (config.gzip ?? true);
    this.codec = new FragmentCodec(this.format, this.gzip, this.prefix);
  }

  private s3(): S3Client {
    this.client ??= createS3Client(this.config, this.ctx);
    return this.client;
  }

  /** Runs a call, remembered until it settles, so close() can wait for the writes in flight. */
  private tracked<T>(fn: () => Promise<T>): Promise<T> {
    const run = fn();
    const settled: Promise<unknown> = run.then(
      () => this.inFlight.delete(settled),
      () => this.inFlight.delete(settled),
    );
    this.inFlight.add(settled);
    return run;
  }

  test(): Promise<void> {
    return this.tracked(async () => {
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
    return this.tracked(async () => {
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
          rows = logRows(e, now, this.sqlMapping);
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

  /** Claims the group's new events (if any) as a fragment, encodes and uploads it. */
  private async writeGroup(g: Group, signal: AbortSignal): Promise<void> {
    const ext = extension(this.format, this.gzip);
    const claim = await this.index.claim(partitionId(g.partition), g.events, {
      list: () => this.loadPartition(g, signal),
      read: (key) => this.idsOf(key, signal),
      keyOf: (fresh) => {
        const first = BigInt(fresh[0]!.seq);
        const last = BigInt(fresh[fresh.length - 1]!.seq);
        return { key: `${this.primaryFolder(g)}${this.nameOf(fresh)}${ext}`, first, last };
      },
    });
    if (!claim) return;
    let outcome: 'kept' | 'failed' | 'unknown' = 'failed';
    try {
      await this.uploadFragment(g, claim, signal, () => (outcome = 'unknown'));
      outcome = 'kept';
    } finally {
      claim.settle(outcome);
    }
  }

  private nameOf(fresh: StoredEvent[]): string {
    return fragmentName(this.ctx.streamId, BigInt(fresh[0]!.seq), BigInt(fresh[fresh.length - 1]!.seq), fresh[0]!.id);
  }

  /** Uploads the fragment's objects; `sendingPrimary` is called once the primary object's PUT starts. */
  private async uploadFragment(g: Group, { fresh, fragment }: Claim, signal: AbortSignal, sendingPrimary: () => void): Promise<void> {
    const objects = await this.codec.encode({ partition: g.partition, name: this.nameOf(fresh), events: fresh, rows: fresh.flatMap((e) => g.rows.get(e.id) ?? []), primary: g.primary ?? 'message' });
    const metadata = {
      'tributary-stream': this.ctx.streamId,
      'tributary-count': String(fresh.length),
      'tributary-first-id': encodeURIComponent(fresh[0]!.id),
      'tributary-last-id': encodeURIComponent(fresh[fresh.length - 1]!.id),
      'tributary-first-position': fragment.first.toString(),
      'tributary-last-position': fragment.last.toString(),
      'tributary-schema-version': String(SCHEMA_VERSION),
    };
    // Secondary tables first, the primary last: a fragment exists once its primary object does.
    const primary = objects[objects.length - 1]!;
    if (primary.key !== fragment.key) throw new Error(`s3 destination: encoded ${primary.key} for the fragment claimed as ${fragment.key}`);
    const secondaries = objects.slice(0, -1);
    try {
      await Promise.all(secondaries.map((o) => this.upload(o, metadata, signal)));
    } catch (err) {
      // Without its primary the fragment does not exist, and a retry formed differently would
      // duplicate these rows: remove what went up (best effort; a new writer's listing also does).
      await Promise.allSettled(secondaries.map((o) => this.s3().send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: o.key }))));
      throw err;
    }
    sendingPrimary();
    await this.upload(primary, metadata, signal);
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

  /** This stream's fragments in the group's partition, after removing what an interrupted write left. */
  private async loadPartition(g: Group, signal: AbortSignal): Promise<Fragment[]> {
    const primary = await this.list(`${this.primaryFolder(g)}${this.ctx.streamId}-`, signal);
    const fragments = primary.map((k) => parseFragment(k, this.ctx.streamId)).filter((f): f is Fragment => f !== null);
    if (this.format !== 'parquet' || !g.primary) return fragments;
    // A writer killed between a fragment's secondary objects (participant rows) and its primary
    // object leaves orphans that a differently formed redelivery would duplicate: remove them.
    // (No batch of this writer uploads into the partition before this listing is done.)
    const have = new Set(primary);
    const secondaries = new Set([...g.rows.values()].flat().map((r) => r.table).filter((t) => t !== g.primary));
    for (const table of secondaries) {
      for (const key of await this.list(`${partitionFolder(this.prefix, g.partition, table)}${this.ctx.streamId}-`, signal)) {
        if (have.has(siblingKey(key, this.prefix, table, g.primary))) continue;
        this.ctx.logger.info({ stream_id: this.ctx.streamId, key }, 's3 destination: removing a secondary object of an unfinished fragment');
        await this.s3().send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal: signal });
      }
    }
    return fragments;
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
    let got;
    try {
      got = await this.s3().send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key }), { abortSignal: signal });
    } catch (err) {
      // A fragment whose upload failed without an answer may never have landed: it holds nothing.
      if ((err as { name?: string }).name === 'NoSuchKey') return new Set();
      throw err;
    }
    if (!got.Body) throw new FatalError(`s3 destination: s3://${this.config.bucket}/${key} has no body`);
    return this.codec.eventIds(Buffer.from(await got.Body.transformToByteArray()));
  }

  async close(): Promise<void> {
    // The writes still in flight finish (or fail) first: they use the encoder and the client.
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
    await this.codec.close();
    this.client?.destroy();
    this.client = null;
  }
}
