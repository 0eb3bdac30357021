import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { NewEvent } from '../domain/event.js';
import type { Database } from '../store/database.js';
import { notifyAppended } from './notify.js';

/** Rows per statement: bounds statement size while keeping round trips few. */
const CHUNK = 500;

/**
 * Appends events to the log. Idempotent by event id: an event already in the log is skipped,
 * so a sync pass that is retried or replayed never announces the same thing twice. Pass the
 * transaction that also saves the provider cursor (the outbox rule): both commit or neither.
 * Returns the ids that were new, in append order.
 *
 * A chunk travels as two parameters (encodeEventRows): the events' small fields as one JSON
 * array expanded by `jsonb_array_elements`, and their objects' JSON texts joined by a separator.
 * `object` is a `json` column (ADR 0006): the server only validates each text and stores it as
 * is, where jsonb parsed it into its binary form on the way in and printed it back on every read
 * (most of the log's server CPU per message). `WITH ORDINALITY` keeps the identity values in the
 * order the source produced the events, which is the per-grant delivery order.
 *
 * New events also queue a `pg_notify` (see notify.ts) that PostgreSQL delivers at commit, so
 * delivery wakes when the events become readable instead of at its next poll.
 */
export async function appendEvents(db: Kysely<Database>, applicationId: string, events: readonly NewEvent[]): Promise<string[]> {
  const inserted: string[] = [];
  for (let i = 0; i < events.length; i += CHUNK) {
    const result = await sql<{ id: string }>`${insertEventsSql(applicationId, events.slice(i, i + CHUNK))}`.execute(db);
    for (const r of result.rows) inserted.push(r.id);
  }
  // Wakes the delivery runners when this transaction commits (nothing is sent on rollback).
  if (inserted.length > 0) await notifyAppended(db, applicationId);
  return inserted;
}

/**
 * Joins the objects' texts. JSON.stringify escapes every control character inside strings
 * (U+001E becomes `\u001e`) and emits none outside them, so it never occurs in an object's text.
 */
const OBJECT_SEPARATOR = '\u001e';

/** A batch as the INSERT's parameters: the events' fields as one JSON array, and their objects' JSON texts joined by OBJECT_SEPARATOR. */
export interface EncodedRows {
  fields: string;
  objects: string;
}

/**
 * The INSERT's parameters for `events`. Encoding is most of a batch's CPU on our side
 * (JSON.stringify of mail bodies); the sync engine encodes a batch as soon as it has it, so
 * with a session that reads ahead (ADR 0512) this happens while the previous batch commits.
 */
export function encodeEventRows(events: readonly NewEvent[]): EncodedRows {
  let objects = '';
  const fields = events.map((e, i) => {
    const text = JSON.stringify(e.object) as string | undefined;
    // (jsonb refused a missing object too: the column is NOT NULL.)
    if (typeof text !== 'string') throw new TypeError(`event ${e.id}: its object has no JSON text`);
    objects += i === 0 ? text : OBJECT_SEPARATOR + text;
    const row = { id: e.id, grant_id: e.grantId, provider: e.provider, type: e.type, source: e.source, time: e.time };
    // A `\u` escape (see insertEventsSql); rare in mail, and one scan of the text finds it.
    return text.includes('\\u') ? { ...row, escapes: true } : row;
  });
  return { fields: JSON.stringify(fields), objects };
}

/**
 * The INSERT of `appendEvents` as a statement fragment returning the new ids, for callers that
 * fold the append into a larger statement (the sync outbox commits a batch in one round trip).
 * `onlyIf` is a condition the rows are inserted under; the caller queues the notification.
 * `rows`: `encodeEventRows(events)` if the caller already has it.
 *
 * The `json` cast validates the text as jsonb did, except for what jsonb refused and json takes:
 * the escape of U+0000 and lone UTF-16 surrogates (`\ud800`), which JSON.stringify writes as
 * `\u` escapes like the other control characters. A text holding `\u` anywhere (marked
 * `escapes` by encodeEventRows; a backslash before a `u` matches too) goes through the jsonb
 * parser as well, so those are refused with the same errors as before (22P05, 22P02) and nothing
 * else is. (Three `strpos` per row in SQL instead cost the server most of what jsonb's parse
 * saved: ADR 0006.)
 */
export function insertEventsSql(applicationId: string, events: readonly NewEvent[], onlyIf: RawBuilder<unknown> = sql`true`, rows: EncodedRows = encodeEventRows(events)): RawBuilder<{ id: string }> {
  return sql<{ id: string }>`
      insert into events (id, application_id, grant_id, provider, type, source, time, object)
      select e->>'id', ${applicationId}, e->>'grant_id', e->>'provider', e->>'type', e->>'source', (e->>'time')::bigint,
        (case when e->'escapes' is null then o when o::jsonb is not null then o end)::json
      from rows from (jsonb_array_elements(${rows.fields}::jsonb), string_to_table(${rows.objects}, chr(30))) with ordinality as r(e, o, ord)
      where ${onlyIf}
      order by r.ord
      on conflict (id) do nothing
      returning id`;
}
