/** What the config schema (definition.ts) and the writer share, in a module that loads neither DuckDB nor the file system code. */
export type FileFormat = 'ndjson' | 'parquet' | 'both';

export const FILE_DEFAULTS = { format: 'ndjson' as FileFormat, roll_max_bytes: 128 * 1024 * 1024, roll_max_seconds: 3600 };
