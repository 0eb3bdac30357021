import { Type } from '@sinclair/typebox';
import { defineDestination, writerOnFirstUse } from '../destination.js';
import { FILE_DEFAULTS } from './defaults.js';
import type { FileConfig } from './writer.js';

export const fileConfigSchema = Type.Object(
  {
    root: Type.Optional(Type.String({ pattern: '^/', maxLength: 1024, description: 'Absolute directory; default <data dir>/streams/<stream id>' })),
    format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('parquet'), Type.Literal('both')], { default: FILE_DEFAULTS.format })),
    roll_max_bytes: Type.Optional(Type.Integer({ minimum: 1024, default: FILE_DEFAULTS.roll_max_bytes, description: 'Start a new file past this size' })),
    roll_max_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, default: FILE_DEFAULTS.roll_max_seconds, description: 'Publish a file at the latest this long after it was started' })),
  },
  { additionalProperties: false },
);

export const fileDestination = defineDestination<FileConfig>({
  type: 'file',
  title: 'Files (NDJSON / Parquet)',
  description: 'NDJSON files per event type and hour and/or Parquet files in the message/participant/grant_event layout, published atomically.',
  configSchema: fileConfigSchema,
  secretFields: [],
  limits: { maxBatch: 1000, maxWaitMs: 1000, maxInFlight: 1, ordering: 'per-grant' },
  create: writerOnFirstUse<FileConfig>('file', async () => {
    const { FileWriter } = await import('./writer.js');
    return (config, ctx) => new FileWriter(config, ctx);
  }),
});
