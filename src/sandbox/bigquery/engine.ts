import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { BqError, invalid, invalidQuery, notFound } from './errors.js';
import { splitScript, statementType, translate, type StatementType } from './sql.js';

/** A table field as BigQuery's REST API describes it. */
export interface Field {
  name: string;
  type: string;
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED';
  description?: string;
}

export interface TableResource {
  tableReference: { projectId: string; datasetId: string; tableId: string };
  schema: { fields: Field[] };
  timePartitioning?: { type: string; field?: string; expirationMs?: string };
  clustering?: { fields: string[] };
  labels?: Record<string, string>;
  description?: string;
  expirationTime?: string;
  [k: string]: unknown;
}

export interface InsertError {
  index: number;
  errors: { reason: string; location: string; debugInfo: string; message: string }[];
}

export interface QueryOutcome {
  statementType: StatementType | 'SCRIPT';
  numDmlAffectedRows?: number;
  schema?: { fields: Field[] };
  rows?: { f: { v: string | null }[] }[];
}

const DUCK: Record<string, string> = { STRING: 'VARCHAR', INT64: 'BIGINT', INTEGER: 'BIGINT', BOOL: 'BOOLEAN', BOOLEAN: 'BOOLEAN', TIMESTAMP: 'TIMESTAMPTZ', JSON: 'VARCHAR', FLOAT64: 'DOUBLE', FLOAT: 'DOUBLE', DATE: 'DATE', NUMERIC: 'DECIMAL(38,9)' };
const FROM_DUCK: Record<string, string> = { VARCHAR: 'STRING', BIGINT: 'INTEGER', INTEGER: 'INTEGER', HUGEINT: 'INTEGER', BOOLEAN: 'BOOLEAN', 'TIMESTAMP WITH TIME ZONE': 'TIMESTAMP', DOUBLE: 'FLOAT', DATE: 'DATE' };
/** tabledata.insertAll limits (quotas page): rows per request, bytes per row. */
export const MAX_ROWS_PER_INSERT = 50_000;
export const MAX_ROW_BYTES = 10 * 1024 * 1024;
/** insertId de-duplication is best effort for about a minute, as documented. */
const INSERT_ID_WINDOW_MS = 60_000;

const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
const ID = /^[A-Za-z0-9_]{1,1024}$/;

/**
 * The sandbox's storage: datasets are DuckDB schemas, tables DuckDB tables, and the REST
 * resources (schema, partitioning, labels…) are kept beside them as given.
 */
