import type { NewEvent } from '../../domain/event.js';
import type { ChangeBatch, Cursor, GrantHandle, ProviderContext, ProviderSession } from '../provider.js';
import { GraphCallError, type GraphClient } from './client.js';
import { advance, BACKFILL_PAGE, backfillCursor, FolderBacklog, newBackfillCursor, type BackfillCursor } from './backfill.js';
import { ATTACHMENT_SELECT, graphMessageEvent, MESSAGE_SELECT, type GraphAttachment, type GraphMessage } from './to-events.js';
import type { SubscriptionKeeper } from './watch.js';

interface FolderCursor {
  /** The next page (`@odata.nextLink`) or the next round (`@odata.deltaLink`). Absent: start a filtered round. */
  link?: string;
  /** Messages received before this instant are never announced by this folder's delta. */
  since: string;
  /** When the last completed round started; a lost delta state restarts from a little before it. */
  roundAt?: string;
}

export interface MicrosoftCursor {
  v: 1;
  folders: Record<string, FolderCursor>;
  /** Historic mail still to announce (backfill.ts; an older layout is read too). */
  backfill?: BackfillCursor | Record<string, unknown>;
  [key: string]: unknown;
}

/** Overlap when restarting a folder after its delta state was lost: mail in it is deduplicated by id. */
const RESET_OVERLAP_MS = 10 * 60_000;
/** Historic messages announced per pass before yielding the grant back to realtime work. */
const BACKFILL_PER_PASS = 1000;
/** An idle pass renews the subscription at most this often (see SubscriptionKeeper.probe). */
const PROBE_MIN_MS = 30_000;

export function trackedFolders(settings: Record<string, unknown>): string[] {
  const f = settings.tracked_folders;
  return Array.isArray(f) && f.length > 0 && f.every((x) => typeof x === 'string') ? (f as string[]) : ['inbox'];
}

function isCursor(c: Cursor): c is Cursor & MicrosoftCursor {
  return c.v === 1 && typeof c.folders === 'object' && c.folders !== null;
}

/**
 * The Microsoft sync session for one grant: Graph delta per tracked folder. A new grant's first
 * round is filtered to mail received since the grant was created, so older mail is never
 * announced as new and nothing that arrived while the first pass was pending is lost. Each page
 * is one batch (events + the next link), committed before the next page is asked for.
 */
export class MicrosoftSession implements ProviderSession {
  private last: MicrosoftCursor | null = null;
  private resetFolder: string | null = null;
  private onHint: ((reason: string) => void) | null = null;
  private closed = false;

  constructor(
    private readonly grant: GrantHandle,
    private readonly ctx: ProviderContext,
    private readonly graph: GraphClient,
    private readonly subscription: SubscriptionKeeper | null,
  ) {}

  async baseline(): Promise<Cursor> {
    const folders: Record<string, FolderCursor> = {};
    if (this.last && this.resetFolder) {
      // After a 410: keep the other folders, restart the lost one a little before its last round.
      for (const [name, f] of Object.entries(this.last.folders)) {
        if (name !== this.resetFolder) folders[name] = f;
        else {
          const restart = f.roundAt ? Date.parse(f.roundAt) - RESET_OVERLAP_MS : Date.parse(f.since);
          folders[name] = { since: wholeSecond(Math.max(Date.parse(f.since), restart)) };
        }
      }
      this.resetFolder = null;
      return { ...this.last, folders } satisfies MicrosoftCursor;
    }
    const since = wholeSecond(this.grant.createdAt.getTime());
    for (const name of trackedFolders(this.grant.settings)) folders[name] = { since };
    const cursor: MicrosoftCursor = { v: 1, folders };
    const days = Number(this.grant.settings.backfill_days ?? 0);
    if (Number.isInteger(days) && days > 0) {
      cursor.backfill = newBackfillCursor(wholeSecond(this.grant.createdAt.getTime() - days * 86_400_000), since, trackedFolders(this.grant.settings));
    }
    return cursor;
  }

