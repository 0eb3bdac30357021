import { describe, expect, it } from 'vitest';
import { cloudEventJson, withObjectJson } from '../../domain/event-json.js';
import { toCloudEvent, type StoredEvent } from '../../domain/event.js';
import { eventRange, messageCreated } from '../conformance/events.js';
import { pgText } from '../conformance/log-events.js';
import { eventBody, planUnits } from './units.js';

/** `e` as a log read hands it: the object as the database's text, as a string or as its UTF-8 bytes. */
function read(e: StoredEvent, form: 'text' | 'bytes', text = pgText(e.object)): StoredEvent {
  const { object: _object, ...fields } = e;
  return withObjectJson<StoredEvent>(fields, form === 'text' ? text : Buffer.from(text));
}

describe('webhook bodies', () => {
  const events = [...eventRange(0, 8, { prefix: 'body', grants: 2, bodyBytes: 5000 }), { ...messageCreated(8, { prefix: 'body' }), grantId: null }];

  it('a body built from the log\'s bytes is byte for byte the one built from its text, with and without attempt or grant', () => {
    for (const e of events) {
      for (const attempt of [1, 7]) {
        const fromText = eventBody(read(e, 'text'), attempt);
        expect(eventBody(read(e, 'bytes'), attempt).equals(fromText)).toBe(true);
        expect(fromText.toString('utf8')).toBe(cloudEventJson(read(e, 'text'), attempt));
        // The same meaning as serializing the event itself.
        expect(JSON.parse(fromText.toString('utf8'))).toEqual(JSON.parse(JSON.stringify(toCloudEvent(e, attempt))));
      }
    }
  });

  it('text with characters outside ASCII and escapes goes through the bytes unchanged', () => {
    const e = messageCreated(1, { prefix: 'utf' });
    const text = '{"subject": "Grüße 😀 \\u0000 \\"quoted\\" \\\\ line\\nbreak", "n": 1.50}';
    expect(eventBody(read(e, 'bytes', text), 3).equals(eventBody(read(e, 'text', text), 3))).toBe(true);
    expect(eventBody(read(e, 'bytes', text), 3).toString('utf8')).toContain('"object":{"subject": "Grüße 😀');
  });

  it('bytes that are not UTF-8 are sent as the text read would have them (U+FFFD), so both reads agree', () => {
    const e = messageCreated(2, { prefix: 'bad' });
    const { object: _object, ...fields } = e;
    const bad = Buffer.concat([Buffer.from('{"subject": "a'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('b"}')]);
    const fromBytes = eventBody(withObjectJson<StoredEvent>(fields, bad), 1);
    expect(fromBytes.equals(eventBody(withObjectJson<StoredEvent>(fields, bad.toString('utf8')), 1))).toBe(true);
    expect(fromBytes.toString('utf8')).toContain('a\ufffd(\ufffdb');
  });

  it('an object that was read or replaced is serialized, not taken from the log', () => {
    const e = read(messageCreated(3, { prefix: 'touched' }), 'bytes');
    e.object = { ...e.object, subject: 'changed' };
    expect(JSON.parse(eventBody(e, 1).toString('utf8')).data.object.subject).toBe('changed');
  });

  it('batched bodies are the single bodies joined in log order, from bytes as from text', () => {
    const batching = { maxEvents: 3, maxBytes: 1024 * 1024, format: 'json' as const };
    const fromBytes = planUnits(events.map((e) => read(e, 'bytes')), 2, batching);
    const fromText = planUnits(events.map((e) => read(e, 'text')), 2, batching);
    expect(fromBytes.map((u) => u.json.toString('utf8'))).toEqual(fromText.map((u) => u.json.toString('utf8')));
    expect(fromBytes.map((u) => u.id)).toEqual(fromText.map((u) => u.id));
    expect(fromBytes[0]!.json.toString('utf8')).toBe(`[${events.slice(0, 3).map((e) => cloudEventJson(read(e, 'text'), 2)).join(',')}]`);
  });
});
