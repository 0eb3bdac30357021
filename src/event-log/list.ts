import type { Kysely } from 'kysely';
import type { EventType, StoredEvent } from '../domain/event.js';
import type { ProviderId } from '../domain/provider.js';
import type { Database, EventRow } from '../store/database.js';

/** Every field of a stored event but its object, from a row of `events`. */
export function eventFields(r: Omit<EventRow, 'object' | 'txid' | 'created_at'>): Omit<StoredEvent, 'object'> {
  return {
    seq: String(r.seq),
    id: r.id,
    applicationId: r.application_id,
    grantId: r.grant_id,
    provider: r.provider as ProviderId | null,
    type: r.type as EventType,
    source: r.source,
    time: Number(r.time),
  };
}

export function toStoredEvent(r: EventRow): StoredEvent {
  return { ...eventFields(r), object: r.object };
}

export interface EventPageQuery {
  applicationId: string;
  type?: string;
  grantId?: string;
  limit: number;
  /** Return events with seq strictly below this (the previous page's cursor). */
  beforeSeq?: string;
}

/** Newest-first page of events for the API and the dashboard's explorer. */
export async function listEvents(db: Kysely<Database>, q: EventPageQuery): Promise<{ events: StoredEvent[]; nextCursor: string | null }> {
  let query = db.selectFrom('events').selectAll().where('application_id', '=', q.applicationId);
  if (q.type) query = query.where('type', '=', q.type);
  if (q.grantId) query = query.where('grant_id', '=', q.grantId);
  if (q.beforeSeq) query = query.where('seq', '<', q.beforeSeq);
  const rows = await query.orderBy('seq', 'desc').limit(q.limit + 1).execute();
  const page = rows.slice(0, q.limit).map(toStoredEvent);
  const last = page.at(-1);
  return { events: page, nextCursor: rows.length > q.limit && last ? last.seq : null };
}

export async function getEvent(db: Kysely<Database>, applicationId: string, id: string): Promise<StoredEvent | undefined> {
  const row = await db.selectFrom('events').selectAll().where('application_id', '=', applicationId).where('id', '=', id).executeTakeFirst();
  return row ? toStoredEvent(row) : undefined;
}
