import { opaque, restItemId } from '../ids.js';
import { GraphError, badRequest } from './errors.js';
import type { Mailbox } from './mailbox.js';
import { messageJson } from './message-json.js';

/** Outlook's default page size for message delta. */
export const DEFAULT_DELTA_PAGE = 10;
/** Outlook keeps a bounded cache of sync states per folder; older tokens fall out and answer 410. */
const STATES_PER_FOLDER = 100;

interface Pending {
  immutableId: string;
  /** The folder the change was recorded in (to build the REST id of a removed item). */
  folderId: string;
}

interface SyncState {
  userId: string;
  folderId: string;
  select?: string[];
  /** The log position this round ends at; the next round starts after it. */
  watermark: number;
  /** Items still to be returned in this round (page tokens only). */
  pending?: Pending[];
  createdAt: number;
}

export interface DeltaPage {
  value: Record<string, unknown>[];
  nextToken?: string;
  deltaToken?: string;
}

/**
 * Delta query per folder: an initial round enumerates the folder, later rounds return what
 * changed after the round's watermark — new or changed messages in full, and messages that
 * left the folder as `@removed`. Tokens are opaque keys into server-side sync states, so the
 * control API can expire them (→ 410) and replays can be switched on.
 */
export class DeltaEngine {
  private readonly states = new Map<string, SyncState>();
  /** `${userId} ${folderId}` → its tokens, oldest first (for the bounded cache). */
  private readonly byFolder = new Map<string, string[]>();
  /** userId → how many already-returned changes each incremental round repeats. */
  private readonly replays = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  setReplay(userId: string, count: number): void {
    if (count > 0) this.replays.set(userId, count);
    else this.replays.delete(userId);
  }

  /** Forget every sync state of a user (or of one folder): their links answer 410 from now on. */
  expire(userId: string, folderId?: string): number {
    let n = 0;
    for (const [key, tokens] of this.byFolder) {
      const [u, f] = key.split(' ');
      if (u !== userId || (folderId && f !== folderId)) continue;
      for (const t of tokens) if (this.states.delete(t)) n++;
      this.byFolder.delete(key);
    }
    return n;
  }

  /** Start a round without a token (`GET …/messages/delta[?$select&$filter]`). */
  initial(mailbox: Mailbox, folderId: string, select: string[] | undefined, filter: string | undefined): string {
    const after = parseReceivedFilter(filter);
    const items = [...mailbox.messages.values()]
      .filter((m) => m.folderId === folderId && (!after || after(Date.parse(m.receivedDateTime))))
      .sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime))
      .map((m) => ({ immutableId: m.immutableId, folderId }));
    return this.save({ userId: mailbox.userId, folderId, watermark: mailbox.currentSeq, pending: items, createdAt: this.now(), ...(select ? { select } : {}) });
  }

  /** Serve one page for a token (skiptoken or deltatoken). */
  page(mailbox: Mailbox, token: string, pageSize: number, immutableIds: boolean): DeltaPage {
    const state = this.states.get(token);
    if (!state || state.userId !== mailbox.userId) throw syncStateNotFound();
    // A deltaLink starts a new round: it covers the log up to now, and so will the next deltaLink.
    const pending = state.pending ?? this.changesSince(mailbox, state);
    const watermark = state.pending ? state.watermark : mailbox.currentSeq;
    const batch = pending.slice(0, pageSize);
    const rest = pending.slice(pageSize);
    const value = batch.map((p) => {
      const msg = mailbox.messages.get(p.immutableId);
      if (msg && msg.folderId === state.folderId) {
        return { '@odata.type': '#microsoft.graph.message', ...messageJson(mailbox, msg, { immutableIds, ...(state.select ? { select: state.select } : {}) }) };
      }
      const id = immutableIds ? p.immutableId : restItemId(p.immutableId, p.folderId);
      return { '@odata.type': '#microsoft.graph.message', id, '@removed': { reason: 'deleted' } };
    });
    const base = { userId: state.userId, folderId: state.folderId, watermark, createdAt: this.now(), ...(state.select ? { select: state.select } : {}) };
    // A round that is not finished hands out a nextLink even when this page is short (Graph does the same).
    if (rest.length > 0) return { value, nextToken: this.save({ ...base, pending: rest }) };
    return { value, deltaToken: this.save(base) };
  }

  private changesSince(mailbox: Mailbox, state: SyncState): Pending[] {
    let from = state.watermark;
    const replay = this.replays.get(mailbox.userId) ?? 0;
    if (replay > 0) {
      // Replays: repeat the last `replay` changes this folder already reported.
      const earlier = mailbox.log.filter((e) => e.folderId === state.folderId && e.seq <= state.watermark);
      const first = earlier[Math.max(0, earlier.length - replay)];
      if (first) from = first.seq - 1;
    }
    const latest = new Map<string, Pending>();
    for (const e of mailbox.log) {
      if (e.seq <= from || e.folderId !== state.folderId) continue;
      latest.delete(e.immutableId); // keep the order of each item's last change
      latest.set(e.immutableId, { immutableId: e.immutableId, folderId: e.folderId });
    }
    return [...latest.values()];
  }

  private save(state: SyncState): string {
    const token = opaque(48);
    this.states.set(token, state);
    const key = `${state.userId} ${state.folderId}`;
    const tokens = this.byFolder.get(key) ?? [];
    tokens.push(token);
    while (tokens.length > STATES_PER_FOLDER) this.states.delete(tokens.shift() ?? '');
    this.byFolder.set(key, tokens);
    return token;
  }
}

export function syncStateNotFound(): GraphError {
  return new GraphError(410, 'SyncStateNotFound', 'The sync state generation is not found. The delta token is expired and data must be synchronized again.');
}

/** The only `$filter` message delta accepts: `receivedDateTime ge|gt {date}`. */
function parseReceivedFilter(filter: string | undefined): ((ms: number) => boolean) | undefined {
  if (!filter) return undefined;
  const m = /^\s*receivedDateTime\s+(ge|gt)\s+(\S+)\s*$/i.exec(filter);
  const at = m?.[2] ? Date.parse(m[2]) : NaN;
  if (!m || Number.isNaN(at)) throw badRequest(`Invalid filter clause: delta on messages supports only 'receivedDateTime ge|gt {dateTime}'.`, 'ErrorInvalidUrlQueryFilter');
  return m[1]?.toLowerCase() === 'gt' ? (ms) => ms > at : (ms) => ms >= at;
}
