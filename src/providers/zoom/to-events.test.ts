import { describe, expect, it } from 'vitest';
import { MAX_TRANSCRIPT_EVENT_BYTES } from '../../domain/event.js';
import { longVtt } from '../../../test/zoom/fixtures.js';
import { toTranscriptEvent, transcriptEventId, transcriptFiles, type TranscriptRef } from './to-events.js';

const meeting = {
  uuid: 'Ow6l9QxPTbKKv1GlPeMhzA==',
  id: 85012345678,
  host_id: 'host1',
  host_email: 'host@example.com',
  topic: 'Quarterly review',
  start_time: '2026-12-01T09:00:00Z',
  timezone: 'Europe/Paris',
  duration: 60,
  recording_files: [
    { id: 'mp4', file_type: 'MP4', download_url: 'https://zoom.us/rec/download/mp4', status: 'completed' },
    { id: 'vtt', file_type: 'TRANSCRIPT', file_extension: 'VTT', file_size: 120, download_url: 'https://zoom.us/rec/download/vtt', status: 'completed', recording_start: '2026-12-01T09:00:05Z', recording_end: '2026-12-01T10:00:00Z' },
    { id: 'pending', file_type: 'TRANSCRIPT', download_url: 'https://zoom.us/rec/download/p', status: 'processing' },
  ],
};
const now = new Date('2026-12-01T10:05:00Z');

describe('the conference.zoom.transcript event', () => {
  const [ref] = transcriptFiles(meeting) as [TranscriptRef];

  it('picks only completed TRANSCRIPT files', () => {
    expect(transcriptFiles(meeting).map((r) => r.file.id)).toEqual(['vtt']);
  });

  it('carries meeting, host, times, participants, segments and full text under a stable id', () => {
    const e = toTranscriptEvent({ applicationId: 'app', grantId: 'g1', ref, vtt: 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nAda: Hello\n\n00:00:02.000 --> 00:00:03.000\nBob: Hi\n', now });
    expect(e).toMatchObject({ type: 'conference.zoom.transcript', source: '/zoom/recordings/realtime', grantId: 'g1', provider: 'zoom', time: Math.floor(now.getTime() / 1000) });
    expect(e.object).toEqual({
      id: 'vtt',
      grant_id: 'g1',
      object: 'transcript',
      meeting_id: '85012345678',
      meeting_uuid: meeting.uuid,
      topic: 'Quarterly review',
      host: { id: 'host1', email: 'host@example.com' },
      start_time: Date.parse('2026-12-01T09:00:00Z') / 1000,
      duration: 60,
      timezone: 'Europe/Paris',
      recording_start: Date.parse('2026-12-01T09:00:05Z') / 1000,
      recording_end: Date.parse('2026-12-01T10:00:00Z') / 1000,
      participants: [{ name: 'Ada' }, { name: 'Bob' }],
      segment_count: 2,
      segments: [
        { start_ms: 1000, end_ms: 2000, speaker: 'Ada', text: 'Hello' },
        { start_ms: 2000, end_ms: 3000, speaker: 'Bob', text: 'Hi' },
      ],
      text: 'Ada: Hello\nBob: Hi',
      truncated: false,
      file: { id: 'vtt', download_url: 'https://zoom.us/rec/download/vtt', size: 120, file_extension: 'VTT' },
    });
    // Same grant + meeting occurrence + file → same id; another occurrence → another id.
    expect(e.id).toBe(transcriptEventId('app', 'g1', ref));
    expect(transcriptEventId('app', 'g1', { ...ref, meeting: { ...meeting, uuid: 'other==' } })).not.toBe(e.id);
  });

  it('over 1 MB: truncated, without segments and text, with the file reference', () => {
    const vtt = longVtt(600);
    const e = toTranscriptEvent({ applicationId: 'app', grantId: 'g1', ref, vtt, now });
    expect(e.object).toMatchObject({ truncated: true, segment_count: 9000, file: { id: 'vtt', download_url: 'https://zoom.us/rec/download/vtt' } });
    expect(e.object).not.toHaveProperty('segments');
    expect(e.object).not.toHaveProperty('text');
    expect(Buffer.byteLength(JSON.stringify(e.object))).toBeLessThan(MAX_TRANSCRIPT_EVENT_BYTES);
  });
});
