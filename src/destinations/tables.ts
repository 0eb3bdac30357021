import type { StoredEvent } from '../domain/event.js';

/**
 * The one tabular mapping of events, shared by every table-shaped sink (file/Parquet, postgres,
 * BigQuery, Snowflake). It keeps the names of the Nylas Streams warehouse layout
 * (`message`, `participant`, a `*_test` table) and adds `grant_event`,
 * `zoom_transcript` and its `zoom_transcript_segment` rows. Columns are data so each sink derives its DDL from them; `toRows` is the
 * only place that knows how an event becomes rows.
 */
export type ColumnType = 'text' | 'integer' | 'bigint' | 'boolean' | 'timestamptz' | 'json';

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** NOT NULL when false; a row missing it is rejected (the event goes to dead letters). */
  nullable: boolean;
}

export interface TableDef {
  name: TableName;
  columns: readonly ColumnDef[];
  primaryKey: readonly string[];
  /** The column warehouses partition by day on: the event's own time where the table has one. */
  eventTime: string;
}

/**
 * Version of this layout. Bump it when a column is added (columns are only ever added, and
 * nullable): sinks that keep tables compare it with what they created and add the missing
 * columns, so a new column is a migration, never a break.
 */
export const SCHEMA_VERSION = 2;

export const TABLE_NAMES = ['message', 'participant', 'grant_event', 'zoom_transcript', 'zoom_transcript_segment', '_tributary_test'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** A cell: json columns hold serialized JSON text; timestamps are Date. */
export type Cell = string | number | boolean | Date | null;
export type Row = Record<string, Cell>;

const col = (name: string, type: ColumnType, nullable = true): ColumnDef => ({ name, type, nullable });
const SYNCED = col('_synced_at', 'timestamptz', false);

export const TABLES: Record<TableName, TableDef> = {
  message: {
    name: 'message',
    eventTime: 'received_at',
    primaryKey: ['id'],
    columns: [
      col('id', 'text', false),
      col('grant_id', 'text', false),
      col('application_id', 'text', false),
      col('event_id', 'text', false),
      col('thread_id', 'text'),
      col('subject', 'text'),
      col('from', 'json'),
      col('snippet', 'text'),
      col('body', 'text'),
      col('truncated', 'boolean', false),
      col('folders', 'json'),
      col('unread', 'boolean'),
      col('starred', 'boolean'),
      col('attachments', 'json'),
      col('received_at', 'timestamptz'),
      SYNCED,
    ],
  },
  participant: {
    name: 'participant',
    eventTime: '_synced_at',
    primaryKey: ['message_id', 'type', 'email'],
    columns: [col('message_id', 'text', false), col('type', 'text', false), col('name', 'text'), col('email', 'text', false), SYNCED],
  },
  grant_event: {
    name: 'grant_event',
    eventTime: 'occurred_at',
    primaryKey: ['event_id'],
    columns: [
      col('event_id', 'text', false),
      col('type', 'text', false),
      col('code', 'integer'),
      col('grant_id', 'text', false),
      col('application_id', 'text', false),
      col('integration_id', 'text'),
      col('provider', 'text'),
      col('email', 'text'),
      col('login_id', 'text'),
      col('grant_updated_at', 'timestamptz'),
      col('occurred_at', 'timestamptz', false),
      SYNCED,
    ],
  },
  zoom_transcript: {
    name: 'zoom_transcript',
    eventTime: 'occurred_at',
    primaryKey: ['event_id'],
    columns: [
      col('event_id', 'text', false),
      col('grant_id', 'text'),
      col('application_id', 'text', false),
      col('meeting_id', 'text'),
      col('topic', 'text'),
      /** The full text (`Speaker: text` lines); null when the event was truncated. */
      col('transcript', 'text'),
      /** The object without segments and text (those have their own columns and table). */
      col('object', 'json', false),
      col('occurred_at', 'timestamptz', false),
      SYNCED,
      col('meeting_uuid', 'text'),
      col('recording_file_id', 'text'),
      col('host_id', 'text'),
      col('host_email', 'text'),
      col('start_time', 'timestamptz'),
      col('duration_minutes', 'integer'),
      col('participants', 'json'),
      col('segment_count', 'integer'),
      col('truncated', 'boolean'),
    ],
  },
  zoom_transcript_segment: {
    name: 'zoom_transcript_segment',
    eventTime: '_synced_at',
    primaryKey: ['event_id', 'seq'],
    columns: [
      col('event_id', 'text', false),
      col('seq', 'integer', false),
      col('grant_id', 'text'),
      col('meeting_uuid', 'text'),
      col('start_ms', 'bigint', false),
      col('end_ms', 'bigint', false),
      col('speaker', 'text'),
      col('text', 'text', false),
      SYNCED,
    ],
  },
  _tributary_test: {
    name: '_tributary_test',
    eventTime: 'written_at',
    primaryKey: ['id'],
    columns: [col('id', 'text', false), col('stream_id', 'text', false), col('written_at', 'timestamptz', false)],
  },
};

export const PARTICIPANT_TYPES = ['from', 'to', 'cc', 'bcc', 'reply_to'] as const;

export interface TableRows {
  table: TableName;
  rows: Row[];
}

/** Why an event cannot be mapped (a missing NOT NULL column); the sink rejects that event alone. */
export class RowMappingError extends Error {
  override name = 'RowMappingError';
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
/** Unix seconds (the event format) or an ISO string → Date; anything else → null. */
function time(v: unknown): Date | null {
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v * 1000);
  if (typeof v === 'string') {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

/** How one member of an event's object becomes a cell. */
export type MemberKind = 'str' | 'bool' | 'json' | 'time';

/** A column read from one top-level member of the event's object. */
export interface MemberColumn {
  column: string;
  member: string;
  kind: MemberKind;
}

/**
 * The message columns taken from one member of the object each, and how. `toRows` fills them
 * from this list; the s3 Parquet writer's SQL mapping (s3/message-sql.ts) projects the same list
 * from the object's JSON text, so the two cannot drift apart column by column.
 */
export const MESSAGE_MEMBERS: readonly MemberColumn[] = [
  { column: 'id', member: 'id', kind: 'str' },
  { column: 'thread_id', member: 'thread_id', kind: 'str' },
  { column: 'subject', member: 'subject', kind: 'str' },
  { column: 'from', member: 'from', kind: 'json' },
  { column: 'snippet', member: 'snippet', kind: 'str' },
  { column: 'folders', member: 'folders', kind: 'json' },
  { column: 'unread', member: 'unread', kind: 'bool' },
  { column: 'starred', member: 'starred', kind: 'bool' },
  { column: 'attachments', member: 'attachments', kind: 'json' },
  { column: 'received_at', member: 'date', kind: 'time' },
];

const READ_MEMBER: Record<MemberKind, (v: unknown) => Cell> = { str, bool, json, time };

/**
 * The message row's cells that come from the event itself, not its object: the members of
 * MESSAGE_MEMBERS are null, `grant_id` is the event's (null when it has none: the object's
 * `grant_id` is the fallback), and `body` is null. Shared by toRows and the s3 SQL mapping.
 */
export function messageEventCells(e: StoredEvent, syncedAt: Date): Row {
  return {
    id: null,
    grant_id: e.grantId,
    application_id: e.applicationId,
    event_id: e.id,
    thread_id: null,
    subject: null,
    from: null,
    snippet: null,
    body: null,
    truncated: e.type === 'message.created.truncated',
    folders: null,
    unread: null,
    starred: null,
    attachments: null,
    received_at: null,
    _synced_at: syncedAt,
  };
}

function participants(messageId: string, object: Record<string, unknown>, syncedAt: Date): Row[] {
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const type of PARTICIPANT_TYPES) {
    const list = object[type];
    if (!Array.isArray(list)) continue;
    for (const p of list as unknown[]) {
      if (typeof p !== 'object' || p === null) continue;
      const email = str((p as Record<string, unknown>).email);
      if (!email) continue;
      // The primary key is (message_id, type, email): a repeated address appears once.
      const key = `${type}\u0000${email}`;
      if (seen.has(key)) continue;
      seen.add(key);
      rows.push({ message_id: messageId, type, name: str((p as Record<string, unknown>).name), email, _synced_at: syncedAt });
    }
  }
  return rows;
}

/** One row per transcript segment, numbered in order; malformed segments are left out. */
function segmentRows(e: StoredEvent, segments: unknown, meetingUuid: string | null, syncedAt: Date): Row[] {
  if (!Array.isArray(segments)) return [];
  const rows: Row[] = [];
  for (const s of segments as unknown[]) {
    if (typeof s !== 'object' || s === null) continue;
    const seg = s as Record<string, unknown>;
    const start = typeof seg.start_ms === 'number' && Number.isFinite(seg.start_ms) ? Math.round(seg.start_ms) : null;
    const end = typeof seg.end_ms === 'number' && Number.isFinite(seg.end_ms) ? Math.round(seg.end_ms) : null;
    const text = str(seg.text);
    if (start === null || end === null || text === null) continue;
    rows.push({ event_id: e.id, seq: rows.length, grant_id: e.grantId, meeting_uuid: meetingUuid, start_ms: start, end_ms: end, speaker: str(seg.speaker), text, _synced_at: syncedAt });
  }
  return rows;
}

function mapEvent(e: StoredEvent, syncedAt: Date): TableRows[] {
  const o = e.object;
  switch (e.type) {
    case 'message.created':
    case 'message.created.truncated': {
      const message = messageEventCells(e, syncedAt);
      for (const m of MESSAGE_MEMBERS) message[m.column] = READ_MEMBER[m.kind](o[m.member]);
      message.grant_id ??= str(o.grant_id);
      if (e.type === 'message.created') message.body = str(o.body);
      const id = message.id as string | null;
      return [
        { table: 'message', rows: [message] },
        { table: 'participant', rows: id ? participants(id, o, syncedAt) : [] },
      ];
    }
    case 'grant.created':
    case 'grant.updated':
    case 'grant.expired':
    case 'grant.deleted': {
      const code = typeof o.code === 'number' ? o.code : null;
      const row: Row = {
        event_id: e.id,
        type: e.type,
        code,
        grant_id: e.grantId ?? str(o.grant_id),
        application_id: e.applicationId,
        integration_id: str(o.integration_id),
        provider: e.provider ?? str(o.provider),
        email: str(o.email),
        login_id: str(o.login_id),
        grant_updated_at: time(o.grant_updated_at),
        occurred_at: new Date(e.time * 1000),
        _synced_at: syncedAt,
      };
      return [{ table: 'grant_event', rows: [row] }];
    }
    case 'conference.zoom.transcript': {
      const { segments, text, ...meta } = o;
      const host = typeof o.host === 'object' && o.host !== null ? (o.host as Record<string, unknown>) : {};
      const row: Row = {
        event_id: e.id,
        grant_id: e.grantId,
        application_id: e.applicationId,
        meeting_id: str(o.meeting_id),
        topic: str(o.topic),
        transcript: str(text),
        object: JSON.stringify(meta),
        occurred_at: new Date(e.time * 1000),
        _synced_at: syncedAt,
        meeting_uuid: str(o.meeting_uuid),
        recording_file_id: str(o.id),
        host_id: str(host.id),
        host_email: str(host.email),
        start_time: time(o.start_time),
        duration_minutes: typeof o.duration === 'number' && Number.isInteger(o.duration) ? o.duration : null,
        participants: json(o.participants),
        segment_count: typeof o.segment_count === 'number' ? o.segment_count : null,
        truncated: bool(o.truncated),
      };
      return [
        { table: 'zoom_transcript', rows: [row] },
        { table: 'zoom_transcript_segment', rows: segmentRows(e, segments, str(o.meeting_uuid), syncedAt) },
      ];
    }
  }
}

/**
 * The rows an event becomes, per table. Throws RowMappingError when a NOT NULL column is
 * missing, so every tabular sink rejects the same events for the same reason.
 */
export function toRows(e: StoredEvent, syncedAt: Date): TableRows[] {
  const out = mapEvent(e, syncedAt);
  for (const { table, rows } of out) {
    for (const row of rows) {
      for (const c of TABLES[table].columns) {
        if (!c.nullable && (row[c.name] === null || row[c.name] === undefined)) {
          throw new RowMappingError(`${e.type} event ${e.id}: column ${table}.${c.name} is required but the event has no value for it`);
        }
      }
    }
  }
  return out;
}

/** The row "test connection" writes into `_tributary_test`. */
export function testRow(id: string, streamId: string, now: Date): Row {
  return { id, stream_id: streamId, written_at: now };
}

/** Groups the rows of many events by table (the shape bulk writers want). */
export function rowsByTable(groups: Iterable<TableRows>): Map<TableName, Row[]> {
  const out = new Map<TableName, Row[]>();
  for (const { table, rows } of groups) {
    if (rows.length === 0) continue;
    const list = out.get(table);
    if (list) list.push(...rows);
    else out.set(table, [...rows]);
  }
  return out;
}
