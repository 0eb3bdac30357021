import { randomBytes } from 'node:crypto';
import { BigQuery, type Dataset } from '@google-cloud/bigquery';
import type { StoredEvent } from '../../domain/event.js';
import { FatalError, RequestPacker, type DestinationContext, type DestinationWriter, type WriteResult } from '../destination.js';
import { RowMappingError, SCHEMA_VERSION, TABLE_NAMES, testRow, toRows, type TableName } from '../tables.js';
import { parseServiceAccount, ServiceAccountTokens } from './auth.js';
import { BIGQUERY_DEFAULTS } from './defaults.js';
import { classifyBigQueryError } from './errors.js';
import { fields, insertRow, mergeStatement, SCHEMA_LABEL, stagingName, stagingResource, tableResource } from './schema.js';

export interface BigQueryConfig {
  service_account_json: string;
  project_id?: string;
  dataset?: string;
  location?: string;
  /** Another BigQuery REST endpoint (a private endpoint or the sandbox); default Google's. */
  api_endpoint?: string;
}

/**
 * tabledata.insertAll: at most 10 MB and 50,000 rows a request. Google advises ~500 rows for
 * latency; for throughput fewer, larger requests win (each request is a round trip), so
 * requests are filled up to 9 MB of encoded rows.
 */
const INSERT_MAX_BYTES = 9 * 1024 * 1024;
const INSERT_MAX_ROWS = 10_000;
/** insertAll requests of one batch kept outstanding at once (the MERGE waits for all of them). */
const STAGE_IN_FLIGHT = 2;
/** A row bigger than this can never be inserted: its event is rejected, not retried. */
export const MAX_ROW_BYTES = 9 * 1024 * 1024;

/** One staged row, encoded once: its insertAll entry as JSON text and that text's byte length. */
interface Staged {
  eventId: string;
  entry: string;
  bytes: number;
}

interface InsertAllResponse {
  insertErrors?: { index: number; errors?: { reason?: string; message?: string }[] }[];
}

/**
 * Exactly-once rows in BigQuery (ADR 0221): each batch is streamed into per-table staging
 * tables under a fresh batch id, then one script MERGEs that batch into the destination tables
 * on their primary keys. A redelivered batch stages again under a new id and its MERGE inserts
 * nothing; rows BigQuery refuses individually are left out of the MERGE and their events
 * rejected.
 */
export class BigQueryWriter implements DestinationWriter {
  private client: { bq: BigQuery; tokens: ServiceAccountTokens; project: string } | null = null;
  private ready: Promise<void> | null = null;
  private readonly dataset: string;
  private readonly location: string;

  constructor(
    private readonly config: BigQueryConfig,
    private readonly ctx: DestinationContext,
  ) {
    this.dataset = config.dataset ?? BIGQUERY_DEFAULTS.dataset;
    this.location = config.location ?? BIGQUERY_DEFAULTS.location;
  }

  private async connect() {
    if (this.client) return this.client;
    const key = parseServiceAccount(this.config.service_account_json);
    const project = this.config.project_id ?? key.project_id;
    if (!project) throw new FatalError('bigquery destination: set project_id (the service account key names no project)');
    const tokens = new ServiceAccountTokens(key, this.ctx);
    let apiEndpoint: string | undefined;
    if (this.config.api_endpoint !== undefined) {
      // The REST client's transport takes no socket lookup: the endpoint is checked, and for
      // plain http (sandboxes) pinned to the checked address.
      const url = this.ctx.outbound.checkUrl(this.config.api_endpoint);
      const [address] = await this.ctx.outbound.resolve(url.hostname);
      if (url.protocol === 'http:') url.hostname = address!.family === 6 ? `[${address!.address}]` : address!.address;
      apiEndpoint = url.origin;
    }
    const bq = new BigQuery({
      projectId: project,
      location: this.location,
      authClient: tokens,
      ...(apiEndpoint ? { apiEndpoint, useAuthWithCustomEndpoint: true } : {}),
      retryOptions: { autoRetry: true, maxRetries: 2 },
    } as ConstructorParameters<typeof BigQuery>[0]);
    this.client = { bq, tokens, project };
    return this.client;
  }

