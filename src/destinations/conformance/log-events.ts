import type { StoredEvent } from '../../domain/event.js';
import { withObjectJson } from '../../domain/event-json.js';

/**
 * jsonb's text output: keys by length then bytes, `", "` and `": "` between members. The log stores
 * the appender's JSON.stringify text since ADR 0006, but rows written before it read back in this
 * form, so readers are tested with both.
 */
export function pgText(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pgText).join(', ')}]`;
  if (typeof v === 'object' && v !== null) {
    const keys = Object.keys(v).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${pgText((v as Record<string, unknown>)[k])}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

/** The event as the log reader hands it: `object` parsed from `text` on first read. */
export function fromLog(e: StoredEvent, text: string): StoredEvent {
  const { object: _object, ...fields } = e;
  return withObjectJson<StoredEvent>(fields, text);
}
