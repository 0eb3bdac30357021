import type { NewEvent } from '../../domain/event.js';
import { ProviderError, type ChangeBatch, type Cursor, type GrantHandle, type ProviderContext, type ProviderSession } from '../provider.js';
import { GmailCallError, type GmailClient } from './client.js';
import { trackedLabels } from './settings.js';
import { gmailMessageEvent, type GmailMessage } from './to-events.js';
import type { WatchKeeper } from './watch.js';

/**
 * The Gmail sync session of one grant. The cursor is the mailbox's `historyId`: a pass lists
 * `history.list?startHistoryId=…&historyTypes=messageAdded` page by page, fetches the added
 * messages of tracked labels in batches of 50 and commits each page's events with the id of its
 * last record (the last page: the mailbox's current historyId). A 404 means the id is too old:
 * the session re-baselines and then lists, oldest first, what arrived since the last good pass
 * (minus an overlap), so nothing is lost; stable event ids make the overlap announce nothing twice.
 * `backfill_days` announces older mail the same way, as `/google/emails/historic`.
 */
interface Backlog {
  /** Message ids still to announce, oldest first. */
  ids: string[];
  historic: boolean;
  total: number;
}

export interface GoogleCursor {
  v: 1;
  historyId: string;
  /** Unix seconds of the last pass that reached the end of history. */
  syncedAt: number;
  backlog?: Backlog;
  [key: string]: unknown;
}

/** Messages per committed batch while working through a backlog. */
const BACKLOG_BATCH = 500;
/** Listing a backlog stops at this many ids (older ones are not announced). */
const BACKLOG_MAX = 100_000;
/** Overlap when recovering after a history 404. */
const RECOVERY_OVERLAP_S = 3600;

const isCursor = (c: Cursor): c is GoogleCursor => c.v === 1 && typeof c.historyId === 'string';

export class GoogleSession implements ProviderSession {
  private recoverFrom: number | null = null;
  private firstBaseline = true;

  constructor(
    private readonly grant: GrantHandle,
    private readonly ctx: ProviderContext,
    private readonly gmail: GmailClient,
    private readonly watchKeeper: WatchKeeper | null,
  ) {}

  private nowS(): number {
    return Math.floor(this.ctx.now().getTime() / 1000);
  }

  async baseline(): Promise<Cursor> {
    const profile = await this.gmail.call<{ historyId?: string }>('GET', 'profile');
    if (!profile.historyId) throw new ProviderError('transient', 'Gmail getProfile returned no historyId');
    const cursor: GoogleCursor = { v: 1, historyId: String(profile.historyId), syncedAt: this.nowS() };
    if (this.recoverFrom !== null) {
      // After a 404: what arrived since the last good pass is listed and announced (deduplicated by id).
      const ids = await this.list(`after:${this.recoverFrom - RECOVERY_OVERLAP_S}`);
      this.recoverFrom = null;
      if (ids.length) cursor.backlog = { ids, historic: false, total: ids.length };
    } else if (this.firstBaseline) {
      const days = Number(this.grant.settings.backfill_days ?? 0);
      if (days > 0) {
        const since = Math.floor(this.grant.createdAt.getTime() / 1000) - days * 86_400;
        const ids = await this.list(`after:${since} before:${Math.floor(this.grant.createdAt.getTime() / 1000) + 1}`);
        if (ids.length) cursor.backlog = { ids, historic: true, total: ids.length };
      }
    }
    this.firstBaseline = false;
    return cursor;
  }

  /** messages.list ids of tracked labels matching `q`, oldest first. */
  private async list(q: string): Promise<string[]> {
    const ids: string[] = [];
    for (const label of trackedLabels(this.grant.settings)) {
      let pageToken: string | undefined;
      do {
        const page = await this.gmail.call<{ messages?: { id: string }[]; nextPageToken?: string }>('GET', 'messages', { q, labelIds: label, maxResults: '500', ...(pageToken ? { pageToken } : {}) });
        for (const m of page.messages ?? []) ids.push(m.id);
        pageToken = page.nextPageToken;
      } while (pageToken && ids.length < BACKLOG_MAX);
    }
    // Gmail lists newest first; announce oldest first.
    return [...new Set(ids)].reverse();
  }

