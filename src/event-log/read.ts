import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { StoredEvent } from '../domain/event.js';
import { withObjectJson } from '../domain/event-json.js';
import type { Database, EventRow } from '../store/database.js';
import { eventFields } from './list.js';

/**
 * Readers for delivery: they never skip an event whose transaction commits after a
 * later-numbered one (ADR 0100).
 *
 * `seq` is assigned at insert but becomes visible at commit, so "everything after the highest
 * seq I saw" loses a lower seq that commits later. Transaction ids do not fix that on their own
 * either (a transaction can take its id before another one but its seq after). What is sound:
 * every transaction with an id below `pg_snapshot_xmin(pg_current_snapshot())` has finished,
 * and every transaction that has not finished, or has not started, has an id at or above it. So
 * readers walk the log in (txid, seq) order and stop below that horizon: once they pass a
 * position, nothing can ever appear before it.
 */

/** A place in the log, in (txid, seq) order. "After p" means txid > p.txid, or the same txid and seq > p.seq. */
export interface LogPosition {
  txid: string;
  seq: string;
}

export const LOG_START: LogPosition = { txid: '0', seq: '0' };
const MAX_SEQ = '9223372036854775807';

export function comparePositions(a: LogPosition, b: LogPosition): number {
  const t = BigInt(a.txid) - BigInt(b.txid);
  if (t !== 0n) return t < 0n ? -1 : 1;
  const s = BigInt(a.seq) - BigInt(b.seq);
  return s === 0n ? 0 : s < 0n ? -1 : 1;
}

/** The position just below a horizon: everything from transactions older than `xmin`. */
function belowHorizon(xmin: string): LogPosition {
  return { txid: String(BigInt(xmin) - 1n), seq: MAX_SEQ };
}

export interface EventFilter {
  applicationId: string;
  types: readonly string[];
  /** Null or absent: every grant. */
  grantIds?: readonly string[] | null;
  /** Null or absent: every provider. */
  providers?: readonly string[] | null;
}

export interface LoggedEvent extends StoredEvent {
  txid: string;
}

export interface ReadResult {
  events: LoggedEvent[];
  /**
   * Where the next read starts: the last event returned, or — when fewer than `limit` matched —
   * the horizon, so a stream whose filter matches nothing still moves forward (and lets retention
   * prune behind it).
   */
  next: LogPosition;
}

function filterSql(f: EventFilter): RawBuilder<unknown>[] {
  const parts: RawBuilder<unknown>[] = [sql`e.application_id = ${f.applicationId}`, sql`e.type = any(${[...f.types]}::text[])`];
  if (f.grantIds) parts.push(sql`e.grant_id = any(${[...f.grantIds]}::text[])`);
  if (f.providers) parts.push(sql`e.provider = any(${[...f.providers]}::text[])`);
  return parts;
}

function afterSql(p: LogPosition): RawBuilder<unknown> {
  return sql`(e.txid, e.seq) > (${p.txid}::xid8, ${p.seq}::bigint)`;
}

/**
 * The columns delivery needs, `object` as the database's JSON text: parsed only if a destination
 * reads it (a webhook copies the text into its body, see domain/event-json.ts).
 */
const COLUMNS = sql`e.seq, e.id, e.application_id, e.grant_id, e.provider, e.type, e.source, e.time, e.txid::text as txid, e.object::text as object_json`;

/** A row of the log as delivery reads it; `object_json` is the text, or its UTF-8 bytes (read-bytes.ts). */
export type LogRow = Omit<EventRow, 'object' | 'txid' | 'created_at'> & { txid: string; object_json: string | Uint8Array };

function toLoggedEvent(r: LogRow): LoggedEvent {
  return withObjectJson<LoggedEvent>({ ...eventFields(r), txid: r.txid }, r.object_json);
}

export interface ReadQuery {
  after: LogPosition;
  filter: EventFilter;
  limit: number;
}

/**
 * readAfter's one statement: the horizon and the rows come from the same snapshot. Every row
 * carries the horizon; with no event, one row with the horizon and nulls.
 */
export const readAfterQuery = (q: ReadQuery) => sql<(LogRow & { horizon: string }) | { horizon: string; seq: null }>`
    select h.horizon, e.*
    from (select pg_snapshot_xmin(pg_current_snapshot())::text as horizon) h
    left join lateral (
      select ${COLUMNS} from events e
      where ${sql.join(filterSql(q.filter), sql` and `)} and ${afterSql(q.after)} and e.txid < h.horizon::xid8
      order by e.txid, e.seq
      limit ${q.limit}
    ) e on true`;

/** Reads up to `limit` events after `after` that match `filter`, in (txid, seq) order, below the horizon. */
export async function readAfter(db: Kysely<Database>, q: ReadQuery): Promise<ReadResult> {
  return readResult(q, (await readAfterQuery(q).execute(db)).rows);
}

