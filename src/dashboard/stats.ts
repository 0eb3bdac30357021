import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/database.js';

/**
 * Aggregates the dashboard shows at a glance that the v3 API has no list for: counts by status
 * and per-minute series. Minutes are unix seconds at the start of the minute; minutes without
 * rows are filled with zero so that charts need no gap logic.
 */
export interface Point {
  t: number;
  n: number;
}

export function fillMinutes(rows: { t: number; n: number }[], from: Date, minutes: number): Point[] {
  const start = Math.floor(from.getTime() / 60_000) * 60;
  const byMinute = new Map(rows.map((r) => [r.t, r.n]));
  return Array.from({ length: minutes }, (_, i) => ({ t: start + i * 60, n: byMinute.get(start + i * 60) ?? 0 }));
}

const minuteOf = (column: string) => sql<string>`(floor(extract(epoch from ${sql.ref(column)}) / 60) * 60)::bigint`;

export async function grantsByStatus(db: Kysely<Database>, applicationId: string): Promise<Record<string, number>> {
  const rows = await db.selectFrom('grants').select(['status', sql<string>`count(*)`.as('n')]).where('application_id', '=', applicationId).groupBy('status').execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Events appended per minute (by arrival in the log, not by event time: backfills show as bursts). */
export async function eventsPerMinute(db: Kysely<Database>, applicationId: string, now: Date, minutes: number): Promise<Point[]> {
  const from = new Date(now.getTime() - (minutes - 1) * 60_000);
  const rows = await db
    .selectFrom('events')
    .select([minuteOf('created_at').as('t'), sql<string>`count(*)`.as('n')])
    .where('application_id', '=', applicationId)
    .where('created_at', '>=', new Date(Math.floor(from.getTime() / 60_000) * 60_000))
    .groupBy(sql`1`)
    .execute();
  return fillMinutes(rows.map((r) => ({ t: Number(r.t), n: Number(r.n) })), from, minutes);
}

/** message.created(.truncated) events per grant over the last 24 h. */
export async function messagesLastDay(db: Kysely<Database>, applicationId: string, now: Date): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('events')
    .select(['grant_id', sql<string>`count(*)`.as('n')])
    .where('application_id', '=', applicationId)
    .where('type', 'in', ['message.created', 'message.created.truncated'])
    .where('created_at', '>=', new Date(now.getTime() - 86_400_000))
    .where('grant_id', 'is not', null)
    .groupBy('grant_id')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.grant_id!, Number(r.n)]));
}

/** Events a stream delivered per minute; null when the stream is not the application's. */
export async function streamThroughput(db: Kysely<Database>, applicationId: string, streamId: string, now: Date, minutes: number): Promise<Point[] | null> {
  const owned = await db.selectFrom('streams').select('id').where('id', '=', streamId).where('application_id', '=', applicationId).executeTakeFirst();
  if (!owned) return null;
  const from = new Date(now.getTime() - (minutes - 1) * 60_000);
  const rows = await db
    .selectFrom('delivery_attempts')
    .select([minuteOf('created_at').as('t'), sql<string>`sum(count)`.as('n')])
    .where('stream_id', '=', streamId)
    .where('outcome', 'in', ['delivered', 'partial'])
    .where('created_at', '>=', new Date(Math.floor(from.getTime() / 60_000) * 60_000))
    .groupBy(sql`1`)
    .execute();
  return fillMinutes(rows.map((r) => ({ t: Number(r.t), n: Number(r.n) })), from, minutes);
}
