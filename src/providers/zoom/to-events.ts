import { transcriptEvent, type NewEvent, type TranscriptObject } from '../../domain/event.js';
import { stableId } from '../../domain/ids.js';
import type { MeetingRecordingJson, RecordingFileJson } from './client.js';
import { parseVtt, transcriptText } from './vtt.js';

/** A transcript file Zoom told us about (webhook) or that the recordings list shows, with its meeting. */
export interface TranscriptRef {
  meeting: MeetingRecordingJson;
  file: RecordingFileJson & { id: string; download_url: string };
}

const unix = (iso: string | undefined): number | null => {
  const ms = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : null;
};

/** The completed transcript files of a meeting (Zoom lists video, audio, chat… beside it). */
export function transcriptFiles(meeting: MeetingRecordingJson): TranscriptRef[] {
  const out: TranscriptRef[] = [];
  for (const f of meeting.recording_files ?? []) {
    if (f.file_type !== 'TRANSCRIPT' || typeof f.id !== 'string' || typeof f.download_url !== 'string') continue;
    if (f.status !== undefined && f.status !== 'completed') continue;
    out.push({ meeting, file: { ...f, id: f.id, download_url: f.download_url } });
  }
  return out;
}

/** The event id: stable per grant, meeting occurrence (uuid) and recording file. */
export function transcriptEventId(applicationId: string, grantId: string, ref: TranscriptRef): string {
  return stableId(applicationId, grantId, 'conference.zoom.transcript', String(ref.meeting.uuid ?? ''), ref.file.id);
}

export function toTranscriptEvent(a: { applicationId: string; grantId: string; ref: TranscriptRef; vtt: string; now: Date }): NewEvent {
  const { meeting, file } = a.ref;
  const parsed = parseVtt(a.vtt);
  const transcript: TranscriptObject = {
    id: file.id,
    grant_id: a.grantId,
    object: 'transcript',
    meeting_id: meeting.id === undefined ? '' : String(meeting.id),
    meeting_uuid: String(meeting.uuid ?? ''),
    topic: meeting.topic ?? '',
    host: { id: meeting.host_id ?? '', email: meeting.host_email ?? null },
    start_time: unix(meeting.start_time) ?? 0,
    duration: typeof meeting.duration === 'number' ? meeting.duration : 0,
    timezone: meeting.timezone ?? null,
    recording_start: unix(file.recording_start),
    recording_end: unix(file.recording_end),
    participants: parsed.speakers.map((name) => ({ name })),
    segment_count: parsed.segments.length,
    segments: parsed.segments,
    text: transcriptText(parsed.segments),
    truncated: false,
    file: { id: file.id, download_url: file.download_url, size: typeof file.file_size === 'number' ? file.file_size : null, file_extension: file.file_extension ?? 'VTT' },
  };
  return transcriptEvent({ id: transcriptEventId(a.applicationId, a.grantId, a.ref), time: Math.floor(a.now.getTime() / 1000), transcript });
}
