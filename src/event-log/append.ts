import type { Kysely } from 'kysely';
import type { NewEvent } from '../domain/event.js';
import type { Database } from '../store/database.js';

/**
 * Appends events to the log. Idempotent by event id: an event already in the log is skipped,
 * so a sync pass that is retried or replayed never announces the same thing twice. Pass the
 * transaction that also saves the provider cursor (the outbox rule): both commit or neither.
 * Returns the ids that were new.
 */
export async function appendEvents(db: Kysely<Database>, applicationId: string, events: readonly NewEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const inserted: string[] = [];
  // Bounded chunks keep statements well under PostgreSQL's 65,535 bind-parameter limit.
  for (let i = 0; i < events.length; i += 500) {
    const chunk = events.slice(i, i + 500);
    const rows = await db
      .insertInto('events')
      .values(
        chunk.map((e) => ({
          id: e.id,
          application_id: applicationId,
          grant_id: e.grantId,
          provider: e.provider,
          type: e.type,
          source: e.source,
          time: e.time,
          object: JSON.stringify(e.object),
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .execute();
    for (const r of rows) inserted.push(r.id);
  }
  return inserted;
}
