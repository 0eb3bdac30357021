import { randomUUID } from 'node:crypto';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { compilation, missingObject, SfError } from './errors.js';
import { numberBinds, translate } from './sql.js';

export interface Binding {
  type: string;
  value: string | null | (string | null)[];
}

export interface ResultSet {
  handle: string;
  rowType: { name: string; type: string; nullable: boolean }[];
  data: (string | null)[][];
}

export interface Session {
  database: string;
  schema: string;
  warehouse: string;
  role: string;
}

const RESULT_TYPES: Record<string, string> = { VARCHAR: 'text', BIGINT: 'fixed', INTEGER: 'fixed', HUGEINT: 'fixed', BOOLEAN: 'boolean', 'TIMESTAMP WITH TIME ZONE': 'timestamp_tz', JSON: 'variant', DOUBLE: 'real' };

/** The sandbox's storage: Snowflake databases are attached in-memory DuckDB catalogs, schemas are schemas. */
export class Engine {
  private db!: DuckDBInstance;
  private conn!: DuckDBConnection;
  readonly databases = new Map<string, Set<string>>();
  readonly warehouses = new Set<string>();
  readonly comments = new Map<string, string>();
  private chain: Promise<unknown> = Promise.resolve();

  async open(): Promise<void> {
    // An in-memory database checkpoints too (every 16 MB of changes by default): it compresses
    // what was written, a few hundred ms of CPU for a batch-sized commit, for no durability.
    // Sandboxes hold test and benchmark data only, so they never checkpoint. One thread: a
    // second one cost ~40 % more CPU per MERGE and was no faster beside the client on 2 cores.
    this.db = await DuckDBInstance.create(':memory:', { threads: '1', checkpoint_threshold: '1TB' });
    this.conn = await this.db.connect();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  createDatabase(name: string, schema: string) {
    const db = name.toUpperCase();
    return this.serial(async () => {
      if (!this.databases.has(db)) {
        await this.conn.run(`ATTACH ':memory:' AS "${db}"`);
        this.databases.set(db, new Set());
      }
      const schemas = this.databases.get(db)!;
      if (!schemas.has(schema.toUpperCase())) {
        await this.conn.run(`CREATE SCHEMA "${db}"."${schema.toUpperCase()}"`);
        schemas.add(schema.toUpperCase());
      }
    });
  }

  /** Runs the statements of one request in the session's database and schema; one result per statement. */
  run(statements: string[], bindings: Record<string, Binding> | undefined, session: Session): Promise<ResultSet[]> {
    if (!this.warehouses.has(session.warehouse)) throw new SfError(422, '000606', 'No active warehouse selected in the current session.  Select an active warehouse with the \'use warehouse\' command.', '57P03');
    if (!this.databases.get(session.database)?.has(session.schema)) throw missingObject(`Database '${session.database}' or schema '${session.schema}'`);
    if (bindings && statements.length > 1) throw new SfError(422, '000002', 'Bind variables are not supported in multi-statement requests.', '0A000');
    const translated = statements.map(translate);
    return this.serial(async () => {
      await this.conn.run(`USE "${session.database}"."${session.schema}"`);
      const out: ResultSet[] = [];
      let inTxn = false;
      try {
        for (const t of translated) {
          if (t.kind === 'TXN') inTxn = t.sql.startsWith('BEGIN');
          out.push(await this.one(t.sql, t.kind, bindings));
          if (t.comment) this.comments.set(`${session.database}.${session.schema}.${t.comment.table.replace(/"/g, '').toUpperCase()}`, t.comment.text);
        }
      } catch (err) {
        if (inTxn) await this.conn.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
      return out;
    });
  }

  private async one(sql: string, kind: string, bindings: Record<string, Binding> | undefined): Promise<ResultSet> {
    const handle = randomUUID();
    const { sql: numbered, count } = numberBinds(sql);
    let params: DuckDBValue[] = [];
    const text = numbered;
    if (count > 0) {
      if (!bindings) throw compilation('Bind variable ? not set.');
      const values = Array.from({ length: count }, (_, i) => bindings[String(i + 1)]);
      if (values.some((v) => v === undefined)) throw compilation(`Bind variable ? not set (${count} expected).`);
      const arrays = values.map((v) => v!.value).filter(Array.isArray);
      if (arrays.length) {
        // Array binding: a multi-row INSERT … VALUES (?, …) — each array is a column.
        const m = /^(INSERT\s+INTO\s+[\s\S]+?)\s+VALUES\s*\(\s*\$1(?:\s*,\s*\$\d+)*\s*\)\s*$/i.exec(numbered);
        if (!m || arrays.length !== count) throw compilation('Array bind variables are supported only in INSERT … VALUES (?, …) with every variable an array.');
        if (new Set(arrays.map((a) => a.length)).size !== 1) throw new SfError(422, '100132', 'The number of values in the array bind variables do not match.', '22000');
        return this.appendRows(m[1]!, arrays, sql);
      } else params = values.map((v) => v!.value as string | null);
    }
    let reader;
    try {
      reader = await this.conn.runAndReadAll(text, params);
    } catch (err) {
      throw sqlError(err as Error);
    }
    const names = reader.columnNames();
    const rowType = reader.columnTypes().map((t, i) => ({ name: kind === 'DML' ? dmlColumn(sql, names[i]!) : names[i]!, type: RESULT_TYPES[t.toString()] ?? 'text', nullable: true }));
    const data = reader.getRowsJson().map((r) => r.map((v) => (v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v))));
    if (kind === 'DDL' || kind === 'TXN' || kind === 'COMMENT') return { handle, rowType: [{ name: 'status', type: 'text', nullable: false }], data: [['Statement executed successfully.']] };
    return { handle, rowType, data };
  }

  /**
   * A multi-row INSERT from array bindings, through DuckDB's appender: each value goes in as
   * text and DuckDB casts it to the column's type (the conversions, and their errors, of an
   * INSERT … SELECT of the same text values), without building a list value per column. The
   * rows land all or none: the appender flushes in chunks, so it runs in a transaction.
   */
  private async appendRows(head: string, columns: (string | null)[][], sql: string): Promise<ResultSet> {
    const target = /^INSERT\s+INTO\s+((?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*))*)\s*(?:\(([^)]*)\))?\s*$/i.exec(head);
    if (!target) throw compilation('Array bind variables are supported only in INSERT INTO table [(columns)] VALUES (?, …).');
    const path = splitPath(target[1]!);
    const table = path[path.length - 1]!;
    const described = await this.conn.runAndReadAll(`DESCRIBE ${path.map(quote).join('.')}`).catch((err: unknown) => {
      throw sqlError(err as Error);
    });
    const tableColumns = described.getRowObjects().map((r) => String(r.column_name).toUpperCase());
    const named = target[2] ? target[2].split(',').map((c) => unquote(c.trim()).toUpperCase()) : tableColumns;
    if (named.length !== columns.length) throw compilation(`Insert value list does not match column list expecting ${named.length} but got ${columns.length}`, '21S01');
    const source = tableColumns.map((c) => named.indexOf(c));
    const unknown = named.find((c) => !tableColumns.includes(c));
    if (unknown) throw compilation(`error line 1 at position 0 invalid identifier '${unknown}'`, '42000');
    const rows = columns[0]!.length;
    await this.conn.run('BEGIN TRANSACTION');
    try {
      // The appender does not follow USE: name the session's database and schema where the statement does not.
      const [db, schema] = (await this.conn.runAndReadAll('SELECT current_database(), current_schema()')).getRows()[0]! as string[];
      const appender = await this.conn.createAppender(table, path.length > 1 ? path[path.length - 2]! : schema!, path.length > 2 ? path[0]! : db!);
      try {
        for (let r = 0; r < rows; r++) {
          for (const i of source) {
            const v = i < 0 ? null : columns[i]![r];
            if (v === null || v === undefined) appender.appendNull();
            else appender.appendVarchar(v);
          }
          appender.endRow();
        }
      } finally {
        appender.closeSync();
      }
      await this.conn.run('COMMIT');
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw sqlError(err as Error);
    }
    return { handle: randomUUID(), rowType: [{ name: dmlColumn(sql, 'Count'), type: 'fixed', nullable: true }], data: [[String(rows)]] };
  }

  /** For tests: DuckDB SQL over what landed (database.schema.table). */
  inspect(sql: string): Promise<Record<string, unknown>[]> {
    return this.serial(async () => (await this.conn.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[]);
  }

  close(): void {
    this.conn?.closeSync();
    this.db?.closeSync();
  }
}

