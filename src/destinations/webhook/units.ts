import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { toCloudEvent, type StoredEvent } from '../../domain/event.js';
import { cloudEventFrame, cloudEventJson, objectBytes } from '../../domain/event-json.js';
import { chunked } from '../destination.js';
import { cloudEventHeaders, structuredCloudEvent } from './cloudevents.js';

/**
 * What one POST carries: one event (the default), or up to `maxEvents` consecutive events of one
 * grant as a JSON array (opt-in batched delivery). Each unit's body is encoded exactly once per
 * write, and its signature covers that body.
 */
export interface Unit {
  events: StoredEvent[];
  /** `webhook-id`: the event id, or for a batch a digest of its event ids (stable across retries of the same batch). */
  id: string;
  /** The uncompressed JSON body. */
  json: Buffer;
  contentType: string;
  /** CloudEvents binary-mode headers (single events only; a batch carries its attributes in the body). */
  ceHeaders: Record<string, string>;
}

export interface Batching {
  /** At most this many events per request; 1 = one event per request (no array). */
  maxEvents: number;
  /** At most this many body bytes per request (an event larger on its own still goes, alone). */
  maxBytes: number;
  /** `json`: a JSON array of the usual bodies; `cloudevents`: CloudEvents batched mode. */
  format: 'json' | 'cloudevents';
}

export const JSON_TYPE = 'application/json';
export const CLOUDEVENTS_BATCH_TYPE = 'application/cloudevents-batch+json';

/** `batch_` + the first 32 hex digits of SHA-256 over the ids: the same events give the same id. */
export function batchId(events: readonly StoredEvent[]): string {
  const h = createHash('sha256');
  for (const e of events) h.update(e.id).update('\n');
  return `batch_${h.digest('hex').slice(0, 32)}`;
}

/**
 * The usual body as bytes, written once; the signatures and the request reuse them. An object
 * still held as the log's UTF-8 bytes is copied in as it is: decoding it into a string only to
 * encode it back was, with the string's garbage, the largest part of encoding a body.
 */
export function eventBody(e: StoredEvent, attempt: number): Buffer {
  const bytes = objectBytes(e);
  // Text that is not UTF-8 (possible only with a database not in UTF8) goes the way a string of
  // it would, with U+FFFD in its place, so both reads send the same body.
  if (bytes === null || !isUtf8(bytes)) return Buffer.from(cloudEventJson(e, attempt));
  const [head, tail] = cloudEventFrame(e, attempt);
  const headBytes = Buffer.byteLength(head);
  const body = Buffer.allocUnsafe(headBytes + bytes.length + Buffer.byteLength(tail));
  body.write(head, 0);
  body.set(bytes, headBytes);
  body.write(tail, headBytes + bytes.length);
  return body;
}

function single(e: StoredEvent, attempt: number): Unit {
  const attributes = { specversion: '1.0', id: e.id, type: e.type, source: e.source, time: e.time, ...(e.grantId ? { data: { grant_id: e.grantId } } : {}) };
  return { events: [e], id: e.id, json: eventBody(e, attempt), contentType: JSON_TYPE, ceHeaders: cloudEventHeaders(attributes) };
}

/**
 * Splits one grant's events (in log order) into request units. Unbatched, one unit per event.
 * Batched, consecutive events are packed while the array stays within both limits; order inside
 * a body is log order, and units go out in order.
 */
export function planUnits(events: readonly StoredEvent[], attempt: number, batching: Batching): Unit[] {
  if (batching.maxEvents <= 1) return events.map((e) => single(e, attempt));
  const encoded = events.map((e) => ({
    e,
    part: batching.format === 'cloudevents' ? Buffer.from(JSON.stringify(structuredCloudEvent(toCloudEvent(e, attempt)))) : eventBody(e, attempt),
  }));
  const contentType = batching.format === 'cloudevents' ? CLOUDEVENTS_BATCH_TYPE : JSON_TYPE;
  // A body is `[` + the parts joined by `,` + `]`: counting each part with one separator byte,
  // the brackets need one byte more.
  return chunked(encoded, batching.maxEvents, batching.maxBytes - 1, (x) => x.part.length + 1).map((group) => {
    const members = group.map((x) => x.e);
    const json = Buffer.concat([OPEN, ...group.flatMap((x, i) => (i === 0 ? [x.part] : [COMMA, x.part])), CLOSE]);
    return { events: members, id: batchId(members), json, contentType, ceHeaders: {} };
  });
}

const OPEN = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE = Buffer.from(']');
