/**
 * What a warehouse sandbox itself can take on this machine: the same batches the destination
 * writes (same mapping, staging requests of the same size, two in flight, then the same MERGE),
 * but every request body is built before the clock runs for its batch, and sent with plain
 * `fetch`. The rate counts only the sandbox's work (HTTP parse, row checks, DuckDB appends, the
 * MERGE) plus loopback round trips, so it is the ceiling any client could reach against it; the
 * destination's rate beside it shows what its own mapping, encoding and client cost on top.
 */
import { randomBytes } from 'node:crypto';
import { fetch } from 'undici';
import type { StoredEvent } from '../src/domain/event.js';
import { chunked, eachLimited, type DestinationContext } from '../src/destinations/destination.js';
import { parseServiceAccount, ServiceAccountTokens } from '../src/destinations/bigquery/auth.js';
import { insertRow, mergeStatement, stagingName } from '../src/destinations/bigquery/schema.js';
import { signSnowflakeJwt, loadKeyPair } from '../src/destinations/snowflake/jwt.js';
import { mergeStatements, stageInsert, valueBytes } from '../src/destinations/snowflake/schema.js';
import { toRows, type Row, type TableName } from '../src/destinations/tables.js';

interface Prepared {
  stage: { url: string; body: Buffer }[];
  merge: { url: string; body: Buffer };
}

/** Rows of a batch grouped by table (every event of the bench maps cleanly). */
function tableRows(batch: StoredEvent[], now: Date): Map<TableName, { row: Row; eventId: string }[]> {
  const out = new Map<TableName, { row: Row; eventId: string }[]>();
  for (const e of batch) for (const g of toRows(e, now)) for (const row of g.rows) (out.get(g.table) ?? out.set(g.table, []).get(g.table)!).push({ row, eventId: e.id });
  return out;
}

/** A ceiling run: events/s over the timed requests, and the share of that time the MERGE requests took. */
export interface Ceiling {
  rate: number;
  mergeShare: number;
}

/** Sends each batch's prepared requests (staging two at a time, then the MERGE), timing only that. */
async function drive(batches: (from: number) => StoredEvent[] | null, prepare: (batch: StoredEvent[]) => Prepared, headers: () => Promise<Record<string, string>>): Promise<Ceiling> {
  let timed = 0;
  let merging = 0;
  let events = 0;
  const post = async (r: { url: string; body: Buffer }) => {
    const res = await fetch(r.url, { method: 'POST', headers: { ...(await headers()), 'content-type': 'application/json', accept: 'application/json' }, body: r.body });
    const text = await res.text();
    if (res.status !== 200 || text.includes('insertErrors')) throw new Error(`ceiling: ${r.url} answered ${res.status}: ${text.slice(0, 300)}`);
  };
  for (let from = 0, batch = batches(0); batch; batch = batches((from += batch.length))) {
    const p = prepare(batch);
    const started = performance.now();
    await eachLimited(p.stage, 2, post);
    const staged = performance.now();
    await post(p.merge);
    merging += performance.now() - staged;
    timed += performance.now() - started;
    events += batch.length;
  }
  return { rate: events / (timed / 1000), mergeShare: merging / timed };
}

/** BigQuery: insertAll bodies of ≤ 9 MB and the MERGE script as one jobs.query, into an existing dataset. */
export async function bigqueryCeiling(url: string, project: string, dataset: string, serviceAccountJson: string, ctx: DestinationContext, batches: (from: number) => StoredEvent[] | null): Promise<Ceiling> {
  const tokens = new ServiceAccountTokens(parseServiceAccount(serviceAccountJson), ctx);
  const api = `${url}/bigquery/v2/projects/${project}`;
  try {
    return await drive(
      batches,
      (batch) => {
        const batchId = `ceiling-${randomBytes(6).toString('hex')}`;
        const grouped = tableRows(batch, new Date());
        let seq = 0;
        const stage = [...grouped].flatMap(([table, rows]) => {
          const entries = rows.map((r) => JSON.stringify({ insertId: `${batchId}-${(seq += 1)}`, json: insertRow(r.row, batchId, r.eventId) }));
          return chunked(entries, 10_000, 9 * 1024 * 1024, (e) => e.length + 1).map((chunk) => ({
            url: `${api}/datasets/${dataset}/tables/${stagingName(table)}/insertAll`,
            body: Buffer.from(`{"skipInvalidRows":true,"rows":[${chunk.join(',')}]}`),
          }));
        });
        const script = [...grouped.keys()].map((t) => mergeStatement(project, dataset, t, batchId, [])).join(';\n');
        return { stage, merge: { url: `${api}/queries`, body: Buffer.from(JSON.stringify({ query: script, useLegacySql: false })) } };
      },
      async () => ({ authorization: `Bearer ${(await tokens.getAccessToken()).token}` }),
    );
  } finally {
    await tokens.close();
  }
}

/** Snowflake: array-bound INSERTs of ≤ 16,384 rows and 8 MB, then BEGIN; MERGE …; DELETE …; COMMIT, in an existing schema. */
export async function snowflakeCeiling(
  url: string,
  session: { account: string; user: string; role: string; warehouse: string; database: string; schema: string },
  privateKeyPem: string,
  batches: (from: number) => StoredEvent[] | null,
): Promise<Ceiling> {
  const keys = loadKeyPair(privateKeyPem);
  const jwt = await signSnowflakeJwt(keys, session.account, session.user, Date.now());
  const body = (statement: string, extra: Record<string, unknown>) =>
    Buffer.from(JSON.stringify({ statement, database: session.database, schema: session.schema, warehouse: session.warehouse, role: session.role, ...extra }));
  return drive(
    batches,
    (batch) => {
      const batchId = `ceiling-${randomBytes(6).toString('hex')}`;
      const grouped = tableRows(batch, new Date());
      const size = (r: { row: Row }) => valueBytes(r.row).bytes;
      const stage = [...grouped].flatMap(([table, rows]) =>
        chunked(rows, 16_384, 8 * 1024 * 1024, size).map((chunk) => {
          const { sql, bindings } = stageInsert(table, chunk, batchId);
          return { url: `${url}/api/v2/statements?requestId=${randomBytes(8).toString('hex')}`, body: body(sql, { bindings }) };
        }),
      );
      const statements = ['BEGIN', ...[...grouped.keys()].flatMap((t) => mergeStatements(t, batchId)), 'COMMIT'];
      return { stage, merge: { url: `${url}/api/v2/statements?requestId=${randomBytes(8).toString('hex')}`, body: body(statements.join(';\n'), { parameters: { MULTI_STATEMENT_COUNT: String(statements.length) } }) } };
    },
    async () => ({ authorization: `Bearer ${jwt}`, 'x-snowflake-authorization-token-type': 'KEYPAIR_JWT' }),
  );
}
