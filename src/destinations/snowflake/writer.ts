import { randomBytes } from 'node:crypto';
import type { StoredEvent } from '../../domain/event.js';
import { FatalError, RequestPacker, RetryableError, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { RowMappingError, testRow, toRows, type Cell, type TableName } from '../tables.js';
import { SnowflakeSqlError, SqlApiClient } from './client.js';
import { loadKeyPair } from './jwt.js';
import { ensureStatements, ident, MAX_VALUE_BYTES, mergeStatements, stageInsert, valueBytes } from './schema.js';
import { SNOWFLAKE_DEFAULTS } from './setup.js';

export interface SnowflakeConfig {
  account: string;
  user: string;
  private_key: string;
  private_key_passphrase?: string;
  role?: string;
  warehouse?: string;
  database?: string;
  schema?: string;
  /** Default https://<account>.snowflakecomputing.com (set for PrivateLink or a sandbox). */
  account_url?: string;
}

/** Rows per INSERT request and the bytes of bound values per request. */
const INSERT_MAX_ROWS = 16_384;
const INSERT_MAX_BYTES = 8 * 1024 * 1024;
/** INSERT requests of one batch kept outstanding at once. */
const STAGE_IN_FLIGHT = 2;

interface Staged {
  row: Record<string, Cell>;
  eventId: string;
}

/**
 * Exactly-once rows in Snowflake (ADR 0222): a batch goes into transient staging tables under a
 * batch id with multi-row INSERTs (array bindings), then one multi-statement request MERGEs it
 * on the primary keys and removes the staged rows, in a transaction. A redelivered batch merges
 * nothing new.
 */
export class SnowflakeWriter implements DestinationWriter {
  private client: SqlApiClient | null = null;
  private ready: Promise<void> | null = null;

  constructor(
    private readonly config: SnowflakeConfig,
    private readonly ctx: DestinationContext,
  ) {}

  private api(): SqlApiClient {
    if (this.client) return this.client;
    const keys = loadKeyPair(this.config.private_key, this.config.private_key_passphrase);
    const url = this.config.account_url ?? `https://${this.config.account.toLowerCase()}.snowflakecomputing.com`;
    this.client = new SqlApiClient(
      {
        account: this.config.account,
        user: this.config.user,
        role: this.config.role ?? SNOWFLAKE_DEFAULTS.role,
        warehouse: this.config.warehouse ?? SNOWFLAKE_DEFAULTS.warehouse,
        database: this.config.database ?? SNOWFLAKE_DEFAULTS.database,
        schema: this.config.schema ?? SNOWFLAKE_DEFAULTS.schema,
      },
      keys,
      url,
      this.ctx,
    );
    return this.client;
  }

  private ensure(): Promise<void> {
    this.ready ??= (async () => {
      const statements = ensureStatements();
      await this.api().execute(statements.join(';\n'), { count: statements.length });
    })().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  async test(): Promise<void> {
    try {
      await this.ensure();
      const now = this.ctx.now();
      const row = testRow(`test_${now.getTime()}_${randomBytes(3).toString('hex')}`, this.ctx.streamId, now);
      await this.api().execute(`INSERT INTO ${ident('_tributary_test')} (${['id', 'stream_id', 'written_at'].map(ident).join(', ')}) SELECT ?, ?, TO_TIMESTAMP_TZ(?)`, {
        bindings: { '1': { type: 'TEXT', value: String(row.id) }, '2': { type: 'TEXT', value: this.ctx.streamId }, '3': { type: 'TEXT', value: now.toISOString() } },
      });
    } catch (err) {
      throw classify(err, 'test connection');
    }
  }

  async write(batch: StoredEvent[]): Promise<WriteResult> {
    const now = this.ctx.now();
    const rejected: WriteResult['rejected'] = [];
    const batchId = `${this.ctx.streamId}-${now.getTime().toString(36)}-${randomBytes(6).toString('hex')}`;
    try {
      await this.ensure();
      const tables = new Set<TableName>();
      // Rows are bound and sent as they are mapped: a full INSERT goes out while the next is built.
      const packer = new RequestPacker<TableName, Staged>({ maxItems: INSERT_MAX_ROWS, maxBytes: INSERT_MAX_BYTES, inFlight: STAGE_IN_FLIGHT }, async (table, rows) => {
        const { sql, bindings } = stageInsert(table, rows, batchId);
        await this.api().execute(sql, { bindings });
      });
      for (const e of batch) {
        for (const { table, row, bytes } of this.rowsOf(e, now, rejected) ?? []) {
          tables.add(table);
          await packer.add(table, { row, eventId: e.id }, bytes);
        }
      }
      await packer.finish();
      if (tables.size === 0) return { rejected };
      const statements = ['BEGIN', ...[...tables].flatMap((t) => mergeStatements(t, batchId)), 'COMMIT'];
      await this.api().execute(statements.join(';\n'), { count: statements.length });
      return { rejected };
    } catch (err) {
      if (err instanceof SnowflakeSqlError && err.code === '002003') this.ready = null; // an object dropped meanwhile: recreate on retry
      throw classify(err, 'writing a batch');
    }
  }

  /**
   * Rows of one event with their bound values' bytes (each value measured once), or null when it
   * is rejected (unmappable, or a value over Snowflake's 16 MB limit).
   */
  private rowsOf(e: StoredEvent, now: Date, rejected: WriteResult['rejected']): { table: TableName; row: Record<string, Cell>; bytes: number; largest: number }[] | null {
    let rows;
    try {
      rows = toRows(e, now).flatMap((g) => g.rows.map((row) => ({ table: g.table, row, ...valueBytes(row) })));
    } catch (err) {
      if (!(err instanceof RowMappingError)) throw err;
      rejected.push({ id: e.id, reason: err.message });
      return null;
    }
    const big = rows.find((r) => r.largest > MAX_VALUE_BYTES);
    if (big) {
      rejected.push({ id: e.id, reason: `${e.type} event ${e.id}: a value of its ${big.table} row is larger than Snowflake's 16 MB limit for VARCHAR/VARIANT`, status: 413 });
      return null;
    }
    return rows;
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = null;
  }
}

/** SQL errors that a retry cannot fix (missing database/schema, no privilege) fail the stream; the rest retry. */
function classify(err: unknown, what: string): FatalError | RetryableError {
  if (err instanceof FatalError || err instanceof RetryableError) return err;
  if (err instanceof SnowflakeSqlError) {
    if (err.code === '002003' || err.code === '003001' || err.code === '090105' || err.code === '000606') {
      return new FatalError(`${err.message} — run the setup script (role, warehouse, database, schema and grants) shown for this destination`, err.status);
    }
    return new RetryableError(`snowflake destination: ${what}: ${err.message}`, undefined, err.status);
  }
  return new RetryableError(`snowflake destination: ${what}: ${(err as Error).message}`);
}
