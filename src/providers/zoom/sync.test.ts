import { describe, expect, it } from 'vitest';
import type { ChangeBatch, Cursor } from '../provider.js';
import { DownloadRefused, type MeetingRecordingJson, type ZoomClient } from './client.js';
import { ZoomSession, type ZoomCursor } from './sync.js';
import type { ZoomTokens } from './token.js';

const HOUR = 3600_000;
const created = new Date('2026-12-01T10:00:00Z');

function meeting(n: number, endIso: string): MeetingRecordingJson {
  return {
    uuid: `uuid-${n}`,
    id: 1000 + n,
    host_id: 'h',
    topic: `M${n}`,
    start_time: new Date(Date.parse(endIso) - HOUR).toISOString(),
    duration: 60,
    recording_files: [
      { id: `mp4-${n}`, file_type: 'MP4', download_url: `https://zoom.us/rec/download/mp4-${n}`, status: 'completed' },
      { id: `vtt-${n}`, file_type: 'TRANSCRIPT', download_url: `https://zoom.us/rec/download/vtt-${n}`, status: 'completed', recording_end: endIso },
    ],
  };
}

/** A scripted Zoom: the meetings the list returns (in pages of 2), downloads counted, some refused. */
function fakeZoom(meetings: MeetingRecordingJson[], refuse: Set<string> = new Set()) {
  const calls = { lists: 0, downloads: [] as string[], refreshes: 0 };
  const client = {
    async *recordings() {
      calls.lists++;
      for (let i = 0; i < meetings.length; i += 2) yield meetings.slice(i, i + 2);
    },
    async download(url: string) {
      calls.downloads.push(url);
      if (refuse.has(url)) throw new DownloadRefused('not a Zoom host');
      return 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nAda: Hi\n';
    },
  } as unknown as ZoomClient;
  const creds: Record<string, unknown> = {};
  const tokens = {
    get current() {
      return creds;
    },
    async markDeauthorized(at: number) {
      creds.deauthorized_at = at;
    },
    async refresh() {
      calls.refreshes++;
      throw new Error('invalid_grant');
    },
  } as unknown as ZoomTokens;
  return { client, tokens, calls };
}

function session(z: ReturnType<typeof fakeZoom>, now: () => Date) {
  const logs: string[] = [];
  const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (_o: object, m?: string) => void logs.push(m ?? '') };
  const s = new ZoomSession({ grantId: 'g', applicationId: 'a', createdAt: created, client: z.client, tokens: z.tokens, now, logger, poll: { intervalMs: HOUR, lookbackMs: 2 * 24 * HOUR } });
  return { s, logs };
}

async function drain(it: AsyncIterable<ChangeBatch>): Promise<{ events: string[]; cursor: ZoomCursor | null }> {
  const events: string[] = [];
  let cursor: ZoomCursor | null = null;
  for await (const b of it) {
    if ('reset' in b) throw new Error('unexpected reset');
    events.push(...b.events.map((e) => String(e.object.topic)));
    cursor = b.cursor as ZoomCursor;
  }
  return { events, cursor };
}

describe('the Zoom poll session', () => {
  it('baseline: meetings that ended before the grant are seen, later ones are announced by the first pass', async () => {
    const z = fakeZoom([meeting(1, '2026-12-01T09:00:00Z'), meeting(2, '2026-12-01T10:30:00Z'), meeting(3, '2026-11-30T08:00:00Z')]);
    const { s } = session(z, () => new Date('2026-12-01T11:00:00Z'));
    const base = (await s.baseline()) as ZoomCursor;
    expect(Object.keys(base.seen).sort()).toEqual(['vtt-1', 'vtt-3']);
    // Even a fallback wake-up polls right after the baseline.
    const first = await drain(s.changes(base, new AbortController().signal, 'fallback'));
    expect(first.events).toEqual(['M2']);
    expect(first.cursor!.first).toBeUndefined();
    expect(z.calls.downloads).toEqual(['https://zoom.us/rec/download/vtt-2']);
  });

  it('announces each transcript once across pages and repeated polls; fallback passes within the interval do not list', async () => {
    const meetings = [1, 2, 3, 4, 5].map((n) => meeting(n, `2026-12-01T1${n}:00:00Z`));
    const z = fakeZoom(meetings);
    let now = new Date('2026-12-01T16:00:00Z');
    const { s } = session(z, () => now);
    const start: Cursor = { v: 1, polled_at: created.getTime(), seen: {} };
    const a = await drain(s.changes(start, new AbortController().signal, 'zoom:recording.transcript_completed'));
    expect(a.events.sort()).toEqual(['M1', 'M2', 'M3', 'M4', 'M5']);
    const b = await drain(s.changes(a.cursor!, new AbortController().signal, 'zoom:recording.transcript_completed'));
    expect(b.events).toEqual([]);
    const lists = z.calls.lists;
    await drain(s.changes(b.cursor!, new AbortController().signal, 'fallback'));
    expect(z.calls.lists).toBe(lists);
    now = new Date(now.getTime() + HOUR + 1);
    await drain(s.changes(b.cursor!, new AbortController().signal, 'fallback'));
    expect(z.calls.lists).toBe(lists + 1);
    expect(z.calls.downloads.filter((u) => u.includes('vtt-3'))).toHaveLength(1);
  });

  it('a refused download is logged and skipped, not retried forever', async () => {
    const z = fakeZoom([meeting(1, '2026-12-01T11:00:00Z')], new Set(['https://zoom.us/rec/download/vtt-1']));
    const { s, logs } = session(z, () => new Date('2026-12-01T12:00:00Z'));
    const a = await drain(s.changes({ v: 1, polled_at: created.getTime(), seen: {} }, new AbortController().signal, 'test'));
    expect(a.events).toEqual([]);
    expect(a.cursor!.seen).toHaveProperty('vtt-1');
    expect(logs).toContain('zoom: transcript skipped');
  });

  it('a deauthorization notice is remembered with the credentials and proven by a refresh on every pass', async () => {
    const z = fakeZoom([]);
    const { s } = session(z, () => new Date('2026-12-01T12:00:00Z'));
    const cursor = { v: 1, polled_at: created.getTime(), seen: {} };
    await expect(drain(s.changes(cursor, new AbortController().signal, 'zoom:deauthorized'))).rejects.toThrow('invalid_grant');
    await expect(drain(s.changes(cursor, new AbortController().signal, 'fallback'))).rejects.toThrow('invalid_grant');
    expect(z.calls.refreshes).toBe(2);
  });
});
