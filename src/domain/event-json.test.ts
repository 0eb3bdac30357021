import { describe, expect, it } from 'vitest';
import { toCloudEvent, type StoredEvent } from './event.js';
import { cloudEventJson, objectBytes, objectJson, withObjectJson } from './event-json.js';

const object = { id: 'm1', subject: 'Grüße "quoted" \\ \n', to: [{ name: 'A', email: 'a@example.com' }], unread: true, size: 12.5 };
const plain: StoredEvent = { seq: '7', id: 'evt-1', applicationId: 'app-1', grantId: 'grant-1', provider: 'imap', type: 'message.created', source: '/imap/emails/realtime', time: 1_700_000_000, object };
const { object: _o, ...fields } = plain;
// How PostgreSQL prints jsonb: keys reordered, a space after `:` and `,`.
const dbText = '{"id": "m1", "to": [{"name": "A", "email": "a@example.com"}], "size": 12.5, "unread": true, "subject": "Grüße \\"quoted\\" \\\\ \\n"}';
const lazy = () => withObjectJson<StoredEvent>({ ...fields }, dbText);

describe('events with the log\'s JSON text', () => {
  it('cloudEventJson is byte for byte JSON.stringify(toCloudEvent(...)) for an ordinary event, with and without grant or attempt', () => {
    expect(cloudEventJson(plain, 3)).toBe(JSON.stringify(toCloudEvent(plain, 3)));
    expect(cloudEventJson(plain)).toBe(JSON.stringify(toCloudEvent(plain)));
    const noGrant = { ...plain, grantId: null };
    expect(cloudEventJson(noGrant, 1)).toBe(JSON.stringify(toCloudEvent(noGrant, 1)));
  });

  it('an untouched event from the log is written with the database\'s own text, meaning the same as the serialized event', () => {
    const e = lazy();
    const body = cloudEventJson(e, 2);
    expect(body).toContain(`"object":${dbText}`);
    expect(JSON.parse(body)).toEqual(toCloudEvent({ ...plain }, 2));
  });

  it('parses `object` on first read, and from then on serializes it (it may have been changed in place)', () => {
    const e = lazy();
    expect(e.object).toEqual(object);
    (e.object as { subject: string }).subject = 'changed';
    expect(JSON.parse(objectJson(e))).toEqual({ ...object, subject: 'changed' });
    expect(JSON.parse(cloudEventJson(e)).data.object.subject).toBe('changed');
  });

  it('a replaced object, or a copy of the event with another object, is what gets written', () => {
    const e = lazy();
    e.object = { id: 'replaced' };
    expect(objectJson(e)).toBe('{"id":"replaced"}');
    const copy: StoredEvent = { ...lazy(), object: { id: 'copy' } };
    expect(objectJson(copy)).toBe('{"id":"copy"}');
    const spread: StoredEvent = { ...lazy() };
    expect(JSON.parse(objectJson(spread))).toEqual(object);
  });

  it('looks like any other event to everything else (spread, JSON.stringify, equality)', () => {
    const e = lazy();
    expect(JSON.parse(JSON.stringify(lazy()))).toEqual(plain);
    expect(e).toEqual(plain);
    expect(Object.keys(e).sort()).toEqual(Object.keys(plain).sort());
  });

  it('holds the text as UTF-8 bytes when read so: the same event, the bytes handed out until `object` is read or replaced', () => {
    // A view into a larger buffer, as a reader slicing a network chunk hands it over.
    const chunk = Buffer.concat([Buffer.from('xx'), Buffer.from(dbText), Buffer.from('yy')]);
    const bytes = chunk.subarray(2, chunk.length - 2);
    const e = withObjectJson<StoredEvent>({ ...fields }, bytes);
    expect(objectBytes(e)).toBe(bytes);
    expect(objectJson(e)).toBe(dbText);
    expect(cloudEventJson(e, 2)).toBe(cloudEventJson(lazy(), 2));
    expect(objectBytes(lazy())).toBeNull();
    expect(e.object).toEqual(object);
    expect(objectBytes(e)).toBeNull();
    const replaced = withObjectJson<StoredEvent>({ ...fields }, bytes);
    replaced.object = { id: 'replaced' };
    expect(objectBytes(replaced)).toBeNull();
    expect(objectJson(replaced)).toBe('{"id":"replaced"}');
    expect(objectBytes(plain)).toBeNull();
  });
});
