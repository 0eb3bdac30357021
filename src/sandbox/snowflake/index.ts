import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Accounts } from './accounts.js';
import { Engine, type Binding, type ResultSet } from './engine.js';
import { SfError } from './errors.js';
import { splitStatements } from './sql.js';

/**
 * The Snowflake sandbox: the SQL API v2 (`POST /api/v2/statements`, `GET /api/v2/statements/{handle}`
 * with partitions, `POST …/cancel`) with key-pair JWT authentication, backed by DuckDB for the
 * statements Tributary issues. See README.md beside this file for what it does not emulate.
 */
export interface SnowflakeSandboxOptions {
  /** Account identifier as it appears in JWTs (upper case), default SANDBOX. */
  account?: string;
  /** 202 answers a statement gets before its result (exercises async handles), default 0. */
  asyncPolls?: number;
  /** Rows per result partition, default 1,000. */
  partitionRows?: number;
  now?: () => number;
}

export interface SnowflakeSandbox {
  url: string;
  account: string;
  /** What the setup script creates: a user with an RSA public key and a role, a warehouse, a database and schema. */
  setup(opts: { user: string; publicKey: string; role: string; warehouse: string; database: string; schema: string }): Promise<void>;
  /** Replaces a user's key (ALTER USER … SET RSA_PUBLIC_KEY): JWTs signed with the old key fail with 390144. */
  rotateKey(user: string, publicKey: string): void;
  /** The next `times` statement submissions fail with this HTTP status (429, 503…). */
  failNext(status: number, times?: number): void;
  /** DuckDB SQL over what landed; tables are "DATABASE"."SCHEMA"."TABLE". */
  inspect(sql: string): Promise<Record<string, unknown>[]>;
  /** Table comments (where Tributary keeps schema_version), by DATABASE.SCHEMA.TABLE. */
  comments: Map<string, string>;
  close(): Promise<void>;
}

interface Stored {
  results: ResultSet[];
  pollsLeft: number;
  createdOn: number;
}

