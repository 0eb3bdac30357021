import type { NewEvent } from '../../domain/event.js';
import type { ChangeBatch, Cursor, GrantHandle, ProviderContext, ProviderSession } from '../provider.js';
import { GraphCallError, type GraphClient } from './client.js';
import { graphMessageEvent, MESSAGE_SELECT, type GraphAttachment, type GraphMessage } from './to-events.js';
import type { SubscriptionKeeper } from './watch.js';

interface FolderCursor {
  /** The next page (`@odata.nextLink`) or the next round (`@odata.deltaLink`). Absent: start a filtered round. */
  link?: string;
  /** Messages received before this instant are never announced by this folder's delta. */
  since: string;
  /** When the last completed round started; a lost delta state restarts from a little before it. */
  roundAt?: string;
}

interface BackfillCursor {
  /** Next message to announce is received at or after this… */
  from: string;
  /** …and before this (the grant's creation: later mail is realtime). */
  until: string;
  /** The last message announced at `from` (messages at `from` sort by id): resume after it. */
  after?: string;
  announced: number;
  done: boolean;
}

interface BacklogItem {
  id: string;
  at: number;
}

export interface MicrosoftCursor {
  v: 1;
  folders: Record<string, FolderCursor>;
  backfill?: BackfillCursor;
  [key: string]: unknown;
}

