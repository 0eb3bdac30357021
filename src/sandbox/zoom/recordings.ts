import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { SandboxClock } from '../microsoft/clock.js';
import { opaque, type ZoomUser } from './accounts.js';
import { ZoomApiError } from './oauth.js';

/** A download token (the `download_token` of recording webhooks) is valid for 24 hours. */
export const DOWNLOAD_TOKEN_LIFETIME_MS = 24 * 3600_000;
/** How long the file host's signed link (where downloads redirect to) stays valid. */
const FILE_LINK_LIFETIME_MS = 5 * 60_000;
/** `next_page_token` expires after 15 minutes. */
const PAGE_TOKEN_LIFETIME_MS = 15 * 60_000;
const MAX_RANGE_DAYS = 31;

export interface RecordingFile {
  id: string;
  meetingUuid: string;
  fileType: 'TRANSCRIPT' | 'MP4' | 'M4A';
  extension: string;
  recordingType: string;
  start: number;
  end: number;
  content: Buffer;
}

export interface Meeting {
  uuid: string;
  id: number;
  hostId: string;
  accountId: string;
  hostEmail: string;
  topic: string;
  start: number;
  durationMinutes: number;
  timezone: string;
  files: RecordingFile[];
}

export interface FinishedMeetingInput {
  user: string;
  topic?: string;
  /** The transcript file's content (WebVTT, as Zoom produces it). */
  transcript: string;
  /** ISO time the meeting started (default: its duration before now). */
  startTime?: string;
  durationMinutes?: number;
  /** Meeting id to reuse (a recurring meeting: same id, new uuid). */
  meetingId?: number;
  /** Lifetime of the webhook's download_token (default 24 hours; 0 = already expired when it arrives). */
  downloadTokenLifetimeMs?: number;
}

interface DownloadToken {
  meetingUuid: string;
  expiresAt: number;
}

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Cloud recordings: meetings with their files, download tokens, the recordings list and downloads. */
export class Recordings {
  private readonly meetings: Meeting[] = [];
  private readonly files = new Map<string, { meeting: Meeting; file: RecordingFile }>();
  private readonly downloadTokens = new Map<string, DownloadToken>();
  private readonly pageTokens = new Map<string, { offset: number; key: string; expiresAt: number }>();
  private readonly linkKey = randomBytes(32);
  /** When set, downloads redirect here instead of the sandbox's own file host (tests of the client's redirect rules). */
  redirectOverride: string | null = null;
  /** Downloads served by the file host (for tests: which credential the client used). */
  readonly downloads: { fileId: string; credential: 'download_token' | 'oauth' }[] = [];

  constructor(private readonly clock: SandboxClock) {}

  finish(user: ZoomUser, input: FinishedMeetingInput): { meeting: Meeting; downloadToken: string } {
    const now = this.clock.now();
    const durationMinutes = input.durationMinutes ?? 30;
    const start = input.startTime ? Date.parse(input.startTime) : now - durationMinutes * 60_000;
    if (!Number.isFinite(start)) throw new Error(`startTime is not a date: ${input.startTime}`);
    const uuid = randomBytes(16).toString('base64');
    const meeting: Meeting = {
      uuid,
      id: input.meetingId ?? 80_000_000_000 + Math.floor(Math.random() * 9_999_999_999),
      hostId: user.id,
      accountId: user.accountId,
      hostEmail: user.email,
      topic: input.topic ?? `${user.firstName}'s Zoom Meeting`,
      start,
      durationMinutes,
      timezone: user.timezone,
      files: [],
    };
    const end = start + durationMinutes * 60_000;
    const mk = (fileType: RecordingFile['fileType'], extension: string, recordingType: string, content: Buffer): RecordingFile => ({ id: randomUUID(), meetingUuid: uuid, fileType, extension, recordingType, start, end, content });
    // The video comes first, as in Zoom's payloads; clients must pick the transcript by file_type.
    meeting.files.push(mk('MP4', 'MP4', 'shared_screen_with_speaker_view', randomBytes(64)), mk('TRANSCRIPT', 'VTT', 'audio_transcript', Buffer.from(input.transcript, 'utf8')));
    this.meetings.push(meeting);
    for (const file of meeting.files) this.files.set(file.id, { meeting, file });
    const downloadToken = opaque(48);
    this.downloadTokens.set(downloadToken, { meetingUuid: uuid, expiresAt: now + (input.downloadTokenLifetimeMs ?? DOWNLOAD_TOKEN_LIFETIME_MS) });
    return { meeting, downloadToken };
  }

  meetingJson(m: Meeting, baseUrl: string): Record<string, unknown> {
    return {
      uuid: m.uuid,
      id: m.id,
      account_id: m.accountId,
      host_id: m.hostId,
      topic: m.topic,
      type: 2,
      start_time: iso(m.start),
      timezone: m.timezone,
      duration: m.durationMinutes,
      total_size: m.files.reduce((n, f) => n + f.content.length, 0),
      recording_count: m.files.length,
      share_url: `${baseUrl}/rec/share/${encodeURIComponent(m.uuid)}`,
      recording_files: m.files.map((f) => ({
        id: f.id,
        meeting_id: m.uuid,
        recording_start: iso(f.start),
        recording_end: iso(f.end),
        file_type: f.fileType,
        file_extension: f.extension,
        file_size: f.content.length,
        play_url: `${baseUrl}/rec/play/${f.id}`,
        download_url: `${baseUrl}/rec/download/${f.id}`,
        status: 'completed',
        recording_type: f.recordingType,
      })),
    };
  }

