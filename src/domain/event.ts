import type { ProviderId } from './provider.js';

/** Every event type a stream can subscribe to. */
export const EVENT_TYPES = [
  'message.created',
  'message.created.truncated',
  'grant.created',
  'grant.updated',
  'grant.expired',
  'grant.deleted',
  'conference.zoom.transcript',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return (EVENT_TYPES as readonly string[]).includes(value);
}

/** Sources as Nylas names them (CloudEvents `source`). */
export const SOURCES = {
  system: '/nylas/system',
  realtime: (p: ProviderId) => `/${p}/emails/realtime`,
  historic: (p: ProviderId) => `/${p}/emails/historic`,
  zoom: '/zoom/recordings/realtime',
} as const;

/** What a source hands to the event log. `id` must be stable across re-syncs. */
export interface NewEvent {
  id: string;
  type: EventType;
  source: string;
  /** Unix seconds. */
  time: number;
  grantId: string | null;
  provider: ProviderId | null;
  object: Record<string, unknown>;
}

/** An event as stored in the log. `seq` orders events; per grant it is the delivery order. */
export interface StoredEvent extends NewEvent {
  seq: string;
  applicationId: string;
}

/** The CloudEvents 1.0 envelope delivered to destinations and shown by the API. */
export interface CloudEvent {
  specversion: '1.0';
  type: EventType;
  source: string;
  id: string;
  time: number;
  webhook_delivery_attempt?: number;
  data: { application_id: string; grant_id?: string; object: Record<string, unknown> };
}

export function toCloudEvent(e: StoredEvent, attempt?: number): CloudEvent {
  const ce: CloudEvent = {
    specversion: '1.0',
    type: e.type,
    source: e.source,
    id: e.id,
    time: e.time,
    data: { application_id: e.applicationId, object: e.object },
  };
  if (e.grantId) ce.data.grant_id = e.grantId;
  if (attempt !== undefined) ce.webhook_delivery_attempt = attempt;
  return ce;
}

/** message.created bodies over this size are announced as message.created.truncated without body. */
export const MAX_MESSAGE_EVENT_BYTES = 1024 * 1024;

export interface Participant {
  name: string;
  email: string;
}

export interface AttachmentMeta {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  is_inline: boolean;
  content_id?: string;
}

/** The normalized `message.created` object (the Nylas message shape), the same for every provider. */
export interface MessageObject {
  id: string;
  grant_id: string;
  object: 'message';
  thread_id: string;
  subject: string;
  from: Participant[];
  to: Participant[];
  cc: Participant[];
  bcc: Participant[];
  reply_to: Participant[];
  date: number;
  snippet: string;
  body?: string;
  folders: string[];
  unread: boolean;
  starred: boolean;
  attachments: AttachmentMeta[];
}

/** JSON escapes one UTF-16 unit to at most 6 bytes (`\u001f`; UTF-8 itself needs 3 at most). */
const MAX_JSON_BYTES_PER_UNIT = 6;

/**
 * Whether `Buffer.byteLength(JSON.stringify(message))` exceeds `limit`, without serializing the
 * body when it cannot: the body is almost all of a message, the log serializes it again when it
 * appends the event, and a body of `n` UTF-16 units takes at most 6n bytes in JSON. Only a body
 * close enough to the limit for that bound to matter is measured exactly.
 */
export function serializedSizeOver(message: MessageObject, limit: number): boolean {
  const { body, ...rest } = message;
  // `,"body":` plus the quotes around it, when present.
  const bodyBound = body === undefined ? 0 : body.length * MAX_JSON_BYTES_PER_UNIT + 10;
  const restBytes = Buffer.byteLength(JSON.stringify(rest));
  if (restBytes + bodyBound <= limit) return false;
  return Buffer.byteLength(JSON.stringify(message)) > limit;
}

/**
 * Builds the message event, switching to `message.created.truncated` (body removed) when the
 * serialized object exceeds 1 MB. The event id depends only on grant + message id, so a
 * re-sync yields the same id and the log's idempotent append drops the duplicate.
 */
export function messageEvent(args: {
  id: string;
  source: string;
  provider: ProviderId;
  message: MessageObject;
}): NewEvent {
  const { message } = args;
  const truncated = serializedSizeOver(message, MAX_MESSAGE_EVENT_BYTES);
  const object: Record<string, unknown> = { ...message };
  if (truncated) delete object.body;
  return {
    id: args.id,
    type: truncated ? 'message.created.truncated' : 'message.created',
    source: args.source,
    time: Math.floor(Date.now() / 1000),
    grantId: message.grant_id,
    provider: args.provider,
    object,
  };
}

/** One cue of a meeting transcript. Times are offsets from the recording's start. */
export interface TranscriptSegment {
  start_ms: number;
  end_ms: number;
  /** The speaker's display name as the transcript gives it; null when the transcript names none. */
  speaker: string | null;
  text: string;
}

/** The normalized `conference.zoom.transcript` object. */
export interface TranscriptObject {
  /** The transcript's id: the recording file's id at Zoom. */
  id: string;
  grant_id: string;
  object: 'transcript';
  /** Zoom's numeric meeting id as a string (ids exceed 32 bits; recurring meetings share it). */
  meeting_id: string;
  /** One occurrence of the meeting (Zoom's uuid). */
  meeting_uuid: string;
  topic: string;
  host: { id: string; email: string | null };
  /** Unix seconds. */
  start_time: number;
  /** Minutes, as Zoom reports it. */
  duration: number;
  timezone: string | null;
  recording_start: number | null;
  recording_end: number | null;
  /** Speakers heard in the transcript, in order of first appearance. */
  participants: { name: string }[];
  segment_count: number;
  /** Absent when `truncated`. */
  segments?: TranscriptSegment[];
  /** `Speaker: text` lines; absent when `truncated`. */
  text?: string;
  /** True when the transcript was too large for one event: segments and text are left out; fetch the file instead. */
  truncated: boolean;
  /** Where the VTT file is at Zoom (needs a Zoom OAuth token of the host with a recording scope). */
  file: { id: string; download_url: string; size: number | null; file_extension: string };
}

/** Transcript objects over this size are announced with `truncated: true`, without segments and text. */
export const MAX_TRANSCRIPT_EVENT_BYTES = 1024 * 1024;

/**
 * Builds the transcript event. The id is stable per (grant, meeting occurrence, recording file)
 * — the caller derives it with stableId — so webhook retries, duplicates and polls that find
 * the same transcript append it once.
 */
export function transcriptEvent(args: { id: string; time: number; transcript: TranscriptObject }): NewEvent {
  const full = args.transcript;
  let object: Record<string, unknown> = { ...full };
  if (Buffer.byteLength(JSON.stringify(full)) > MAX_TRANSCRIPT_EVENT_BYTES) {
    const { segments: _segments, text: _text, ...rest } = full;
    object = { ...rest, truncated: true };
  }
  return { id: args.id, type: 'conference.zoom.transcript', source: SOURCES.zoom, time: args.time, grantId: full.grant_id, provider: 'zoom', object };
}

/** Nylas notification codes for grant events. */
export const GRANT_EVENT_CODES = {
  'grant.created': 25012,
  'grant.updated': 25014,
  'grant.reauthenticated': 25027,
  'grant.deleted': 25013,
  'grant.expired': 25009,
} as const;
