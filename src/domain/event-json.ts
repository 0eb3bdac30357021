import type { StoredEvent } from './event.js';

/**
 * Events read from the log keep their `object` as the JSON text the database sent, and parse it
 * only when something reads `object`. A destination that sends JSON (the webhook) copies that
 * text into its body instead: parsing it in the database driver and serializing it again was most
 * of what encoding a `message.created` event cost.
 *
 * The text is used only while nobody has read or replaced `object` (whoever read it may have
 * changed it in place). A copy of the event (`{ ...e }`) holds the parsed object as a plain
 * property and is serialized as usual. Asking the getter itself (`peeking`) costs no per-event
 * bookkeeping: a WeakMap entry or a hidden property per event cost about as much as the parse.
 */
let peeking = false;
let peeked: string | null = null;

/** The event (`fields` plus `object`), with `object` parsed from `json` on first read. */
export function withObjectJson<E extends StoredEvent>(fields: Omit<E, 'object'>, json: string): E {
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
      return (parsed ??= JSON.parse(json) as Record<string, unknown>);
    },
    set object(value: Record<string, unknown>) {
      touched = true;
      parsed = value;
    },
  } as E;
}

/** `e.object` as JSON text: the log's own text while it is untouched, otherwise serialized. */
export function objectJson(e: StoredEvent): string {
  peeked = null;
  peeking = true;
  try {
    void e.object;
  } finally {
    peeking = false;
  }
  const text = peeked;
  peeked = null;
  return text ?? JSON.stringify(e.object);
}

/**
 * `JSON.stringify(toCloudEvent(e, attempt))`: the same members in the same order, with the
 * object written by `objectJson` (the log's text differs from JSON.stringify's only in whitespace
 * and in how numbers are spelled, never in meaning).
 */
export function cloudEventJson(e: StoredEvent, attempt?: number): string {
  const attemptPart = attempt === undefined ? '' : `,"webhook_delivery_attempt":${JSON.stringify(attempt)}`;
  const grantPart = e.grantId ? `,"grant_id":${JSON.stringify(e.grantId)}` : '';
  return (
    `{"specversion":"1.0","type":${JSON.stringify(e.type)},"source":${JSON.stringify(e.source)},"id":${JSON.stringify(e.id)},"time":${JSON.stringify(e.time)}` +
    `,"data":{"application_id":${JSON.stringify(e.applicationId)},"object":${objectJson(e)}${grantPart}}${attemptPart}}`
  );
}