  async *changes(cursor: Cursor, signal: AbortSignal, reason = ''): AsyncIterable<ChangeBatch> {
    if (!isCursor(cursor)) {
      // A cursor from an older layout: start over from now rather than guess.
      this.last = null;
      yield { reset: 'unrecognised cursor' };
      return;
    }
    let current: MicrosoftCursor = structuredClone(cursor);
    this.last = current;
    if (this.subscription) {
      // Push is a hint: a subscription problem never stops the delta pass.
      await this.subscription.maintain(reason).catch((err: unknown) => this.ctx.logger.warn({ err: describe(err) }, 'could not maintain the Graph subscription; fallback passes continue'));
    }
    let announced = 0;
    for (const folder of trackedFolders(this.grant.settings)) {
      // A folder added to tracked_folders starts now, like a new grant.
      const start: FolderCursor = current.folders[folder] ?? { since: wholeSecond(this.ctx.now().getTime()) };
      current = { ...current, folders: { ...current.folders, [folder]: start } };
      const roundStart = this.ctx.now().toISOString();
      let url = start.link ?? this.initialUrl(folder, start.since);
      for (;;) {
        if (signal.aborted || this.closed) return;
        let page;
        try {
          page = await this.graph.get<{ value?: GraphMessage[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }>(url, {
            prefer: [`odata.maxpagesize=${this.graph.pageSize}`],
            signal,
          });
        } catch (err) {
          if (isLostState(err)) {
            this.resetFolder = folder;
            yield { reset: `Graph lost the delta state of ${folder} (${(err as GraphCallError).code})` };
            return;
          }
          throw err;
        }
        const f = current.folders[folder] ?? start;
        const events = await this.toEvents(page.body.value ?? [], Date.parse(f.since), signal);
        const next = page.body['@odata.nextLink'] ?? page.body['@odata.deltaLink'];
        if (!next) throw new GraphCallError(502, 'NoNextLink', 'a delta page carried neither a nextLink nor a deltaLink');
        current = { ...current, folders: { ...current.folders, [folder]: { ...f, link: next, ...(page.body['@odata.deltaLink'] ? { roundAt: roundStart } : {}) } } };
        this.last = current;
        announced += events.length;
        yield { events, cursor: current };
        if (!page.body['@odata.nextLink']) break;
        url = next;
      }
    }
    const historic = backfillCursor(current.backfill, trackedFolders(this.grant.settings));
    if (historic && !historic.done) yield* this.backfill(current, historic, signal);
    if (announced === 0 && this.subscription) {
      // A pass woken by a lifecycle notification finds no mail: that is when the subscription is checked.
      await this.subscription.probe(PROBE_MIN_MS).catch((err: unknown) => this.ctx.logger.warn({ err: describe(err) }, 'could not renew the Graph subscription; fallback passes continue'));
    }
  }

  private initialUrl(folder: string, since: string): string {
    const q = `$select=${MESSAGE_SELECT}&$filter=${encodeURIComponent(`receivedDateTime ge ${since}`)}`;
    return `/me/mailFolders/${encodeURIComponent(folder)}/messages/delta?${q}`;
  }

  /** Delta items → events: removals and mail received before `sinceMs` are skipped; replays dedupe by event id. */
  private async toEvents(items: GraphMessage[], sinceMs: number, signal: AbortSignal): Promise<NewEvent[]> {
    const fresh = items.filter((m) => !m['@removed'] && m.id && (!m.receivedDateTime || Date.parse(m.receivedDateTime) >= sinceMs));
    const attachments = await Promise.all(fresh.map((m) => (m.hasAttachments ? this.attachments(m.id, signal) : Promise.resolve([]))));
    const now = this.ctx.now();
    return fresh.map((message, i) => graphMessageEvent({ applicationId: this.grant.applicationId, grantId: this.grant.id, message, attachments: attachments[i] ?? [], historic: false, now }));
  }

  private async attachments(id: string, signal: AbortSignal): Promise<GraphAttachment[]> {
    try {
      const res = await this.graph.get<{ value?: GraphAttachment[] }>(`/me/messages/${encodeURIComponent(id)}/attachments?$select=${ATTACHMENT_SELECT}`, { signal });
      return res.body.value ?? [];
    } catch (err) {
      if (err instanceof GraphCallError && err.status === 404) return [];
      throw err;
    }
  }

  /**
   * Historic mail (backfill_days), oldest first across the tracked folders: each folder is read
   * page by page (backfill.ts) and the heads are merged by receivedDateTime, so the log receives
   * history in the order it happened. Each batch of up to a page commits with the folders'
   * positions; after BACKFILL_PER_PASS messages the pass ends and a hint asks for the next one, so
   * realtime mail never waits behind a big history.
   */
  private async *backfill(cursor: MicrosoftCursor, start: BackfillCursor, signal: AbortSignal): AsyncIterable<ChangeBatch> {
    const state: BackfillCursor = structuredClone(start);
    const tracked = trackedFolders(this.grant.settings);
    // A folder no longer tracked keeps its position in the cursor but is not read (nor waited for).
    const folders = tracked.filter((f) => state.folders[f] && !state.folders[f].done);
    const backlogs = folders.map((f) => new FolderBacklog(this.graph, f, state.until));
    let passed = 0;
    const emit = (events: NewEvent[]): ChangeBatch => {
      state.announced += events.length;
      const remaining = backlogs.reduce((n, b) => n + (b.remaining ?? 0), 0);
      const next: MicrosoftCursor = { ...cursor, backfill: structuredClone(state) };
      this.last = next;
      return { events, cursor: next, progress: { backfill: { status: state.done ? 'done' : 'running', announced: state.announced, remaining } } };
    };
    while (passed < BACKFILL_PER_PASS) {
      const batch: NewEvent[] = [];
      const now = this.ctx.now();
      while (batch.length < BACKFILL_PAGE) {
        if (signal.aborted || this.closed) return;
        // The oldest head across the folders (a folder with an empty buffer reads its next page first).
        let best: { backlog: FolderBacklog; at: number } | null = null;
        for (const b of backlogs) {
          const position = state.folders[b.folder]!;
          const head = await b.head(position, signal);
          if (signal.aborted || this.closed) return;
          if (!head) {
            position.done = true;
            continue;
          }
          const at = Date.parse(head.message.receivedDateTime ?? '') || 0;
          if (!best || at < best.at) best = { backlog: b, at };
        }
        if (!best) break;
        const item = best.backlog.shift()!;
        advance(state.folders[best.backlog.folder]!, item.message);
        batch.push(graphMessageEvent({ applicationId: this.grant.applicationId, grantId: this.grant.id, message: item.message, attachments: item.attachments, historic: true, now }));
      }
      state.done = tracked.every((f) => state.folders[f]?.done === true);
      passed += batch.length;
      yield emit(batch);
      if (state.done) return;
    }
    this.onHint?.('backfill');
  }

  async watch(onHint: (reason: string) => void): Promise<() => Promise<void>> {
    this.onHint = onHint;
    await this.subscription?.maintain();
    return async () => {
      this.onHint = null;
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Graph's receivedDateTime has whole seconds: a boundary with milliseconds would skip mail of that second. */
function wholeSecond(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** 410 Gone, or the error codes Graph uses for an expired or unusable delta token. */
function isLostState(err: unknown): boolean {
  return err instanceof GraphCallError && (err.status === 410 || /^(syncStateNotFound|resyncRequired|syncStateInvalid)$/i.test(err.code));
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
