import type { NewEvent } from '../../domain/event.js';
import type { PluginLogger } from '../../domain/plugin.js';
import type { ChangeBatch, Cursor, ProviderSession } from '../provider.js';
import { claimState } from './claims.js';
import { DownloadRefused, type ZoomClient } from './client.js';
import type { ZoomTokens } from './token.js';
import { toTranscriptEvent, transcriptEventId, transcriptFiles, type TranscriptRef } from './to-events.js';

/**
 * A Zoom grant's sync: the fallback poll of `GET /users/me/recordings`. Webhooks usually
 * deliver a transcript first (inbound.ts); this pass catches what they missed — a dropped
 * notification, an outage longer than Zoom's three retries, a refused download_token — and is
 * what a webhook's durable hint wakes. The cursor remembers the transcript files already seen
 * inside the look-back window, so each is announced once however often it is listed.
 */
export interface ZoomCursor extends Cursor {
  v: 1;
  /** Unix ms of the last completed poll. */
  polled_at: number;
  /** Recording file id → the meeting's start (unix ms), for pruning outside the window. */
  seen: Record<string, number>;
  /** Set by the baseline: the next pass polls whatever woke it. */
  first?: boolean;
}

export interface PollSettings {
  /** Fallback poll interval (a hint always polls). */
  intervalMs: number;
  /** How far back meetings are listed (by start date): transcripts can complete hours after a meeting. */
  lookbackMs: number;
}

const DAY = 86_400_000;
/** Zoom's recordings list accepts at most a month between from and to. */
const MAX_RANGE_MS = 30 * DAY;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function asCursor(c: Cursor): ZoomCursor {
  const seen = c.seen && typeof c.seen === 'object' ? (c.seen as Record<string, number>) : {};
  return { v: 1, polled_at: typeof c.polled_at === 'number' ? c.polled_at : 0, seen: { ...seen }, ...(c.first === true ? { first: true } : {}) };
}

export interface ZoomSessionDeps {
  grantId: string;
  applicationId: string;
  /** The grant's creation: transcripts of meetings that ended before it are not announced. */
  createdAt: Date;
  client: ZoomClient;
  tokens: ZoomTokens;
  now: () => Date;
  logger: PluginLogger;
  poll: PollSettings;
}

export class ZoomSession implements ProviderSession {
  constructor(private readonly d: ZoomSessionDeps) {}

  private window(polledAt: number): { from: string; to: string; fromMs: number } {
    const now = this.d.now().getTime();
    const fromMs = Math.max(Math.min(polledAt || now, now) - this.d.poll.lookbackMs, now - MAX_RANGE_MS);
    return { from: utcDay(fromMs), to: utcDay(now), fromMs: Date.parse(`${utcDay(fromMs)}T00:00:00Z`) };
  }

  /**
   * A new grant starts at its creation: transcripts of meetings that ended before it are
   * recorded as seen, those that ended since are left for the first pass to announce (so a
   * transcript completing while no worker had yet synced the grant is not lost).
   */
  async baseline(): Promise<Cursor> {
    const now = this.d.now().getTime();
    // Zoom's times have whole seconds: a meeting that ended in the second of creation counts as after it.
    const bound = Math.min(this.d.createdAt.getTime(), now);
    const cursor: ZoomCursor = { v: 1, polled_at: bound, seen: {}, first: true };
    const { from, to } = this.window(bound);
    for await (const meetings of this.d.client.recordings(from, to)) {
      for (const m of meetings) for (const ref of transcriptFiles(m)) if (endOf(ref) + 1000 <= bound) cursor.seen[ref.file.id] = startOf(ref);
    }
    return cursor;
  }

  async *changes(raw: Cursor, signal: AbortSignal, reason?: string): AsyncIterable<ChangeBatch> {
    const cursor = asCursor(raw);
    const now = this.d.now().getTime();
    if (reason?.startsWith('zoom:deauthorized')) await this.d.tokens.markDeauthorized(now);
    if (this.d.tokens.current.deauthorized_at) {
      // Zoom revoked the tokens with the deauthorization: the refresh fails with invalid_grant,
      // an unambiguous reauth failure, and the engine expires the grant (one grant.expired).
      await this.d.tokens.refresh();
    }
    if (reason === 'fallback' && !cursor.first && now - cursor.polled_at < this.d.poll.intervalMs) return;
    const { from, to, fromMs } = this.window(cursor.polled_at);
    let listed = 0;
    for await (const meetings of this.d.client.recordings(from, to, signal)) {
      listed += meetings.length;
      for (const m of meetings) {
        for (const ref of transcriptFiles(m)) {
          if (cursor.seen[ref.file.id] !== undefined) continue;
          const id = transcriptEventId(this.d.applicationId, this.d.grantId, ref);
          const claimed = claimState(id);
          // The webhook path of this process is fetching it: leave it to that (it wakes us again if it fails).
          if (claimed === 'pending') continue;
          const events: NewEvent[] = [];
          if (claimed !== 'done') {
            const event = await this.fetch(ref, signal);
            if (event) events.push(event);
          }
          cursor.seen[ref.file.id] = startOf(ref);
          yield { events, cursor: { ...cursor, seen: { ...cursor.seen } } };
        }
      }
    }
    this.d.logger.debug({ grant_id: this.d.grantId, from, to, meetings: listed, reason: reason ?? null }, 'zoom: recordings listed');
    for (const [fileId, start] of Object.entries(cursor.seen)) if (start < fromMs - DAY) delete cursor.seen[fileId];
    const { first: _first, ...done } = cursor;
    yield { events: [], cursor: { ...done, polled_at: now } };
  }

  /** Downloads with the OAuth token; a file that can never be fetched is logged and skipped. */
  private async fetch(ref: TranscriptRef, signal: AbortSignal): Promise<NewEvent | null> {
    try {
      const vtt = await this.d.client.download(ref.file.download_url, null, signal);
      return toTranscriptEvent({ applicationId: this.d.applicationId, grantId: this.d.grantId, ref, vtt, now: this.d.now() });
    } catch (err) {
      if (!(err instanceof DownloadRefused)) throw err;
      this.d.logger.error({ grant_id: this.d.grantId, file_id: ref.file.id, err: err.message }, 'zoom: transcript skipped');
      return null;
    }
  }

  async close(): Promise<void> {
    // Nothing held open: every call is a plain HTTPS request.
  }
}

/** When the recorded meeting ended (the file's recording_end, else start + duration). */
function endOf(ref: TranscriptRef): number {
  const end = Date.parse(ref.file.recording_end ?? '');
  return Number.isFinite(end) ? end : startOf(ref) + (ref.meeting.duration ?? 0) * 60_000;
}

function startOf(ref: TranscriptRef): number {
  const ms = Date.parse(ref.meeting.start_time ?? '');
  return Number.isFinite(ms) ? ms : Date.now();
}
