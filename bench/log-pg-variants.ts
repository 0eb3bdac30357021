import { sql, type Kysely } from 'kysely';
import type { NewEvent } from '../src/domain/event.js';
import { LOG_CHANNEL } from '../src/event-log/notify.js';
import type { readAfter } from '../src/event-log/read.js';
import type { Database } from '../src/store/database.js';
import type { commitBatch, HeldLease } from '../src/sync/outbox.js';

/** What side B of `bench/log-pg-cpu.ts --vs <name>` changes: SQL run on its database after the migrations, or the statements themselves. */
export interface LogVariant {
  setup: string[];
  commitBatch?: typeof commitBatch;
  readAfter?: typeof readAfter;
}

/**
 * The log before ADR 0006, for side-by-side runs: `object` as jsonb, the batch as one JSON
 * parameter parsed by the server (the outbox statement of that time, otherwise unchanged).
 */
async function commitJsonb(db: Kysely<Database>, lease: HeldLease, grant: { id: string; applicationId: string }, batch: { events: readonly NewEvent[]; cursor: unknown }): Promise<NewEvent[]> {
  const rows = JSON.stringify(batch.events.map((e) => ({ id: e.id, grant_id: e.grantId, provider: e.provider, type: e.type, source: e.source, time: e.time, object: e.object })));
  const result = await sql<{ held: boolean; valid: boolean; ids: string[] | null }>`
    with held as (
      select 1 from leases where name = ${lease.name} and holder = ${lease.holder} and token = ${lease.token} for update
    ), g as (
      select id from grants where id = ${grant.id} and status = 'valid' and exists (select 1 from held) for update
    ), ins as (
      insert into events (id, application_id, grant_id, provider, type, source, time, object)
      select e->>'id', ${grant.applicationId}, e->>'grant_id', e->>'provider', e->>'type', e->>'source', (e->>'time')::bigint, e->'object'
      from jsonb_array_elements(${rows}::jsonb) with ordinality as r(e, ord)
      where exists (select 1 from g)
      order by r.ord
      on conflict (id) do nothing
      returning id
    ), upd as (
      update grants set sync_state = coalesce(sync_state, '{}'::jsonb) || ${JSON.stringify({ cursor: batch.cursor })}::jsonb, last_sync_at = now()
      where id = (select id from g)
      returning 1
    ), note as (
      select pg_notify(${LOG_CHANNEL}, ${grant.applicationId}) from (select 1 from ins limit 1) one
    )
    select exists (select 1 from held) as held, exists (select 1 from upd) as valid, (select array_agg(id) from ins) as ids, (select count(*) from note) as notified`.execute(db);
  const added = new Set(result.rows[0]!.ids ?? []);
  return batch.events.filter((e) => added.has(e.id));
}

const drop = (index: string): LogVariant => ({ setup: [`drop index ${index}`] });

export const LOG_PG_VARIANTS: Record<string, LogVariant> = {
  none: { setup: [] },
  'no-created-at-index': drop('events_created_at'),
  'no-application-seq-index': drop('events_application_seq'),
  'no-application-type-seq-index': drop('events_application_type_seq'),
  'no-grant-seq-index': drop('events_grant_seq'),
  'no-application-created-at-index': drop('events_application_created_at'),
  'no-fk': { setup: ['alter table events drop constraint events_application_id_fkey'] },
  'toast-inline': { setup: ['alter table events set (toast_tuple_target = 8160)', 'alter table events alter column object set storage main'] },
  'jsonb-object': { setup: ['alter table events alter column object type jsonb using object::jsonb', 'alter table events alter column object set compression lz4'], commitBatch: commitJsonb as typeof commitBatch },
};