  /** `GET /v2/users/{userId}/recordings`: meetings whose start falls in [from, to] (UTC dates), newest first, paged. */
  list(user: ZoomUser, q: Record<string, string | undefined>, baseUrl: string): Record<string, unknown> {
    const today = day(this.clock.now());
    const from = q.from ?? today;
    const to = q.to ?? today;
    for (const [name, v] of [['from', from], ['to', to]] as const) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) throw new ZoomApiError(400, 300, `Invalid field: ${name} must be yyyy-mm-dd.`);
    }
    const fromMs = Date.parse(`${from}T00:00:00Z`);
    const toMs = Date.parse(`${to}T23:59:59.999Z`);
    if (toMs < fromMs) throw new ZoomApiError(400, 300, 'The from date must be before the to date.');
    if (toMs - fromMs > MAX_RANGE_DAYS * 86_400_000) throw new ZoomApiError(400, 300, 'The maximum date range is one month.');
    const pageSize = q.page_size === undefined ? 30 : Number(q.page_size);
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 300) throw new ZoomApiError(400, 300, 'Invalid field: page_size must be between 1 and 300.');
    const key = `${user.id} ${from} ${to}`;
    let offset = 0;
    if (q.next_page_token) {
      const t = this.pageTokens.get(q.next_page_token);
      if (!t || t.key !== key || t.expiresAt <= this.clock.now()) throw new ZoomApiError(400, 300, 'Invalid next_page_token or the token has expired.');
      offset = t.offset;
    }
    const all = this.meetings.filter((m) => m.hostId === user.id && m.start >= fromMs && m.start <= toMs).sort((a, b) => b.start - a.start);
    const page = all.slice(offset, offset + pageSize);
    let next = '';
    if (offset + pageSize < all.length) {
      next = opaque(24);
      this.pageTokens.set(next, { offset: offset + pageSize, key, expiresAt: this.clock.now() + PAGE_TOKEN_LIFETIME_MS });
    }
    return {
      from,
      to,
      page_count: Math.max(1, Math.ceil(all.length / pageSize)),
      page_size: pageSize,
      total_records: all.length,
      next_page_token: next,
      meetings: page.map((m) => this.meetingJson(m, baseUrl)),
    };
  }

  /**
   * `GET /rec/download/{fileId}` with `Authorization: Bearer <download_token | OAuth token>`:
   * a 302 to the file host's signed link. `oauthUser` is the owner of a valid OAuth token, if
   * the bearer is one (the caller checked its scopes).
   */
  authorizeDownload(fileId: string, bearer: string | undefined, oauthUser: ZoomUser | null, fileHostBase: string): string {
    const entry = this.files.get(fileId);
    if (!entry) throw new ZoomApiError(404, 3301, 'This recording does not exist.');
    let credential: 'download_token' | 'oauth';
    if (oauthUser) {
      if (oauthUser.id !== entry.meeting.hostId) throw new ZoomApiError(403, 124, 'Forbidden: this recording belongs to another user.');
      credential = 'oauth';
    } else {
      const t = bearer ? this.downloadTokens.get(bearer) : undefined;
      if (!t || t.meetingUuid !== entry.meeting.uuid) throw new ZoomApiError(401, 124, 'Invalid access token.');
      if (t.expiresAt <= this.clock.now()) throw new ZoomApiError(401, 124, 'Access token is expired.');
      credential = 'download_token';
    }
    const expires = this.clock.now() + FILE_LINK_LIFETIME_MS;
    const sig = this.sign(fileId, expires, credential);
    if (this.redirectOverride) return this.redirectOverride;
    return `${fileHostBase}/file/${fileId}?expires=${expires}&via=${credential}&sig=${sig}`;
  }

  /** `GET /file/{fileId}?expires&via&sig`: the file host. */
  serveFile(fileId: string, q: Record<string, string | undefined>): RecordingFile {
    const entry = this.files.get(fileId);
    const expires = Number(q.expires);
    const via = q.via === 'oauth' ? 'oauth' : 'download_token';
    if (!entry || !q.sig || q.sig !== this.sign(fileId, expires, via) || expires <= this.clock.now()) throw new ZoomApiError(403, 403, 'Request has expired or the signature does not match.');
    this.downloads.push({ fileId, credential: via });
    return entry.file;
  }

  /** Let a meeting's download token lapse now (as 24 hours passing would). */
  expireDownloadTokens(meetingUuid?: string): number {
    let n = 0;
    for (const t of this.downloadTokens.values()) {
      if (meetingUuid === undefined || t.meetingUuid === meetingUuid) {
        t.expiresAt = this.clock.now();
        n++;
      }
    }
    return n;
  }

  private sign(fileId: string, expires: number, via: string): string {
    return createHmac('sha256', this.linkKey).update(`${fileId}:${expires}:${via}`).digest('base64url');
  }
}
