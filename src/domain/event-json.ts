import type { StoredEvent } from './event.js';

/**
 * Events read from the log keep their `object` as the JSON text the database sent, and parse it
 * only when something reads `object`. A destination that sends JSON (the webhook) copies that
 * text into its body instead: parsing it in the database driver and serializing it again was most
 * of what encoding a `message.created` event cost.
 *
 * The text is either a JS string (what the driver decodes) or its UTF-8 bytes (a reader that
 * skips the decoding, for destinations that hand the bytes on: a string of a few KB per event
 * is garbage the JS thread must collect, and its conversion back to UTF-8 costs as much again).
 *
 * The text is used only while nobody has read or replaced `object` (whoever read it may have
 * changed it in place). A copy of the event (`{ ...e }`) holds the parsed object as a plain
 * property and is serialized as usual. Asking the getter itself (`peeking`) costs no per-event
 * bookkeeping: a WeakMap entry or a hidden property per event cost about as much as the parse.
 */
let peeking = false;
let peeked: string | Uint8Array | null = null;

const decode = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');

/** The event (`fields` plus `object`), with `object` parsed from `json` (text or UTF-8 bytes) on first read. */
export function withObjectJson<E extends StoredEvent>(fields: Omit<E, 'object'>, json: string | Uint8Array): E {
  let parsed: Record<string, unknown> | undefined;
  let touched = false;
  return {
    ...fields,
    get object(): Record<string, unknown> {
      if (peeking) {
        peeked = touched ? null : json;
        return {};
      }
      touched = true;
      return (parsed ??= JSON.parse(typeof json === 'string' ? json : decode(json)) as Record<string, unknown>);
    },
    set object(value: Record<string, unknown>) {
      touched = true;
      parsed = value;
    },
  } as E;
}

/** The log's own text of `e.object` while it is untouched (string or bytes, as read), else null. */
function logText(e: StoredEvent): string | Uint8Array | null {
  peeked = null;
  peeking = true;
  try {
    void e.object;
  } finally {
    peeking = false;
  }
  const text = peeked;
  peeked = null;
  return text;
}

/** `e.object`'s UTF-8 bytes when the event still holds the log's text as bytes (nothing read or replaced it), else null. */
export function objectBytes(e: StoredEvent): Uint8Array | null {
  const text = logText(e);
  return typeof text === 'string' ? null : text;
}

/** `e.object` as JSON text: the log's own text while it is untouched, otherwise serialized. */
export function objectJson(e: StoredEvent): string {
  const text = logText(e);
  if (text === null) return JSON.stringify(e.object);
  return typeof text === 'string' ? text : decode(text);
}

/**
 * `JSON.stringify(toCloudEvent(e, attempt))`: the same members in the same order, with the
 * object written by `objectJson` (the log's text differs from JSON.stringify's only in whitespace
 * and in how numbers are spelled, never in meaning).
 */
export function cloudEventJson(e: StoredEvent, attempt?: number): string {
  const [head, tail] = cloudEventFrame(e, attempt);
  return `${head}${objectJson(e)}${tail}`;
}

/**
 * cloudEventJson around its object: the body is `head` + the object's JSON + `tail`. A writer that
 * holds the object as the log's UTF-8 bytes (`objectBytes`) puts them between the two as they are.
 */
export function cloudEventFrame(e: StoredEvent, attempt?: number): [head: string, tail: string] {
  const attemptPart = attempt === undefined ? '' : `,"webhook_delivery_attempt":${JSON.stringify(attempt)}`;
  const grantPart = e.grantId ? `,"grant_id":${JSON.stringify(e.grantId)}` : '';
  return [
    `{"specversion":"1.0","type":${JSON.stringify(e.type)},"source":${JSON.stringify(e.source)},"id":${JSON.stringify(e.id)},"time":${JSON.stringify(e.time)}` +
      `,"data":{"application_id":${JSON.stringify(e.applicationId)},"object":`,
    `${grantPart}}${attemptPart}}`,
  ];
}