  /** Dataset, destination and staging tables, created if missing; missing columns added (a layout migration). */
  private ensure(): Promise<void> {
    this.ready ??= (async () => {
      const { bq } = await this.connect();
      const ds = bq.dataset(this.dataset, { location: this.location });
      const [exists] = await ds.exists();
      if (!exists) await ds.create({ location: this.location }).catch(ignoreConflict);
      for (const table of TABLE_NAMES) {
        await this.ensureTable(ds, table, tableResource(table));
        if (table !== '_tributary_test') await this.ensureTable(ds, stagingName(table), stagingResource(table));
      }
    })().catch((err: unknown) => {
      this.ready = null;
      throw err;
    });
    return this.ready;
  }

  private async ensureTable(ds: Dataset, name: string, resource: { schema: { fields: { name: string; mode: string }[] }; labels: Record<string, string> }): Promise<void> {
    const t = ds.table(name);
    const [exists] = await t.exists();
    if (!exists) {
      await ds.createTable(name, resource).catch(ignoreConflict);
      return;
    }
    const [meta] = (await t.getMetadata()) as unknown as [{ schema?: { fields?: { name: string }[] }; labels?: Record<string, string> }];
    const have = new Set((meta.schema?.fields ?? []).map((f) => f.name));
    const missing = resource.schema.fields.filter((f) => !have.has(f.name));
    if (missing.length === 0 && meta.labels?.[SCHEMA_LABEL] === String(SCHEMA_VERSION)) return;
    // Columns are only ever added; BigQuery adds them as NULLABLE.
    this.ctx.logger.info({ stream_id: this.ctx.streamId, table: name, columns: missing.map((f) => f.name), from: meta.labels?.[SCHEMA_LABEL], to: SCHEMA_VERSION }, 'bigquery destination: migrating table layout');
    await t.setMetadata({
      schema: { fields: [...(meta.schema?.fields ?? []), ...missing.map((f) => ({ ...f, mode: 'NULLABLE' }))] },
      labels: { ...(meta.labels ?? {}), [SCHEMA_LABEL]: String(SCHEMA_VERSION) },
    });
  }

  async test(): Promise<void> {
    try {
      await this.ensure();
      const { bq } = await this.connect();
      const now = this.ctx.now();
      const row = testRow(`test_${now.getTime()}_${randomBytes(3).toString('hex')}`, this.ctx.streamId, now);
      const cols = fields('_tributary_test').map((f) => `\`${f.name}\``);
      const values = [`'${String(row.id)}'`, `'${this.ctx.streamId.replace(/[\\']/g, '')}'`, `TIMESTAMP '${now.toISOString()}'`];
      await bq.query({ query: `INSERT INTO \`${(await this.connect()).project}.${this.dataset}._tributary_test\` (${cols.join(', ')}) VALUES (${values.join(', ')})`, location: this.location });
    } catch (err) {
      throw classifyBigQueryError(err, 'test connection');
    }
  }