/** `A.B."c d"` → ['A', 'B', 'c d']: unquoted parts as Snowflake resolves them (upper case), quoted ones as written. */
function splitPath(text: string): string[] {
  return (text.match(/"(?:[^"]|"")+"|[^.\s]+/g) ?? []).map(unquote);
}

function unquote(part: string): string {
  return part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part.toUpperCase();
}

const quote = (part: string) => `"${part.replace(/"/g, '""')}"`;

function dmlColumn(sql: string, name: string): string {
  const verb = sql.trim().split(/\s+/, 1)[0]!.toUpperCase();
  if (name !== 'Count') return name;
  return verb === 'DELETE' ? 'number of rows deleted' : verb === 'UPDATE' ? 'number of rows updated' : 'number of rows inserted';
}

/** DuckDB errors as Snowflake's codes: missing objects 002003, NOT NULL 100072, the rest a compilation error. */
function sqlError(err: Error): SfError {
  const msg = err.message;
  const missing = /Table with name ([^\s]+) does not exist/i.exec(msg);
  if (missing) return missingObject(`Object '${missing[1]!.replace(/"/g, '')}'`);
  const col = /Referenced column "?([^"\s]+)"? not found/i.exec(msg);
  if (col) return compilation(`error line 1 at position 0 invalid identifier '${col[1]}'`, '42000');
  if (/NOT NULL constraint failed/i.test(msg)) return new SfError(422, '100072', `NULL result in a non-nullable column (${msg.split(':').pop()!.trim()})`, '22000');
  if (/Conversion Error|Could not convert/i.test(msg)) return new SfError(422, '100038', `Numeric value or timestamp not recognized: ${msg.replace(/^[A-Za-z ]+Error: /, '')}`, '22018');
  return compilation(msg.replace(/^[A-Za-z ]+Error: /, ''));
}
