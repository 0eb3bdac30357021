import { randomUUID } from 'node:crypto';
import { Agent, fetch } from 'undici';
import { FatalError, RetryableError, type DestinationContext } from '../destination.js';
import { signSnowflakeJwt, type KeyPair } from './jwt.js';

/** A bind variable of the SQL API: `{ type, value }`, value a string or (for multi-row INSERT) an array of them. */
export interface Binding {
  type: 'TEXT' | 'FIXED' | 'BOOLEAN' | 'REAL';
  value: string | null | (string | null)[];
}

export interface StatementResult {
  statementHandle: string;
  statementHandles?: string[];
  data: (string | null)[][];
  rowType: { name: string; type: string }[];
}

export interface SessionContext {
  account: string;
  user: string;
  role?: string;
  warehouse?: string;
  database: string;
  schema: string;
}

interface ApiBody {
  code?: string;
  message?: string;
  sqlState?: string;
  statementHandle?: string;
  statementHandles?: string[];
  resultSetMetaData?: { numRows?: number; partitionInfo?: unknown[]; rowType?: { name: string; type: string }[] };
  data?: (string | null)[][];
}

/** 390144 (JWT invalid), 390318/390400 (auth token/user problems), 390100-series: fix the credentials. */
const AUTH_CODES = /^390\d{3}$/;
const POLL_MS = [100, 200, 400, 800, 1000];
/** How long one statement may run before the batch is given up as retryable. */
const STATEMENT_TIMEOUT_S = 600;

/**
 * Snowflake's SQL API v2 (POST /api/v2/statements) with key-pair JWTs: submits a statement,
 * follows an asynchronous handle (202) until it finishes, and fetches every partition of the
 * result. Each submission carries a requestId; a retry of the same request says `retry=true`
 * so Snowflake does not run it twice. Every socket goes through the outbound guard.
 */
export class SqlApiClient {
  private readonly dispatcher: Agent;
  private readonly base: URL;
  private jwt: { token: string; expiresAt: number } | null = null;

  constructor(
    private readonly session: SessionContext,
    private readonly keys: KeyPair,
    baseUrl: string,
    private readonly ctx: DestinationContext,
  ) {
    this.base = ctx.outbound.checkUrl(baseUrl);
    this.dispatcher = new Agent({ connect: { lookup: ctx.outbound.lookup, timeout: 10_000 }, keepAliveTimeout: 30_000 });
  }

  private async token(): Promise<string> {
    const now = this.ctx.now().getTime();
    if (this.jwt && now < this.jwt.expiresAt) return this.jwt.token;
    const token = await signSnowflakeJwt(this.keys, this.session.account, this.session.user, now);
    this.jwt = { token, expiresAt: now + 50 * 60_000 };
    return token;
  }

  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: ApiBody; retryAfterMs?: number }> {
    let res;
    try {
      res = await fetch(new URL(path, this.base), {
        method,
        headers: {
          authorization: `Bearer ${await this.token()}`,
          'x-snowflake-authorization-token-type': 'KEYPAIR_JWT',
          accept: 'application/json',
          'content-type': 'application/json',
          'user-agent': 'Tributary/1 (snowflake destination)',
        },
        // Bytes, not a string: fetch would scan a string body for lone surrogates before encoding it.
        ...(body !== undefined ? { body: Buffer.from(JSON.stringify(body)) } : {}),
        dispatcher: this.dispatcher,
        redirect: 'manual',
        signal: AbortSignal.timeout(120_000),
      });
    } catch (err) {
      const cause = (err as { cause?: Error }).cause;
      if (cause?.name === 'ForbiddenDestinationError') throw new FatalError(`snowflake destination: ${cause.message}`);
      throw new RetryableError(`snowflake destination: ${this.base.host} unreachable: ${cause?.message ?? (err as Error).message}`);
    }
    const text = await res.text();
    let parsed: ApiBody = {};
    try {
      parsed = text ? (JSON.parse(text) as ApiBody) : {};
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    const retryAfter = Number(res.headers.get('retry-after'));
    return { status: res.status, body: parsed, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}) };
  }

  private fail(status: number, body: ApiBody, retryAfterMs?: number): never {
    const what = `snowflake destination: ${body.code ?? status}: ${body.message ?? 'no message'}`;
    if (status === 401 || status === 403 || AUTH_CODES.test(body.code ?? '')) {
      throw new FatalError(`${what} — register the public key on the user (ALTER USER … SET RSA_PUBLIC_KEY) and check account and user`, status);
    }
    if (status === 429 || status >= 500) throw new RetryableError(what, retryAfterMs, status);
    throw new SnowflakeSqlError(what, body.code ?? String(status), body.sqlState, status);
  }

  /** Runs a statement (or `count` statements separated by `;`) to completion and returns the whole result. */
  async execute(statement: string, opts: { bindings?: Record<string, Binding>; count?: number } = {}): Promise<StatementResult> {
    const requestId = randomUUID();
    const body = {
      statement,
      timeout: STATEMENT_TIMEOUT_S,
      database: this.session.database,
      schema: this.session.schema,
      ...(this.session.warehouse ? { warehouse: this.session.warehouse } : {}),
      ...(this.session.role ? { role: this.session.role } : {}),
      ...(opts.bindings ? { bindings: opts.bindings } : {}),
      parameters: { MULTI_STATEMENT_COUNT: String(opts.count ?? 1), TIMEZONE: 'UTC' },
    };
    let r = await this.call('POST', `/api/v2/statements?requestId=${requestId}`, body);
    // A 5xx or 429 on submission: resubmit once with retry=true (Snowflake de-duplicates by requestId).
    if (r.status === 429 || r.status >= 500) {
      await new Promise((res) => setTimeout(res, r.retryAfterMs ?? 500));
      r = await this.call('POST', `/api/v2/statements?requestId=${requestId}&retry=true`, body);
    }
    for (let poll = 0; r.status === 202; poll++) {
      const handle = r.body.statementHandle;
      if (!handle) this.fail(502, { message: 'a 202 answer without statementHandle' });
      await new Promise((res) => setTimeout(res, POLL_MS[Math.min(poll, POLL_MS.length - 1)]));
      r = await this.call('GET', `/api/v2/statements/${encodeURIComponent(handle)}`);
    }
    if (r.status !== 200) this.fail(r.status, r.body, r.retryAfterMs);
    const handle = r.body.statementHandle ?? '';
    const data = [...(r.body.data ?? [])];
    const partitions = r.body.resultSetMetaData?.partitionInfo?.length ?? 1;
    for (let p = 1; p < partitions; p++) {
      const part = await this.call('GET', `/api/v2/statements/${encodeURIComponent(handle)}?partition=${p}`);
      if (part.status !== 200) this.fail(part.status, part.body, part.retryAfterMs);
      data.push(...(part.body.data ?? []));
    }
    return { statementHandle: handle, ...(r.body.statementHandles ? { statementHandles: r.body.statementHandles } : {}), data, rowType: r.body.resultSetMetaData?.rowType ?? [] };
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** A statement Snowflake refused (SQL compilation error, constraint…): `code` is Snowflake's error code. */
export class SnowflakeSqlError extends Error {
  override name = 'SnowflakeSqlError';
  constructor(
    message: string,
    readonly code: string,
    readonly sqlState: string | undefined,
    readonly status: number,
  ) {
    super(message);
  }
}
