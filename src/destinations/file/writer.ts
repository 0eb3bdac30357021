import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredEvent } from '../../domain/event.js';
import { type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { RowMappingError, rowsByTable, testRow, toRows, type TableRows } from '../tables.js';
import { confineRoot, ensureRealRoot } from './confine.js';
import { FILE_DEFAULTS, type FileFormat } from './defaults.js';
import { hourParts, partName, publish, toFileError } from './fs-atomic.js';
import { NdjsonSink, type RollPolicy } from './ndjson.js';
import { ParquetSink } from './parquet.js';

export interface FileConfig {
  /** Absolute directory; default `${dataDir}/streams/${streamId}`. */
  root?: string;
  format?: FileFormat;
  roll_max_bytes?: number;
  roll_max_seconds?: number;
}

/** The directories a file destination may write under: the data directory and the operator's allowed roots. */
export const allowedBases = (ctx: DestinationContext): string[] => [ctx.dataDir, ...(ctx.fileRoots ?? [])];

/** The directory a config writes into (see confine.ts for what is refused). */
export function rootOf(config: FileConfig, ctx: DestinationContext): string {
  if (config.root === undefined) return join(ctx.dataDir, 'streams', ctx.streamId);
  return confineRoot(config.root, allowedBases(ctx));
}

/**
 * The embedded default destination: a directory of NDJSON and/or Parquet files. One writer per
 * stream (the engine's lease guarantees it); calls are serialized because both sinks keep open
 * state. Events the table layout cannot map are rejected from both formats alike.
 */
export class FileWriter implements DestinationWriter {
  private readonly ndjson: NdjsonSink | null;
  private readonly parquet: ParquetSink | null;
  private readonly root: string;
  /** A config problem found at creation, reported by every call (create itself never throws). */
  private readonly problem: Error | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** Set once the root's real path was checked (a symlink may lead out of the allowed bases). */
  private rootChecked = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    config: FileConfig,
    private readonly ctx: DestinationContext,
  ) {
    let root = '';
    try {
      root = rootOf(config, ctx);
    } catch (err) {
      this.problem = err as Error;
    }
    this.root = root;
    const format = config.format ?? FILE_DEFAULTS.format;
    const policy: RollPolicy = {
      maxBytes: config.roll_max_bytes ?? FILE_DEFAULTS.roll_max_bytes,
      maxAgeMs: (config.roll_max_seconds ?? FILE_DEFAULTS.roll_max_seconds) * 1000,
    };
    this.ndjson = format === 'parquet' ? null : new NdjsonSink(this.root, policy);
    this.parquet = format === 'ndjson' ? null : new ParquetSink(this.root, policy);
    // Publishes files whose hour or age is over even when no new events arrive.
    this.timer = setInterval(() => void this.serial(() => this.rollDue()).catch((err: unknown) => this.logFailure(err)), Math.min(policy.maxAgeMs, 60_000));
    this.timer.unref();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const guarded = async () => {
      if (this.problem) throw this.problem;
      if (!this.rootChecked) {
        await ensureRealRoot(this.root, allowedBases(this.ctx));
        this.rootChecked = true;
      }
      return fn();
    };
    const run = this.queue.then(guarded, guarded);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private logFailure(err: unknown) {
    this.ctx.logger.warn({ stream_id: this.ctx.streamId, err: (err as Error).message }, 'file destination: roll failed; retried on the next write');
  }

  private async rollDue() {
    const now = this.ctx.now();
    await this.ndjson?.rollDue(now);
    await this.parquet?.rollDue(now);
  }

  test(): Promise<void> {
    return this.serial(async () => {
      try {
        const now = this.ctx.now();
        const row = testRow(`test_${now.getTime()}`, this.ctx.streamId, now);
        if (this.ndjson) {
          const { day, hour } = hourParts(now);
          const staging = join(this.root, '.staging');
          await mkdir(staging, { recursive: true });
          const tmp = join(staging, 'test.ndjson');
          await writeFile(tmp, `${JSON.stringify(row)}\n`);
          await publish(tmp, join(this.root, 'ndjson', '_tributary_test', day, `${hour}-${partName(now)}.ndjson`));
        }
        await this.parquet?.writeTest(row, now);
      } catch (err) {
        throw toFileError(err);
      }
    });
  }

  write(batch: StoredEvent[], signal: AbortSignal): Promise<WriteResult> {
    return this.serial(async () => {
      // A stop or lost lease while waiting behind the previous call: write nothing.
      signal.throwIfAborted();
      const now = this.ctx.now();
      const rejected: WriteResult['rejected'] = [];
      let accepted = batch;
      const groups: TableRows[] = [];
      if (this.parquet) {
        accepted = [];
        for (const e of batch) {
          try {
            groups.push(...toRows(e, now));
            accepted.push(e);
          } catch (err) {
            if (!(err instanceof RowMappingError)) throw err;
            rejected.push({ id: e.id, reason: err.message });
          }
        }
      }
      try {
        await this.ndjson?.write(accepted, now);
        await this.parquet?.write(rowsByTable(groups), now);
      } catch (err) {
        throw toFileError(err);
      }
      return { rejected };
    });
  }

  close(): Promise<void> {
    clearInterval(this.timer);
    // Nothing was ever written when the root was refused or never checked.
    if (this.problem || !this.rootChecked) return Promise.resolve();
    return this.serial(async () => {
      await this.ndjson?.close();
      await this.parquet?.close(this.ctx.now());
    });
  }
}