/** The events of readAfterQuery's rows, and where the next read starts. */
export function readResult(q: ReadQuery, rows: readonly ((LogRow & { horizon: string }) | { horizon: string; seq: null })[]): ReadResult {
  const horizon = rows[0]!.horizon;
  const events: LoggedEvent[] = [];
  for (const r of rows) {
    if (r.seq === null) continue;
    events.push(toLoggedEvent(r as LogRow));
  }
  const last = events.at(-1);
  let next: LogPosition = last ? { txid: last.txid, seq: last.seq } : q.after;
  if (events.length < q.limit) {
    const h = belowHorizon(horizon);
    if (comparePositions(h, next) > 0) next = h;
  }
  return { events, next };
}

/**
 * One grant's events in (after, upTo], in (txid, seq) order: what a per-grant hold of a stream
 * still owes (the stream's offset `upTo` is below the horizon, so the range is final).
 * `grantId` null selects the events without a grant.
 */
export async function readGrantRange(
  db: Kysely<Database>,
  q: { after: LogPosition; upTo: LogPosition; filter: EventFilter; grantId: string | null; limit: number },
): Promise<LoggedEvent[]> {
  if (comparePositions(q.after, q.upTo) >= 0) return [];
  const grant = q.grantId === null ? sql`e.grant_id is null` : sql`e.grant_id = ${q.grantId}`;
  const { rows } = await sql<LogRow>`
    select ${COLUMNS} from events e
    where ${sql.join(filterSql(q.filter), sql` and `)} and ${grant} and ${afterSql(q.after)}
      and (e.txid, e.seq) <= (${q.upTo.txid}::xid8, ${q.upTo.seq}::bigint)
    order by e.txid, e.seq
    limit ${q.limit}`.execute(db);
  return rows.map(toLoggedEvent);
}

/** The current end of the log: a stream starting here receives only events not yet safely readable. */
export async function logEnd(db: Kysely<Database>): Promise<LogPosition> {
  const { rows } = await sql<{ horizon: string }>`select pg_snapshot_xmin(pg_current_snapshot())::text as horizon`.execute(db);
  return belowHorizon(rows[0]!.horizon);
}

/** The position just before an event (replay from that event, inclusive). */
export async function positionBeforeEvent(db: Kysely<Database>, applicationId: string, eventId: string): Promise<LogPosition | null> {
  const row = await db.selectFrom('events').select(['txid', 'seq']).where('application_id', '=', applicationId).where('id', '=', eventId).executeTakeFirst();
  return row ? { txid: String(row.txid), seq: String(BigInt(row.seq) - 1n) } : null;
}

/**
 * The position before the first event (in reading order) appended at or after `time`, or the
 * end of the log when there is none. Events are appended in roughly time order, so a replay
 * from here covers everything appended since `time` (and possibly a few moments more).
 */
export async function positionAtTime(db: Kysely<Database>, applicationId: string, time: Date): Promise<LogPosition> {
  const row = (await positionAtTimeQuery(applicationId, time).execute(db)).rows[0];
  return row ? { txid: String(row.txid), seq: String(BigInt(row.seq) - 1n) } : logEnd(db);
}

/** Commit order and creation time differ only by in-flight transactions: this much after the first event at `time` is searched for an earlier position. */
const TIME_SKEW = '5 minutes';

/**
 * The lowest (txid, seq) among the events created from `time` on, searched in a window of
 * TIME_SKEW after the first of them (through the (application_id, created_at) index), never over
 * the rest of the log.
 */
export const positionAtTimeQuery = (applicationId: string, time: Date) => sql<{ txid: string; seq: string }>`
  with w as materialized (
    -- Materialized: otherwise the planner walks (txid, seq) order hoping for an early match.
    select e.txid, e.seq from events e
    where e.application_id = ${applicationId} and e.created_at >= ${time}
      and e.created_at <= (select f.created_at from events f where f.application_id = ${applicationId} and f.created_at >= ${time} order by f.created_at limit 1) + ${TIME_SKEW}::interval
  )
  select txid::text as txid, seq from w order by txid, seq limit 1`;

/** The lag count stops here (a status shows "10000+"): counting a million-event backlog on every status call is a scan. */
export const LAG_CAP = 10_000;

/** Reads at most `cap` index entries after `after`: the cost is bounded whatever the backlog. */
export const lagAfterQuery = (after: LogPosition, filter: EventFilter, cap: number) => sql<{ n: string; oldest: Date | null }>`
  select count(*)::text as n, min(created_at) as oldest from (
    select e.created_at from events e
    where ${sql.join(filterSql(filter), sql` and `)} and ${afterSql(after)}
    order by e.txid, e.seq
    limit ${cap}
  ) l`;

/** How far a reader at `after` is behind: matching events not yet read (up to `cap`) and the age of the oldest. */
export async function lagAfter(db: Kysely<Database>, after: LogPosition, filter: EventFilter, cap = LAG_CAP): Promise<{ events: number; oldest: Date | null }> {
  const { rows } = await lagAfterQuery(after, filter, cap).execute(db);
  const r = rows[0];
  return { events: Number(r?.n ?? 0), oldest: r?.oldest ? new Date(r.oldest) : null };
}
