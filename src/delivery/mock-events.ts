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
    case 'conference.zoom.transcript':
      return {
        id: 'mock-transcript-0000',
        grant_id: GRANT_ID,
        meeting_id: '85012345678',
        meeting_uuid: 'mock-meeting-uuid==',
        topic: 'Weekly sync',
        start_time: now - 3600,
        duration: 30,
        transcript: 'WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nAda Example: Hello everyone.\n',
      };
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
