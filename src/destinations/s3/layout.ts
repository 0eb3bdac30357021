import { createHash } from 'node:crypto';
import type { StoredEvent } from '../../domain/event.js';
import type { TableName } from '../tables.js';

/**
 * Where events land in the bucket (pure, no I/O). Hive-style partitions on the event's own time
 * (deterministic: a redelivered event falls in the same partition as its first copy):
 *   NDJSON   {prefix}type={event type}/date=YYYY-MM-DD/hour=HH/{fragment}.ndjson[.gz]
 *   Parquet  {prefix}{table}/type={event type}/date=YYYY-MM-DD/hour=HH/{fragment}.parquet
 * A fragment is what one write put in one partition; its name carries the stream, the first
 * and last log position it holds and a hash of its first event id, so a later write can tell
 * which positions of this stream's log are already in the partition (ADR 0220).
 */
export type S3Format = 'ndjson' | 'parquet';

export interface Partition {
  type: string;
  date: string;
  hour: string;
}

export interface Fragment {
  key: string;
  first: bigint;
  last: bigint;
}

const POSITION_DIGITS = 20;

export function partitionOf(e: StoredEvent): Partition {
  const iso = new Date(e.time * 1000).toISOString();
  return { type: e.type, date: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

export const partitionId = (p: Partition) => `${p.type}|${p.date}|${p.hour}`;

/** "" or a prefix ending in exactly one slash, without a leading slash. */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? '').replace(/^\/+/, '').replace(/\/+$/, '');
  return p ? `${p}/` : '';
}

/** The folder of a partition; for Parquet, of one table's objects in it. */
export function partitionFolder(prefix: string, p: Partition, table?: TableName): string {
  return `${prefix}${table ? `${table}/` : ''}type=${p.type}/date=${p.date}/hour=${p.hour}/`;
}

export function extension(format: S3Format, gzip: boolean): string {
  return format === 'parquet' ? '.parquet' : gzip ? '.ndjson.gz' : '.ndjson';
}

const pad = (n: bigint) => n.toString().padStart(POSITION_DIGITS, '0');

/** `{stream}-{first}-{last}-{hash}`: positions zero-padded so names sort in log order. */
export function fragmentName(streamId: string, first: bigint, last: bigint, firstEventId: string): string {
  const h = createHash('sha256').update(firstEventId).digest('hex').slice(0, 8);
  return `${streamId}-${pad(first)}-${pad(last)}-${h}`;
}

/** The positions in a fragment's object key, or null when the key is not one of this stream's fragments. */
export function parseFragment(key: string, streamId: string): Fragment | null {
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (!name.startsWith(`${streamId}-`)) return null;
  const m = /^(\d+)-(\d+)-[0-9a-f]{8}\./.exec(name.slice(streamId.length + 1));
  if (!m) return null;
  return { key, first: BigInt(m[1]!), last: BigInt(m[2]!) };
}

/** Same fragment name in another table's folder (Parquet: participant rows beside their message rows). */
export function siblingKey(key: string, prefix: string, from: TableName, to: TableName): string {
  return `${prefix}${to}/${key.slice(prefix.length + from.length + 1)}`;
}
