import { sql, type RawBuilder } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testContext, type TestContext } from '../../test/helpers/context.js';
import { eventsPerMinute } from '../dashboard/stats.js';
import { pruneBatchQuery, pruneBoundary, pruneBoundaryQuery } from './prune.js';
import { LAG_CAP, LOG_START, lagAfterQuery, positionAtTimeQuery } from './read.js';

const TOTAL = 1_000_000;
const OLD = 1_000;
const SPACING_MS = 100;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Rows of `events` the plan actually read (returned or filtered away), and its scan kinds. */
function eventsTouched(node: PlanNode, acc = { rows: 0, scans: [] as string[] }) {
  if (node['Relation Name'] === 'events') {
    const loops = node['Actual Loops'] ?? 1;
    acc.rows += ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * loops;
    acc.scans.push(node['Node Type']);
  }
  for (const p of node.Plans ?? []) eventsTouched(p, acc);
  return acc;
}

/**
 * Every time-bounded read of the log, on a 1,000,000-event log (PostgreSQL): the plan touches a
 * bounded number of rows, never the whole log. 1,000 events are older than the retention window,
 * the rest arrive one every 100 ms up to now.
 */
describe('no whole-log scans (1M events, PostgreSQL)', () => {
  let t: TestContext;
  let appId: string;
  const now = new Date();
  const first = now.getTime() - TOTAL * SPACING_MS;
  const cutoff = new Date(now.getTime() - 7 * 86_400_000);

  const explain = async (q: RawBuilder<unknown>) => {
    const { rows } = await sql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>`explain (analyze, format json) ${q}`.execute(t.store.db);
    return eventsTouched(rows[0]!['QUERY PLAN'][0].Plan);
  };

  beforeAll(async () => {
    t = await testContext('postgres');
    appId = (await t.repos.applications.ensureDefault('local')).app.id;
    // Bulk load without the secondary indexes, then build them (minutes faster than 1M indexed inserts).
    const { rows: indexes } = await sql<{ indexname: string; indexdef: string }>`select indexname, indexdef from pg_indexes where tablename = 'events' and indexname not like '%pkey' and indexname not like '%id_key'`.execute(t.store.db);
    for (const i of indexes) await sql.raw(`drop index ${i.indexname}`).execute(t.store.db);
    await sql`
      insert into events (id, application_id, grant_id, provider, type, source, time, object, created_at)
      select 'ev' || i, ${appId}, 'g' || (i % 100), 'imap', 'message.created', '/imap/emails/realtime', 0, '{}'::jsonb,
             case when i <= ${OLD} then ${new Date(cutoff.getTime() - 86_400_000)}::timestamptz + i * interval '1 ms'
                  else to_timestamp((${first}::bigint + i * ${SPACING_MS}::bigint) / 1000.0) end
      from generate_series(1, ${TOTAL}) i`.execute(t.store.db);
    for (const i of indexes) await sql.raw(i.indexdef).execute(t.store.db);
    await sql`analyze events`.execute(t.store.db);
  }, 300_000);
  afterAll(async () => t?.close());

  it('retention stops at the first young event', async () => {
    expect(await explain(pruneBoundaryQuery(appId, cutoff))).toMatchObject({ rows: 1 });
    const boundary = await pruneBoundary(t.store.db, appId, cutoff);
    // The last batch of a run finds fewer old events than it may delete: it must not read on to the end of the log.
    await t.store.db.transaction().execute(async (tx) => {
      const { rows } = await sql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>`explain (analyze, format json) ${pruneBatchQuery(appId, cutoff, boundary, 2000)}`.execute(tx);
      const touched = eventsTouched(rows[0]!['QUERY PLAN'][0].Plan);
      expect(touched.rows).toBeLessThan(3 * OLD);
      expect(touched.scans).not.toContain('Seq Scan');
      throw new RollbackForTest();
    }).catch((e: unknown) => {
      if (!(e instanceof RollbackForTest)) throw e;
    });
  });

  it('replay from a time reads a window after that time, not the rest of the log', async () => {
    const touched = await explain(positionAtTimeQuery(appId, new Date(first + (TOTAL / 2) * SPACING_MS)));
    expect(touched.scans).not.toContain('Seq Scan');
    // 5 minutes of events at 10 per second, plus the probe for the first one.
    expect(touched.rows).toBeLessThan(5 * 60 * 10 + 100);
  });

  it('the lag estimate of a stream at the start of the log is bounded', async () => {
    const touched = await explain(lagAfterQuery(LOG_START, { applicationId: appId, types: ['message.created'] }, LAG_CAP));
    expect(touched.rows).toBeLessThanOrEqual(LAG_CAP + 1);
  });

  it("the dashboard's events per minute reads only the last hour", async () => {
    const from = new Date(now.getTime() - 59 * 60_000);
    const q = sql`select date_trunc('minute', created_at) as t, count(*) from events where application_id = ${appId} and created_at >= ${new Date(Math.floor(from.getTime() / 60_000) * 60_000)} group by 1`;
    const touched = await explain(q);
    expect(touched.scans).not.toContain('Seq Scan');
    expect(touched.rows).toBeLessThan(61 * 60 * 10);
    expect((await eventsPerMinute(t.store.db, appId, now, 60)).length).toBe(60);
  });
});

class RollbackForTest extends Error {}