/** Overlap when restarting a folder after its delta state was lost: mail in it is deduplicated by id. */
const RESET_OVERLAP_MS = 10 * 60_000;
/** Historic messages announced per pass before yielding the grant back to realtime work. */
const BACKFILL_PER_PASS = 1000;
const BACKFILL_BATCH = 50;
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
  /** The sorted backfill listing of this session (see backfill), from the `from` it was listed at. */
  private backlog: { from: number; until: string; items: BacklogItem[] } | null = null;

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
      cursor.backfill = { from: new Date(this.grant.createdAt.getTime() - days * 86_400_000).toISOString(), until: since, announced: 0, done: false };
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
    if (current.backfill && !current.backfill.done) yield* this.backfill(current, signal);
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
  private async toEvents(items: GraphMessage[], sinceMs: number, signal: AbortSignal, historic = false): Promise<NewEvent[]> {
    const fresh = items.filter((m) => !m['@removed'] && m.id && (!m.receivedDateTime || Date.parse(m.receivedDateTime) >= sinceMs));
    const attachments = await Promise.all(fresh.map((m) => (m.hasAttachments ? this.attachments(m.id, signal) : Promise.resolve([]))));
    const now = this.ctx.now();
    return fresh.map((message, i) => graphMessageEvent({ applicationId: this.grant.applicationId, grantId: this.grant.id, message, attachments: attachments[i] ?? [], historic, now }));
  }

  private async attachments(id: string, signal: AbortSignal): Promise<GraphAttachment[]> {
    try {
      const res = await this.graph.get<{ value?: GraphAttachment[] }>(`/me/messages/${encodeURIComponent(id)}/attachments?$select=id,name,contentType,size,isInline,contentId`, { signal });
      return res.body.value ?? [];
    } catch (err) {
      if (err instanceof GraphCallError && err.status === 404) return [];
      throw err;
    }
  }

  /**
   * Historic mail (backfill_days), oldest first: list what lies in [from, until) once with a light
   * delta round (ids and times only), sort it, then fetch and announce it in batches, moving
   * `from` forward with each batch (committed with its events) so a restart resumes where it
   * stopped (the message at the boundary is deduplicated by id). The sorted listing is kept by the
   * session, so later passes continue from memory instead of listing the remaining range again
   * (which made a big mailbox quadratic); a new session lists only what lies at or after `from`.
   */
  private async *backfill(cursor: MicrosoftCursor, signal: AbortSignal): AsyncIterable<ChangeBatch> {
    const b = cursor.backfill!;
    const fromMs = Date.parse(b.from);
    if (!this.backlog || this.backlog.until !== b.until || fromMs < this.backlog.from) {
      this.backlog = { from: fromMs, until: b.until, items: await this.listBacklog(b, signal) };
    }
    const ids = this.backlog.items;
    const start = firstAfter(ids, fromMs, b.after);
    const todo = ids.slice(start, start + BACKFILL_PER_PASS);
    const remainingAfter = (n: number) => ids.length - start - n;
    let state = { ...b };
    for (let i = 0; i < todo.length; i += BACKFILL_BATCH) {
      if (signal.aborted || this.closed) return;
      const chunk = todo.slice(i, i + BACKFILL_BATCH);
      const messages = await Promise.all(chunk.map((c) => this.fetchMessage(c.id, signal)));
      const events = await this.toEvents(messages.filter((m): m is GraphMessage => m !== null), 0, signal, true);
      const end = chunk[chunk.length - 1]!;
      state = { ...state, from: new Date(end.at).toISOString(), after: end.id, announced: state.announced + events.length };
      const remaining = remainingAfter(i + chunk.length);
      if (remaining === 0) state.done = true;
      const next: MicrosoftCursor = { ...cursor, backfill: state };
      this.last = next;
      yield { events, cursor: next, progress: { backfill: { status: state.done ? 'done' : 'running', announced: state.announced, remaining } } };
    }
    if (todo.length === 0) {
      const next: MicrosoftCursor = { ...cursor, backfill: { ...state, done: true } };
      yield { events: [], cursor: next, progress: { backfill: { status: 'done', announced: state.announced, remaining: 0 } } };
    }
    if (state.done || todo.length === 0) this.backlog = null;
    else this.onHint?.('backfill');
  }

  /** Ids and times of the mail in [from, until) of every tracked folder, oldest first. */
  private async listBacklog(b: BackfillCursor, signal: AbortSignal): Promise<BacklogItem[]> {
    const until = Date.parse(b.until);
    const ids: BacklogItem[] = [];
    for (const folder of trackedFolders(this.grant.settings)) {
      let url: string | undefined = `/me/mailFolders/${encodeURIComponent(folder)}/messages/delta?$select=id,receivedDateTime&$filter=${encodeURIComponent(`receivedDateTime ge ${b.from}`)}`;
      while (url) {
        if (signal.aborted || this.closed) return ids;
        const page: { body: { value?: GraphMessage[]; '@odata.nextLink'?: string } } = await this.graph.get(url, { prefer: [`odata.maxpagesize=${Math.max(this.graph.pageSize, 200)}`], signal });
        for (const m of page.body.value ?? []) {
          const at = m.receivedDateTime ? Date.parse(m.receivedDateTime) : NaN;
          if (!m['@removed'] && at < until) ids.push({ id: m.id, at });
        }
        url = page.body['@odata.nextLink'];
      }
    }
    return ids.sort((x, y) => x.at - y.at || x.id.localeCompare(y.id));
  }

  private async fetchMessage(id: string, signal: AbortSignal): Promise<GraphMessage | null> {
    try {
      return (await this.graph.get<GraphMessage>(`/me/messages/${encodeURIComponent(id)}?$select=${MESSAGE_SELECT}`, { signal })).body;
    } catch (err) {
      if (err instanceof GraphCallError && err.status === 404) return null;
      throw err;
    }
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

/** Index of the first item after (ms, id) — or at or after ms without an id — in a list sorted by (time, id). */
function firstAfter(items: BacklogItem[], ms: number, id: string | undefined): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const it = items[mid]!;
    if (it.at < ms || (it.at === ms && id !== undefined && it.id.localeCompare(id) <= 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** 410 Gone, or the error codes Graph uses for an expired or unusable delta token. */
function isLostState(err: unknown): boolean {
  return err instanceof GraphCallError && (err.status === 410 || /^(syncStateNotFound|resyncRequired|syncStateInvalid)$/i.test(err.code));
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
