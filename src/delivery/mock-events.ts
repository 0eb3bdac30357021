import type { EventType, StoredEvent } from '../domain/event.js';
import { GRANT_EVENT_CODES, SOURCES } from '../domain/event.js';

/**
 * Sample events for `POST /v3/webhooks/mock-payload` and `send-test-event`: realistic shapes of
 * each trigger type with obviously fake values, never data from the log.
 */
const GRANT_ID = 'mock-grant-0000';

function sampleObject(type: EventType, now: number): Record<string, unknown> {
  switch (type) {
    case 'message.created':
    case 'message.created.truncated': {
      const message: Record<string, unknown> = {
        id: 'mock-message-0000',
        grant_id: GRANT_ID,
        object: 'message',
        thread_id: 'mock-thread-0000',
        subject: 'Hello from Tributary',
        from: [{ name: 'Ada Example', email: 'ada@example.com' }],
        to: [{ name: 'Grace Example', email: 'grace@example.com' }],
        cc: [],
        bcc: [],
        reply_to: [],
        date: now,
        snippet: 'This is a mock message created for testing your webhook.',
        body: '<p>This is a mock message created for testing your webhook.</p>',
        folders: ['INBOX'],
        unread: true,
        starred: false,
        attachments: [],
      };
      if (type === 'message.created.truncated') delete message.body;
      return message;
    }
    case 'grant.created':
    case 'grant.updated':
    case 'grant.expired':
    case 'grant.deleted':
      return {
        code: GRANT_EVENT_CODES[type],
        grant_id: GRANT_ID,
        integration_id: 'mock-integration-0000',
        provider: 'microsoft',
        email: 'grace@example.com',
        grant_updated_at: now,
      };
    case 'conference.zoom.transcript': {
      // The shape of domain/event.ts TranscriptObject, as the Zoom source builds it.
      const segments = [
        { start_ms: 1000, end_ms: 4000, speaker: 'Ada Example', text: 'Hello everyone.' },
        { start_ms: 4500, end_ms: 7000, speaker: 'Grace Example', text: 'Hi Ada, shall we start?' },
      ];
      return {
        id: 'mock-transcript-0000',
        grant_id: GRANT_ID,
        object: 'transcript',
        meeting_id: '85012345678',
        meeting_uuid: 'mock-meeting-uuid==',
        topic: 'Weekly sync',
        host: { id: 'mock-host-0000', email: 'ada@example.com' },
        start_time: now - 3600,
        duration: 30,
        timezone: 'UTC',
        recording_start: now - 3600,
        recording_end: now - 1800,
        participants: [{ name: 'Ada Example' }, { name: 'Grace Example' }],
        segment_count: segments.length,
        segments,
        text: segments.map((s) => `${s.speaker}: ${s.text}`).join('\n'),
        truncated: false,
        file: { id: 'mock-transcript-0000', download_url: 'https://zoom.us/rec/download/mock-transcript-0000', size: 140, file_extension: 'VTT' },
      };
    }
  }
}

export function mockEvent(type: EventType, applicationId: string, now: Date): StoredEvent {
  const time = Math.floor(now.getTime() / 1000);
  const isGrant = type.startsWith('grant.');
  return {
    seq: '0',
    id: `mock-${type}-${time}`,
    applicationId,
    type,
    source: isGrant ? SOURCES.system : type === 'conference.zoom.transcript' ? SOURCES.zoom : SOURCES.realtime('microsoft'),
    time,
    grantId: GRANT_ID,
    provider: type === 'conference.zoom.transcript' ? 'zoom' : 'microsoft',
    object: sampleObject(type, time),
  };
}
