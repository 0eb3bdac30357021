import { Type } from '@sinclair/typebox';
import { defineDestination, writerOnFirstUse } from '../destination.js';
import type { S3Config } from './writer.js';

export const s3ConfigSchema = Type.Object(
  {
    bucket: Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', description: 'Bucket name (must exist)' }),
    prefix: Type.Optional(Type.String({ maxLength: 512, pattern: '^[^\\\\{}^%`\\[\\]"<>~#|]*$', default: '', description: 'Key prefix, e.g. nylas/streams/' })),
    region: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{2,32}$', default: 'us-east-1', description: 'The bucket’s region' })),
    endpoint: Type.Optional(Type.String({ pattern: '^https?://[^\\s/]+/?$', maxLength: 512, description: 'For S3-compatible stores (MinIO, Ceph, R2…); empty = AWS' })),
    force_path_style: Type.Optional(Type.Boolean({ default: false, description: 'Path-style URLs (most S3-compatible stores need this)' })),
    access_key_id: Type.Optional(Type.String({ minLength: 3, maxLength: 128, description: 'Empty = the default credential chain (instance or task role, environment)' })),
    secret_access_key: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Sealed at rest, never returned' })),
    format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('parquet')], { default: 'ndjson', description: 'NDJSON: one CloudEvent per line; Parquet: the message/participant/grant_event tables' })),
    gzip: Type.Optional(Type.Boolean({ default: true, description: 'Compress NDJSON objects with gzip' })),
  },
  { additionalProperties: false },
);

export const s3Destination = defineDestination<S3Config>({
  type: 's3',
  title: 'Amazon S3 (NDJSON / Parquet)',
  description: 'Objects in Hive partitions type=/date=/hour= of the event time; a redelivered or replayed event never appears twice.',
  configSchema: s3ConfigSchema,
  secretFields: ['secret_access_key'],
  // Large batches make large objects (fewer, cheaper files). Two in flight: one batch is mapped
  // and encoded while the other's last files are compressed and uploaded; the partition index
  // keeps the fragments still uploading, so the two never write the same event (ADR 0225).
  limits: { maxBatch: 10_000, maxWaitMs: 10_000, maxInFlight: 2, ordering: 'per-grant' },
  // Parquet hands message bodies to DuckDB as the log's UTF-8 bytes (ADR 0229); NDJSON parses the
  // object either way, from bytes as cheaply as from the decoded text.
  logObjects: 'bytes',
  create: writerOnFirstUse<S3Config>('s3', async () => {
    const { S3Writer } = await import('./writer.js');
    return (config, ctx) => new S3Writer(config, ctx);
  }),
});