export async function startSnowflakeSandbox(options: SnowflakeSandboxOptions = {}): Promise<SnowflakeSandbox> {
  const account = (options.account ?? 'SANDBOX').toUpperCase();
  const now = options.now ?? Date.now;
  const accounts = new Accounts(account, now);
  const engine = new Engine();
  await engine.open();
  const statements = new Map<string, Stored>();
  const partitionRows = options.partitionRows ?? 1000;
  const failures: number[] = [];
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, forceCloseConnections: true });

  const errorBody = (e: SfError, handle?: string) => ({ code: e.code, message: e.message, sqlState: e.sqlState, ...(handle ? { statementHandle: handle } : {}) });

  const resultBody = (handle: string, stored: Stored, partition = 0) => {
    if (stored.results.length > 1) {
      return {
        resultSetMetaData: { numRows: stored.results.length, format: 'jsonv2', partitionInfo: [{ rowCount: stored.results.length, uncompressedSize: 0 }], rowType: [{ name: 'multiple statement execution', type: 'text', nullable: false }] },
        data: stored.results.map((r) => [r.handle]),
        code: '090001',
        statementStatusUrl: `/api/v2/statements/${handle}`,
        sqlState: '00000',
        statementHandle: handle,
        statementHandles: stored.results.map((r) => r.handle),
        message: 'Statement executed successfully.',
        createdOn: stored.createdOn,
      };
    }
    const r = stored.results[0]!;
    const parts = Math.max(1, Math.ceil(r.data.length / partitionRows));
    const data = r.data.slice(partition * partitionRows, (partition + 1) * partitionRows);
    if (partition > 0) return { data };
    return {
      resultSetMetaData: {
        numRows: r.data.length,
        format: 'jsonv2',
        partitionInfo: Array.from({ length: parts }, (_, i) => ({ rowCount: r.data.slice(i * partitionRows, (i + 1) * partitionRows).length, uncompressedSize: 0 })),
        rowType: r.rowType,
      },
      data,
      code: '090001',
      statementStatusUrl: `/api/v2/statements/${handle}`,
      sqlState: '00000',
      statementHandle: handle,
      message: 'Statement executed successfully.',
      createdOn: stored.createdOn,
    };
  };

  const pending = (handle: string) => ({ code: '333334', message: 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.', statementHandle: handle, statementStatusUrl: `/api/v2/statements/${handle}` });

  const authed = async (req: { headers: Record<string, string | string[] | undefined> }) => accounts.authenticate(req.headers.authorization as string | undefined, req.headers['x-snowflake-authorization-token-type'] as string | undefined);

  app.post('/api/v2/statements', async (req, reply) => {
    const handle = randomUUID();
    try {
      const user = await authed(req);
      if (failures.length && failures[0]! > 0) {
        const status = failures.shift()!;
        return reply.code(status).send({ code: String(status), message: status === 429 ? 'Too many requests' : 'Service unavailable' });
      }
      const body = (req.body ?? {}) as { statement?: string; bindings?: Record<string, Binding>; database?: string; schema?: string; warehouse?: string; role?: string; parameters?: Record<string, string> };
      const query = req.query as { async?: string };
      if (typeof body.statement !== 'string' || !body.statement.trim()) throw new SfError(422, '390142', 'Incoming request does not contain a valid payload.');
      const role = (body.role ?? user.defaultRole).toUpperCase();
      if (!user.roles.has(role)) throw new SfError(422, '390189', `Role '${role}' specified in the connect string is not granted to this user. Contact your local system administrator, or attempt to login with another role, e.g. PUBLIC.`);
      const list = splitStatements(body.statement);
      const expected = Number(body.parameters?.MULTI_STATEMENT_COUNT ?? '1');
      if (expected !== 0 && list.length !== expected) throw new SfError(422, '000008', `Actual statement count ${list.length} did not match the desired statement count ${expected}.`, '0A000');
      const results = await engine.run(list, body.bindings, {
        database: (body.database ?? '').toUpperCase(),
        schema: (body.schema ?? '').toUpperCase(),
        warehouse: (body.warehouse ?? '').toUpperCase(),
        role,
      });
      const stored: Stored = { results, pollsLeft: query.async === 'true' ? Math.max(1, options.asyncPolls ?? 0) : (options.asyncPolls ?? 0), createdOn: now() };
      statements.set(handle, stored);
      for (const r of results) if (results.length > 1) statements.set(r.handle, { results: [r], pollsLeft: 0, createdOn: stored.createdOn });
      if (stored.pollsLeft > 0) return reply.code(202).send(pending(handle));
      return reply.code(200).send(resultBody(handle, stored));
    } catch (err) {
      if (err instanceof SfError) return reply.code(err.status).send(errorBody(err, err.status === 422 ? handle : undefined));
      throw err;
    }
  });

  app.get('/api/v2/statements/:handle', async (req, reply) => {
    try {
      await authed(req);
      const { handle } = req.params as { handle: string };
      const stored = statements.get(handle);
      if (!stored) throw new SfError(422, '000709', `Statement ${handle} not found`);
      if (stored.pollsLeft > 0) {
        stored.pollsLeft -= 1;
        return reply.code(202).send(pending(handle));
      }
      const partition = Number((req.query as { partition?: string }).partition ?? 0);
      return reply.code(200).send(resultBody(handle, stored, Number.isInteger(partition) && partition >= 0 ? partition : 0));
    } catch (err) {
      if (err instanceof SfError) return reply.code(err.status).send(errorBody(err));
      throw err;
    }
  });

  app.post('/api/v2/statements/:handle/cancel', async (req, reply) => {
    try {
      await authed(req);
      return reply.code(200).send({ code: '000604', message: 'SQL execution canceled', statementHandle: (req.params as { handle: string }).handle });
    } catch (err) {
      if (err instanceof SfError) return reply.code(err.status).send(errorBody(err));
      throw err;
    }
  });

  const url = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
  return {
    url,
    account,
    async setup(o) {
      accounts.setUser(o.user, o.publicKey, [o.role]);
      engine.warehouses.add(o.warehouse.toUpperCase());
      await engine.createDatabase(o.database, o.schema);
    },
    rotateKey(user, publicKey) {
      const u = accounts.users.get(user.toUpperCase());
      if (!u) throw new Error(`no user ${user}`);
      accounts.setUser(user, publicKey, [...u.roles]);
    },
    failNext(status, times = 1) {
      for (let i = 0; i < times; i++) failures.push(status);
    },
    inspect: (sql) => engine.inspect(sql),
    comments: engine.comments,
    async close() {
      await app.close();
      engine.close();
    },
  };
}
