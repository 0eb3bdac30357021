import { describe, expect, it } from 'vitest';
import { eventRange, grantEvent, messageCreated } from './conformance/events.js';
import { RowMappingError, TABLES, TABLE_NAMES, rowsByTable, toRows } from './tables.js';

const at = new Date('2026-01-01T00:00:00Z');

describe('the shared table layout', () => {
  it('every table has its primary key among its columns, all NOT NULL', () => {
    for (const name of TABLE_NAMES) {
      const t = TABLES[name];
      for (const k of t.primaryKey) expect(t.columns.find((c) => c.name === k)?.nullable, `${name}.${k}`).toBe(false);
    }
  });

  it('maps message.created to a message row and one participant row per (type, email)', () => {
    const e = messageCreated(3, { prefix: 't' });
    e.object.to = [
      { name: 'A', email: 'a@example.com' },
      { name: 'A', email: 'a@example.com' },
      { name: 'No address' },
    ];
    const [message, participants] = toRows(e, at);
    expect(message!.rows[0]).toMatchObject({ id: 't-msg-3', event_id: 't-evt-3', grant_id: 't-grant-3', truncated: false, from: '[{"name":"Sender 3","email":"sender3@example.com"}]', _synced_at: at });
    expect((message!.rows[0]!.received_at as Date).toISOString()).toBe(new Date((1_764_000_000 + 3) * 1000).toISOString());
    expect(participants!.rows.map((r) => `${r.type}:${r.email}`)).toEqual(['from:sender3@example.com', 'to:a@example.com', 'cc:cc@example.com']);
  });

  it('a truncated message has no body; grant events map to grant_event', () => {
    const t = { ...messageCreated(1, { prefix: 't' }), type: 'message.created.truncated' as const };
    expect(toRows(t, at)[0]!.rows[0]).toMatchObject({ body: null, truncated: true });
    expect(toRows(grantEvent(6, { prefix: 't' }), at)).toEqual([
      { table: 'grant_event', rows: [expect.objectContaining({ event_id: 't-evt-6', type: 'grant.updated', code: 25014, provider: 'imap', occurred_at: new Date((1_764_000_000 + 6) * 1000) })] },
    ]);
  });

  it('maps a Zoom transcript to a zoom_transcript row and one zoom_transcript_segment row per segment', () => {
    const object = {
      id: 'file-1',
      meeting_id: 12345,
      meeting_uuid: 'uuid==',
      topic: 'Weekly',
      host: { id: 'h1', email: 'host@example.com' },
      start_time: 1_764_000_000,
      duration: 30,
      participants: [{ name: 'Ada' }],
      segment_count: 2,
      segments: [
        { start_ms: 0, end_ms: 1500, speaker: 'Ada', text: 'Hello' },
        { start_ms: 1500, end_ms: 2000, speaker: null, text: 'Hi' },
        { start_ms: 'bad' },
      ],
      text: 'Ada: Hello\nHi',
      truncated: false,
    };
    const e = { ...grantEvent(2, { prefix: 't' }), type: 'conference.zoom.transcript' as const, source: '/zoom/recordings/realtime', object };
    const [transcript, segments] = toRows(e, at);
    expect(transcript!.rows[0]).toMatchObject({ event_id: 't-evt-2', meeting_id: '12345', meeting_uuid: 'uuid==', recording_file_id: 'file-1', topic: 'Weekly', transcript: 'Ada: Hello\nHi', host_email: 'host@example.com', duration_minutes: 30, segment_count: 2, truncated: false, participants: '[{"name":"Ada"}]' });
    expect((transcript!.rows[0]!.start_time as Date).getTime()).toBe(1_764_000_000_000);
    expect(JSON.parse(transcript!.rows[0]!.object as string)).not.toHaveProperty('segments');
    expect(segments).toEqual({
      table: 'zoom_transcript_segment',
      rows: [
        expect.objectContaining({ event_id: 't-evt-2', seq: 0, start_ms: 0, end_ms: 1500, speaker: 'Ada', text: 'Hello' }),
        expect.objectContaining({ event_id: 't-evt-2', seq: 1, speaker: null, text: 'Hi' }),
      ],
    });
  });

  it('an event missing a required value is refused with the column named', () => {
    const e = messageCreated(1, { prefix: 't' });
    delete e.object.id;
    expect(() => toRows(e, at)).toThrow(RowMappingError);
    expect(() => toRows(e, at)).toThrow(/message\.id is required/);
  });

  it('groups the rows of many events by table', () => {
    const grouped = rowsByTable(eventRange(0, 14, { prefix: 'g' }).flatMap((e) => toRows(e, at)));
    expect(grouped.get('message')).toHaveLength(12);
    expect(grouped.get('grant_event')).toHaveLength(2);
  });
});
