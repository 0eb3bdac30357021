import { createHash } from 'node:crypto';
import type { GraphClient } from './client.js';
import { ATTACHMENT_SELECT, MESSAGE_SELECT, type GraphAttachment, type GraphMessage } from './to-events.js';

/**
 * Historic mail (`backfill_days`), read oldest first with full content: each request is one page
 * of a message list of one folder, `$filter=receivedDateTime ge {from} and receivedDateTime lt
 * {until}&$orderby=receivedDateTime asc`, with the attachments' metadata expanded into it — no
 * per-message calls, so a 200,000-message mailbox costs about 4,000 requests of Outlook's 10,000
 * per 10 minutes and mailbox (ADR 0810).
 *
 * The position of each folder is (from, seen): the receivedDateTime of the last message announced
 * and short hashes of the ids announced at exactly that instant. Many messages can share a second
 * (imports, migrations), so a restart asks again from `from` and skips the ties it already
 * announced: nothing is skipped and nothing repeated. Within one instant Exchange keeps a stable
 * order, so the next page is `$skip`ped past the ties already seen, overlapping one of them to prove
 * the listing did not shift; when it did (a tie was deleted or moved), the ties are read again.
 */

/** Messages per request: full bodies make big pages slow (Graph documents 504s for pages of hundreds). */
export const BACKFILL_PAGE = 50;

export interface BackfillFolder {
  /** Announce mail received at or after this instant… */
  from: string;
  /** …except these (hashes of ids received at exactly `from` and already announced). */
  seen: string[];
  done: boolean;
}

export interface BackfillCursor {
  v: 2;
  /** Start of the historic range (a folder tracked later starts here). */
  start: string;
  /** End of the range (the grant's creation: later mail is realtime). */
  until: string;
  folders: Record<string, BackfillFolder>;
  announced: number;
  done: boolean;
}

/** The layout before ADR 0810: one position over all folders, ties ordered by id. */
interface LegacyBackfillCursor {
  from: string;
  until: string;
  announced: number;
  done: boolean;
}

/** Reads either layout; a legacy position restarts every folder at its `from` (ties there are deduplicated by event id). */
export function backfillCursor(raw: unknown, folders: string[]): BackfillCursor | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const c = raw as Partial<BackfillCursor> & Partial<LegacyBackfillCursor>;
  if (c.v === 2 && c.folders && typeof c.start === 'string' && typeof c.until === 'string') {
    const out: BackfillCursor = { ...(c as BackfillCursor), folders: { ...c.folders } };
    for (const f of folders) out.folders[f] ??= { from: out.start, seen: [], done: false };
    return out;
  }
  if (typeof c.from !== 'string' || typeof c.until !== 'string') return undefined;
  const at = { from: c.from, seen: [], done: false };
  return { v: 2, start: c.from, until: c.until, folders: Object.fromEntries(folders.map((f) => [f, { ...at }])), announced: Number(c.announced ?? 0), done: c.done === true };
}

export function newBackfillCursor(start: string, until: string, folders: string[]): BackfillCursor {
  return { v: 2, start, until, folders: Object.fromEntries(folders.map((f) => [f, { from: start, seen: [], done: false }])), announced: 0, done: false };
}

export const tieHash = (id: string): string => createHash('sha256').update(id).digest('base64url').slice(0, 12);
const sameInstant = (a: string | undefined, b: string) => a !== undefined && Date.parse(a) === Date.parse(b);

export interface HistoricMessage {
  message: GraphMessage;
  attachments: GraphAttachment[];
}

interface Page {
  value?: (GraphMessage & { attachments?: GraphAttachment[] })[];
  '@odata.nextLink'?: string;
  '@odata.count'?: number;
}

/**
 * One folder's historic listing for one pass: buffered pages, consumed in receivedDateTime order.
 * `remaining` is Graph's count of what is left (asked on the first page of the pass).
 */
export class FolderBacklog {
  private buffer: HistoricMessage[] = [];
  private exhausted = false;
  /** `$count=true` rides on the first request of the pass only (a service that ignores it is asked once). */
  private counted = false;
  remaining: number | undefined;

  constructor(
    private readonly graph: GraphClient,
    readonly folder: string,
    private readonly until: string,
  ) {}

  /** The oldest unannounced message, reading the next page when the buffer is empty; null when the folder is done. */
  async head(position: BackfillFolder, signal: AbortSignal): Promise<HistoricMessage | null> {
    if (this.buffer.length === 0 && !this.exhausted && !position.done) await this.fill(position, signal);
    return this.buffer[0] ?? null;
  }

  shift(): HistoricMessage | undefined {
    if (this.remaining !== undefined) this.remaining = Math.max(0, this.remaining - 1);
    return this.buffer.shift();
  }

  private url(from: string, skip: number, top: number, count: boolean): string {
    const q = [
      `$filter=${encodeURIComponent(`receivedDateTime ge ${from} and receivedDateTime lt ${this.until}`)}`,
      `$orderby=${encodeURIComponent('receivedDateTime asc')}`,
      `$top=${top}`,
      ...(skip > 0 ? [`$skip=${skip}`] : []),
      `$select=${MESSAGE_SELECT}`,
      `$expand=${encodeURIComponent(`attachments($select=${ATTACHMENT_SELECT})`)}`,
      ...(count ? ['$count=true'] : []),
    ];
    return `/me/mailFolders/${encodeURIComponent(this.folder)}/messages?${q.join('&')}`;
  }

  private async fill(position: BackfillFolder, signal: AbortSignal): Promise<void> {
    const seen = new Set(position.seen);
    // Overlap one announced tie: seeing it first proves the listing before our position is unchanged.
    let skip = seen.size > 0 ? seen.size - 1 : 0;
    let top = BACKFILL_PAGE + (seen.size > 0 ? 1 : 0);
    let verify = seen.size > 0;
    for (;;) {
      if (signal.aborted) return;
      const count = !this.counted;
      this.counted = true;
      const page = (await this.graph.get<Page>(this.url(position.from, skip, top, count), { signal })).body;
      if (count && typeof page['@odata.count'] === 'number') this.remaining = Math.max(0, page['@odata.count'] - seen.size);
      const items = page.value ?? [];
      if (verify) {
        verify = false;
        const first = items[0];
        if (skip > 0 && !(first && sameInstant(first.receivedDateTime, position.from) && seen.has(tieHash(first.id)))) {
          // A tie before our position was removed or moved: read the instant's ties again from the start.
          skip = 0;
          top = BACKFILL_PAGE;
          continue;
        }
      }
      const fresh = items.filter((m) => m.id && !(sameInstant(m.receivedDateTime, position.from) && seen.has(tieHash(m.id))));
      const more = Boolean(page['@odata.nextLink']);
      if (fresh.length > 0 || !more) {
        this.buffer = fresh.map(({ attachments, ...message }) => ({ message, attachments: attachments ?? [] }));
        this.exhausted = !more;
        return;
      }
      // A whole page of ties announced before (more of them than a page): page on past them.
      skip += items.length;
      top = BACKFILL_PAGE;
    }
  }
}

/** Moves a folder position past `m` (in place: the caller snapshots the cursor it yields). */
export function advance(position: BackfillFolder, m: GraphMessage): void {
  const at = m.receivedDateTime ?? position.from;
  if (sameInstant(at, position.from)) position.seen.push(tieHash(m.id));
  else position.seen = [tieHash(m.id)];
  position.from = at;
}