  async *changes(cursor: Cursor, signal: AbortSignal, reason = 'fallback'): AsyncIterable<ChangeBatch> {
    if (!isCursor(cursor)) {
      yield { reset: 'unrecognised cursor' };
      return;
    }
    this.firstBaseline = false;
    await this.watchKeeper?.maintain(reason).catch((err: unknown) => {
      if (err instanceof ProviderError && err.kind !== 'transient' && err.kind !== 'throttled') throw err;
      this.ctx.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'Gmail watch could not be renewed; polling continues');
    });
    let c: GoogleCursor = cursor;
    // New mail first: history since the cursor, page by page.
    const labels = trackedLabels(this.grant.settings);
    let pageToken: string | undefined;
    do {
      let page: { history?: { id: string; messagesAdded?: { message?: { id?: string; labelIds?: string[] } }[] }[]; nextPageToken?: string; historyId?: string };
      try {
        page = await this.gmail.call('GET', 'history', { startHistoryId: c.historyId, historyTypes: 'messageAdded', maxResults: '500', ...(pageToken ? { pageToken } : {}) });
      } catch (err) {
        if (err instanceof GmailCallError && err.status === 404) {
          this.recoverFrom = c.syncedAt;
          yield { reset: 'Gmail no longer has history from this historyId (404)' };
          return;
        }
        throw err;
      }
      const ids: string[] = [];
      for (const h of page.history ?? []) for (const a of h.messagesAdded ?? []) if (a.message?.id && (a.message.labelIds ?? []).some((l) => labels.includes(l))) ids.push(a.message.id);
      const events = await this.fetch([...new Set(ids)], false, signal);
      pageToken = page.nextPageToken;
      const last = page.history?.[page.history.length - 1]?.id;
      const historyId = pageToken ? (last ?? c.historyId) : String(page.historyId ?? last ?? c.historyId);
      c = { ...c, historyId, ...(pageToken ? {} : { syncedAt: this.nowS() }) };
      yield { events, cursor: c };
      if (signal.aborted) return;
    } while (pageToken);

    // Then the backlog (recovery or backfill), a slice per batch so realtime mail is never stuck behind it.
    // The next slice is fetched while the engine commits this one (the two costs overlap); a
    // failed prefetch surfaces when its slice is due, after everything before it has committed.
    let prefetched: Promise<NewEvent[]> | null = null;
    while (c.backlog && c.backlog.ids.length && !signal.aborted) {
      const { historic, ids, total } = c.backlog;
      const events = await (prefetched ?? this.fetch(ids.slice(0, BACKLOG_BATCH), historic, signal));
      const rest = ids.slice(BACKLOG_BATCH);
      prefetched = rest.length ? this.prefetch(rest.slice(0, BACKLOG_BATCH), historic, signal) : null;
      const { backlog: _done, ...without } = c;
      c = rest.length ? { ...c, backlog: { ...c.backlog, ids: rest } } : without;
      yield { events, cursor: c, progress: { backfill: { announced: total - rest.length, total, done: rest.length === 0 } } };
    }
  }

  /** `fetch` started ahead of need: its failure is kept for whoever awaits it (and not reported as unhandled if nobody does, e.g. after an abort). */
  private prefetch(ids: string[], historic: boolean, signal: AbortSignal): Promise<NewEvent[]> {
    const p = this.fetch(ids, historic, signal);
    p.catch(() => undefined);
    return p;
  }

  private async fetch(ids: string[], historic: boolean, signal: AbortSignal): Promise<NewEvent[]> {
    if (!ids.length) return [];
    const messages = (await this.gmail.getMany(ids, 'full', signal)) as unknown as GmailMessage[];
    const now = this.ctx.now();
    return messages.map((message) => gmailMessageEvent({ applicationId: this.grant.applicationId, grantId: this.grant.id, message, historic, now }));
  }

  async close(): Promise<void> {
    // The Gmail watch outlives the session (another worker may take the grant); it expires by itself.
  }
}