  async write(batch: StoredEvent[]): Promise<WriteResult> {
    const now = this.ctx.now();
    const rejected: WriteResult['rejected'] = [];
    const batchId = `${this.ctx.streamId}-${now.getTime().toString(36)}-${randomBytes(6).toString('hex')}`;
    try {
      await this.ensure();
      const { bq, project } = await this.connect();
      const refused: WriteResult['rejected'] = [];
      const tables = new Set<TableName>();
      // Rows are encoded and sent as they are mapped: a full request goes out while the next is built.
      const packer = new RequestPacker<TableName, Staged>({ maxItems: INSERT_MAX_ROWS, maxBytes: INSERT_MAX_BYTES, inFlight: STAGE_IN_FLIGHT }, (table, rows) => this.insertAll(table, rows, refused));
      let seq = 0;
      for (const e of batch) {
        const rows = this.rowsOf(e, now, rejected, () => `${batchId}-${(seq += 1)}`, batchId);
        for (const { table, entry, bytes } of rows ?? []) {
          tables.add(table);
          await packer.add(table, { eventId: e.id, entry, bytes }, bytes + 1);
        }
      }
      await packer.finish();
      const excluded = new Set<string>();
      for (const r of refused) {
        if (excluded.has(r.id)) continue;
        excluded.add(r.id);
        rejected.push(r);
      }
      const statements = [...tables].map((t) => mergeStatement(project, this.dataset, t, batchId, [...excluded]));
      if (statements.length) await bq.query({ query: statements.join(';\n'), location: this.location });
      return { rejected };
    } catch (err) {
      const outcome = classifyBigQueryError(err, `writing to ${this.dataset}`);
      if ((err as { code?: number }).code === 404) this.ready = null; // a table or dataset deleted meanwhile: recreate on retry
      throw outcome;
    }
  }

  /**
   * The insertAll entries of one event's rows, each encoded to JSON once (the request body is
   * their concatenation), or null when the event is rejected (unmappable, or a row over
   * BigQuery's size limit).
   */
  private rowsOf(e: StoredEvent, now: Date, rejected: WriteResult['rejected'], insertId: () => string, batchId: string): { table: TableName; entry: string; bytes: number }[] | null {
    try {
      const rows = toRows(e, now).flatMap(({ table, rows }) =>
        rows.map((row) => {
          const entry = JSON.stringify({ insertId: insertId(), json: insertRow(row, batchId, e.id) });
          return { table, entry, bytes: Buffer.byteLength(entry) };
        }),
      );
      const big = rows.find((r) => r.bytes > MAX_ROW_BYTES);
      if (big) {
        rejected.push({ id: e.id, reason: `${e.type} event ${e.id}: its ${big.table} row is larger than BigQuery accepts in one insert (${MAX_ROW_BYTES} bytes)`, status: 413 });
        return null;
      }
      return rows;
    } catch (err) {
      if (!(err instanceof RowMappingError)) throw err;
      rejected.push({ id: e.id, reason: err.message });
      return null;
    }
  }

  /**
   * One insertAll request into a table's staging table; the events whose rows BigQuery refused
   * are added to `refused`. The body is the rows' encoded entries joined, sent through the
   * official client's authenticated request (its auth, endpoint and retries): `Table.insert`
   * would deep-copy the rows three times, walk every value for a `{{projectId}}` placeholder
   * and encode them again, per request.
   */
  private async insertAll(table: TableName, rows: Staged[], refused: WriteResult['rejected']): Promise<void> {
    const { bq } = await this.connect();
    const body = Buffer.from(`{"skipInvalidRows":true,"rows":[${rows.map((r) => r.entry).join(',')}]}`);
    const target = bq.dataset(this.dataset).table(stagingName(table));
    const [response] = (await target.request({ method: 'POST', uri: '/insertAll', body, headers: { 'Content-Type': 'application/json' } })) as unknown as [InsertAllResponse | undefined];
    for (const failure of response?.insertErrors ?? []) {
      const first = failure.errors?.find((x) => x.reason !== 'stopped') ?? failure.errors?.[0];
      if (first?.reason === 'stopped') throw new FatalError('bigquery destination: insertAll stopped rows without naming an invalid one');
      const row = rows[failure.index];
      if (!row) throw new FatalError(`bigquery destination: insertAll reported an error for row ${failure.index} of a request of ${rows.length}`);
      refused.push({ id: row.eventId, reason: `BigQuery refused its ${table} row: ${first?.reason ?? 'invalid'}: ${first?.message ?? ''}`.trim(), status: 400 });
    }
  }

  async close(): Promise<void> {
    await this.client?.tokens.close();
    this.client = null;
  }
}

function ignoreConflict(err: unknown): void {
  if ((err as { code?: number }).code !== 409) throw err;
}
