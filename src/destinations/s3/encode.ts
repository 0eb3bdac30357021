import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { toCloudEvent, type StoredEvent } from '../../domain/event.js';
import { ParquetEncoder } from '../parquet.js';
import { rowsByTable, type TableName, type TableRows } from '../tables.js';
import { extension, partitionFolder, type Partition, type S3Format } from './layout.js';
import { parquetOptions } from './log-rows.js';

/** One object to upload: secondaries (participant) come before the primary table of the fragment. */
export interface EncodedObject {
  key: string;
  body: Buffer;
  contentType: string;
  contentEncoding?: string;
}

export interface FragmentInput {
  partition: Partition;
  name: string;
  events: StoredEvent[];
  /** Parquet only: the rows of `events` (already mapped by logRows; unmappable events were rejected before). */
  rows: TableRows[];
  primary: TableName;
}

/**
 * Encodes fragments as NDJSON (one CloudEvent per line, optionally gzip) or as Parquet in the
 * table layout (one file per table, through the shared DuckDB encoder), and reads the event ids
 * of an existing fragment back (the replay check of ADR 0220).
 */
export class FragmentCodec {
  private readonly parquet = new ParquetEncoder();
  private dir: Promise<string> | null = null;

  constructor(
    private readonly format: S3Format,
    private readonly gzip: boolean,
    private readonly prefix: string,
  ) {}

  private scratch(): Promise<string> {
    this.dir ??= mkdtemp(join(tmpdir(), 'tributary-s3-'));
    return this.dir;
  }

  /** Objects of a fragment; the primary object (the one holding event ids) is last. */
  async encode(f: FragmentInput): Promise<EncodedObject[]> {
    const ext = extension(this.format, this.gzip);
    if (this.format === 'ndjson') {
      const text = Buffer.from(f.events.map((e) => `${JSON.stringify(toCloudEvent(e))}\n`).join(''));
      return [
        {
          key: `${partitionFolder(this.prefix, f.partition)}${f.name}${ext}`,
          body: this.gzip ? gzipSync(text, { level: 6 }) : text,
          contentType: 'application/x-ndjson',
          ...(this.gzip ? { contentEncoding: 'gzip' } : {}),
        },
      ];
    }
    const dir = await this.scratch();
    const tables = [...rowsByTable(f.rows)].sort(([a], [b]) => Number(a === f.primary) - Number(b === f.primary));
    // The tables of a fragment encode concurrently (the encoder bounds how many at once); the
    // order of the result is kept: secondaries first, the primary last.
    return Promise.all(
      tables.map(async ([table, rows]) => {
        const path = join(dir, `${table}-${f.name}.parquet`);
        try {
          await this.parquet.writeParquetFile(table, rows, path, parquetOptions(table));
          return { key: `${partitionFolder(this.prefix, f.partition, table)}${f.name}${ext}`, body: await readFile(path), contentType: 'application/vnd.apache.parquet' };
        } finally {
          await rm(path, { force: true });
        }
      }),
    );
  }

  /** The event ids held by a fragment's primary object. */
  async eventIds(body: Buffer): Promise<Set<string>> {
    if (this.format === 'ndjson') {
      const text = (this.gzip ? gunzipSync(body) : body).toString('utf8');
      const ids = new Set<string>();
      for (const line of text.split('\n')) if (line) ids.add((JSON.parse(line) as { id: string }).id);
      return ids;
    }
    const path = join(await this.scratch(), `read-${process.hrtime.bigint()}.parquet`);
    await writeFile(path, body);
    try {
      return new Set(await this.parquet.readColumn(path, 'event_id'));
    } finally {
      await rm(path, { force: true });
    }
  }

  async close(): Promise<void> {
    await this.parquet.close();
    if (this.dir) await rm(await this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