export class Engine {
  private conn!: DuckDBConnection;
  private db!: DuckDBInstance;
  readonly datasets = new Map<string, Record<string, unknown>>();
  readonly tables = new Map<string, TableResource>();
  private readonly insertIds = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly project: string,
    private readonly now: () => number,
  ) {}

  async open(): Promise<void> {
    // An in-memory database checkpoints too (every 16 MB of changes by default): it compresses
    // what was written, a few hundred ms of CPU for a batch-sized commit, for no durability.
    // Sandboxes hold test and benchmark data only, so they never checkpoint. One thread: a
    // second one cost ~40 % more CPU per MERGE and was no faster beside the client on 2 cores.
    this.db = await DuckDBInstance.create(':memory:', { threads: '1', checkpoint_threshold: '1TB' });
    this.conn = await this.db.connect();
  }

  /** DuckDB connections run one statement at a time; requests are queued. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  dataset(id: string): Record<string, unknown> {
    const d = this.datasets.get(id);
    if (!d) throw notFound(`Dataset ${this.project}:${id}`);
    return d;
  }

  createDataset(body: { datasetReference?: { datasetId?: string; projectId?: string }; location?: string; [k: string]: unknown }) {
    const id = body.datasetReference?.datasetId;
    if (!id || !ID.test(id)) throw invalid('Invalid dataset ID: must contain only letters, numbers or underscores');
    return this.serial(async () => {
      if (this.datasets.has(id)) throw new BqError(409, 'duplicate', `Already Exists: Dataset ${this.project}:${id}`);
      await this.conn.run(`CREATE SCHEMA ${q(id)}`);
      const resource = { kind: 'bigquery#dataset', ...body, id: `${this.project}:${id}`, datasetReference: { projectId: this.project, datasetId: id }, location: body.location ?? 'US', creationTime: String(this.now()) };
      this.datasets.set(id, resource);
      return resource;
    });
  }

  table(ds: string, id: string): TableResource {
    this.dataset(ds);
    const t = this.tables.get(`${ds}.${id}`);
    if (!t || (t.expirationTime && Number(t.expirationTime) <= this.now())) throw notFound(`Table ${this.project}:${ds}.${id}`);
    return t;
  }

  private columnDdl(f: Field): string {
    const type = DUCK[f.type?.toUpperCase()];
    if (!type || f.mode === 'REPEATED') throw invalid(`Field ${f.name}: type ${f.type}${f.mode === 'REPEATED' ? ' REPEATED' : ''} is not supported by the sandbox`);
    if (!ID.test(f.name)) throw invalid(`Invalid field name "${f.name}". Fields must contain only letters, numbers, and underscores`);
    return `${q(f.name)} ${type}`;
  }

  createTable(ds: string, body: TableResource) {
    this.dataset(ds);
    const id = body.tableReference?.tableId;
    if (!id || !ID.test(id)) throw invalid('Invalid table ID');
    const fields = body.schema?.fields ?? [];
    if (fields.length === 0) throw invalid('Schema has no fields');
    const partitionField = body.timePartitioning?.field;
    if (partitionField && !fields.some((f) => f.name === partitionField && ['TIMESTAMP', 'DATE'].includes(f.type.toUpperCase()))) {
      throw invalid(`The field specified for time partitioning can only be of type TIMESTAMP, DATE or DATETIME: ${partitionField}`);
    }
    return this.serial(async () => {
      const key = `${ds}.${id}`;
      if (this.tables.has(key)) throw new BqError(409, 'duplicate', `Already Exists: Table ${this.project}:${key}`);
      await this.conn.run(`CREATE TABLE ${q(ds)}.${q(id)} (${fields.map((f) => this.columnDdl(f)).join(', ')})`);
      const resource: TableResource = { kind: 'bigquery#table', ...body, id: `${this.project}:${key}`, tableReference: { projectId: this.project, datasetId: ds, tableId: id }, creationTime: String(this.now()), type: 'TABLE' };
      this.tables.set(key, resource);
      return resource;
    });
  }

  /** tables.patch/update: new fields are appended (columns are never removed or retyped); other properties replaced. */
  patchTable(ds: string, id: string, body: Partial<TableResource>) {
    const current = this.table(ds, id);
    return this.serial(async () => {
      if (body.schema) {
        const have = new Map(current.schema.fields.map((f) => [f.name, f]));
        for (const f of current.schema.fields) {
          if (!body.schema.fields.some((n) => n.name === f.name)) throw invalid(`Provided Schema does not match Table ${this.project}:${ds}.${id}. Field ${f.name} is missing in new schema`);
        }
        for (const f of body.schema.fields) {
          const old = have.get(f.name);
          if (old && old.type.toUpperCase() !== f.type.toUpperCase()) throw invalid(`Provided Schema does not match Table ${this.project}:${ds}.${id}. Field ${f.name} has changed type from ${old.type} to ${f.type}`);
          if (!old) {
            if (f.mode === 'REQUIRED') throw invalid(`Provided Schema does not match Table ${this.project}:${ds}.${id}. Cannot add required field ${f.name}`);
            await this.conn.run(`ALTER TABLE ${q(ds)}.${q(id)} ADD COLUMN ${this.columnDdl(f)}`);
          }
        }
      }
      const updated = { ...current, ...body, tableReference: current.tableReference, lastModifiedTime: String(this.now()) } as TableResource;
      this.tables.set(`${ds}.${id}`, updated);
      return updated;
    });
  }

  deleteTable(ds: string, id: string) {
    this.table(ds, id);
    return this.serial(async () => {
      await this.conn.run(`DROP TABLE ${q(ds)}.${q(id)}`);
      this.tables.delete(`${ds}.${id}`);
    });
  }

  /** tabledata.insertAll: per-row validation as BigQuery reports it; valid rows appended unless another row was invalid and skipInvalidRows is off. */
  insertAll(ds: string, id: string, body: { rows?: { insertId?: string; json?: Record<string, unknown> }[]; skipInvalidRows?: boolean; ignoreUnknownValues?: boolean }) {
    const table = this.table(ds, id);
    const rows = body.rows ?? [];
    if (rows.length === 0) throw invalid('No rows present in the request.');
    if (rows.length > MAX_ROWS_PER_INSERT) throw invalid(`too many rows present in the request, limit: ${MAX_ROWS_PER_INSERT} row count: ${rows.length}.`);
    const fields = table.schema.fields;
    const errors: InsertError[] = [];
    const good: { index: number; values: unknown[] }[] = [];
    const names = new Set(fields.map((f) => f.name));
    rows.forEach((r, index) => {
      const problem = validateRow(r.json, fields, names, body.ignoreUnknownValues === true);
      if (problem) errors.push({ index, errors: [{ reason: 'invalid', location: problem.location, debugInfo: '', message: problem.message }] });
      else good.push({ index, values: fields.map((f) => r.json![f.name]) });
    });
    if (errors.length && !body.skipInvalidRows) {
      const bad = new Set(errors.map((e) => e.index));
      for (const g of good) if (!bad.has(g.index)) errors.push({ index: g.index, errors: [{ reason: 'stopped', location: '', debugInfo: '', message: '' }] });
      return Promise.resolve(errors.sort((a, b) => a.index - b.index));
    }
    return this.serial(async () => {
      const now = this.now();
      // Entries are kept in insertion (= time) order: expire from the front, stop at the first live one.
      for (const [k, t] of this.insertIds) {
        if (now - t <= INSERT_ID_WINDOW_MS) break;
        this.insertIds.delete(k);
      }
      const appender = await this.conn.createAppender(id, ds);
      for (const g of good) {
        const insertId = rows[g.index]!.insertId;
        const dedupeKey = insertId ? `${ds}.${id}.${insertId}` : null;
        if (dedupeKey && this.insertIds.has(dedupeKey)) continue;
        if (dedupeKey) this.insertIds.set(dedupeKey, now);
        fields.forEach((f, i) => append(appender, f.type.toUpperCase(), g.values[i]));
        appender.endRow();
      }
      appender.closeSync();
      return errors;
    });
  }

  /** Runs a GoogleSQL statement or script; DML and DDL against unknown tables fail as BigQuery does. */
  query(sql: string): Promise<QueryOutcome> {
    const statements = splitScript(sql);
    if (statements.length === 0) throw invalidQuery('Syntax error: Unexpected end of script');
    const types = statements.map(statementType);
    return this.serial(async () => {
      let affected = 0;
      let last: QueryOutcome = { statementType: 'SELECT' };
      const script = statements.length > 1;
      if (script) await this.conn.run('BEGIN TRANSACTION');
      try {
        for (const [i, stmt] of statements.entries()) {
          const type = types[i]!;
          if (type === 'DROP_TABLE') {
            last = await this.drop(stmt);
            continue;
          }
          let reader;
          try {
            reader = await this.conn.runAndReadAll(translate(stmt, this.project));
          } catch (err) {
            throw this.queryError(err as Error);
          }
          if (type === 'SELECT') {
            const names = reader.columnNames();
            const fields = reader.columnTypes().map((t, c) => ({ name: names[c]!, type: FROM_DUCK[t.toString()] ?? 'STRING', mode: 'NULLABLE' as const }));
            const rows = reader.getRowsJson().map((r) => ({ f: r.map((v, c) => ({ v: cell(v, fields[c]!.type) })) }));
            last = { statementType: 'SELECT', schema: { fields }, rows };
          } else {
            const n = Number(reader.getRowsJson()[0]?.[0] ?? 0);
            affected += n;
            last = { statementType: type, numDmlAffectedRows: n };
          }
        }
        if (script) await this.conn.run('COMMIT');
      } catch (err) {
        if (script) await this.conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      return script ? { statementType: 'SCRIPT', numDmlAffectedRows: affected } : last;
    });
  }

  private async drop(stmt: string): Promise<QueryOutcome> {
    const m = /^DROP\s+TABLE\s+(IF\s+EXISTS\s+)?`([^`]+)`\s*$/i.exec(stmt);
    if (!m) throw invalidQuery('Syntax error: DROP TABLE takes one backtick-quoted table path');
    const parts = m[2]!.split('.');
    const [ds, id] = parts.length === 3 ? [parts[1]!, parts[2]!] : [parts[0]!, parts[1]!];
    if (!this.tables.has(`${ds}.${id}`)) {
      if (m[1]) return { statementType: 'DROP_TABLE' };
      throw notFound(`Table ${this.project}:${ds}.${id}`);
    }
    await this.conn.run(`DROP TABLE ${q(ds)}.${q(id)}`);
    this.tables.delete(`${ds}.${id}`);
    return { statementType: 'DROP_TABLE' };
  }

  private queryError(err: Error): BqError {
    const msg = err.message;
    const missing = /Table with name (\S+) does not exist|Catalog Error: Table with name "?([^"\s]+)"? does not exist/.exec(msg);
    if (missing) return notFound(`Table ${this.project}:${missing[1] ?? missing[2]}`);
    if (/NOT NULL constraint failed: (\S+)/.test(msg)) return invalidQuery(`Required field ${/NOT NULL constraint failed: (\S+)/.exec(msg)![1]} cannot be null`);
    return invalidQuery(msg.replace(/^[A-Za-z ]+Error: /, ''));
  }

  /** For tests: runs DuckDB SQL directly and returns plain rows (dataset = schema). */
  inspect(sql: string): Promise<Record<string, unknown>[]> {
    return this.serial(async () => (await this.conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]);
  }

  close(): void {
    this.conn?.closeSync();
    this.db?.closeSync();
  }
}

function validateRow(json: Record<string, unknown> | undefined, fields: Field[], names: ReadonlySet<string>, ignoreUnknown: boolean): { location: string; message: string } | null {
  if (!json || typeof json !== 'object') return { location: '', message: 'Row has no json object.' };
  const size = Object.values(json).reduce<number>((n, v) => n + (typeof v === 'string' ? Buffer.byteLength(v) : 16), 0);
  if (size > MAX_ROW_BYTES) return { location: '', message: `Maximum allowed row size exceeded. Allowed: ${MAX_ROW_BYTES} Row size: ${size}` };
  if (!ignoreUnknown) for (const k of Object.keys(json)) if (!names.has(k)) return { location: k, message: `no such field: ${k}.` };
  for (const f of fields) {
    const v = json[f.name];
    if (v === null || v === undefined) {
      if (f.mode === 'REQUIRED') return { location: f.name, message: `Missing required field: ${f.name}.` };
      continue;
    }
    const type = f.type.toUpperCase();
    const ok =
      type === 'STRING' ? typeof v === 'string'
      : type === 'INT64' || type === 'INTEGER' ? (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v))
      : type === 'BOOL' || type === 'BOOLEAN' ? typeof v === 'boolean'
      : type === 'TIMESTAMP' ? (typeof v === 'string' && !Number.isNaN(Date.parse(v))) || typeof v === 'number'
      : type === 'JSON' ? typeof v === 'string' && isJson(v)
      : true;
    if (!ok) return { location: f.name, message: `Cannot convert value to ${type.toLowerCase()}: ${JSON.stringify(v).slice(0, 64)}` };
  }
  return null;
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function append(a: DuckDBAppender, type: string, v: unknown): void {
  if (v === null || v === undefined) return a.appendNull();
  switch (type) {
    case 'INT64':
    case 'INTEGER':
      return a.appendBigInt(BigInt(v as number | string));
    case 'BOOL':
    case 'BOOLEAN':
      return a.appendBoolean(v as boolean);
    case 'TIMESTAMP': {
      // Appended as UTC text (DuckDB casts it natively) rather than as a value object, which
      // the client library builds per cell at several times the cost.
      const ms = typeof v === 'number' ? v * 1000 : Date.parse(v as string);
      return a.appendVarchar(new Date(Math.round(ms)).toISOString());
    }
    case 'FLOAT64':
    case 'FLOAT':
      return a.appendDouble(Number(v));
    default:
      return a.appendVarchar(String(v));
  }
}

/** Query results as BigQuery returns them: every value a string; TIMESTAMP as seconds since the epoch. */
function cell(v: unknown, type: string): string | null {
  if (v === null || v === undefined) return null;
  if (type === 'TIMESTAMP') return String(Date.parse(String(v)) / 1000);
  return String(v);
}
