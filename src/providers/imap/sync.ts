import type { FetchMessageObject, FetchQueryObject, ImapFlow } from 'imapflow';
import type { NewEvent } from '../../domain/event.js';
import { ProviderError, type ChangeBatch, type Cursor, type GrantHandle, type ProviderContext, type ProviderSession } from '../provider.js';
import { backfillSpan, firstUidSince } from './baseline-search.js';
import { classifyImapError } from './client.js';
import { BulkOpener } from './bulk-opener.js';
import { ImapCommandError, type LeanImapConnection } from './lean-connection.js';
import { NewMailCheck } from './new-mail-check.js';
import { NotLeanError } from './lean-message.js';
import { pickBodyPart, type BodyPartChoice } from './mime.js';
import type { ImapSettings } from './settings.js';
import { BODY_FETCH_CAP, SNIPPET_FETCH_BYTES, toMessageEvent, type FetchedMessage, type MessageContext } from './to-events.js';
import { mark } from './trace.js';
import { uidSet } from './uid-set.js';
import { watchInbox } from './watch.js';

/** Per tracked folder: the position after which mail is new. */
export interface FolderCursor {
  uidValidity: string;
  uidNext: number;
  highestModseq?: string;
}

/** Backfill of the last `backfill_days`: UIDs [nextUid, endUid) of INBOX dated on or after `since`. */
export interface BackfillCursor {
  folder: string;
  uidValidity: string;
  since: number;
  nextUid: number;
  endUid: number;
  done: number;
  total: number;
}

export interface ImapCursor {
  folders: Record<string, FolderCursor>;
  backfill?: BackfillCursor;
}

/** Messages per fetch and per committed batch. */
export const CHUNK = 500;
const INBOX = 'INBOX';

/**
 * How a backfill is cut into passes (ADR 0512). A pass goes on while no new mail is waiting, the
 * bulk connection and the fetch pipeline kept across what used to be pass boundaries; every
 * `checkMs` a STATUS of each tracked folder looks for new mail, and when some is there the pass
 * stops queuing chunks, commits what is already queued and hands over to the next pass, whose
 * realtime check comes first. `maxUids` bounds a pass anyway. Properties, not constants, so
 * benches can compare settings in one process and tests can shorten the check.
 */
export const backfillPass = {
  maxUids: 100 * CHUNK,
  checkMs: 1_000,
};

/**
 * The fetch pipeline's settings. `lookahead`: chunks fetched ahead of the one being committed
 * (bounds memory: CHUNK messages each, bodies capped). `readAhead`: what the session tells the
 * engine (ProviderSession.readAhead).
 */
export const pipeline = {
  lookahead: 2,
  readAhead: true,
};

/**
 * Ranges of at least this many UIDs are read over a second, short-lived connection with the lean
 * reader (ADR 0511); smaller ones (a handful of new mails) stay on the imapflow connection,
 * where opening a connection would cost more than the parser saves. A property, not a constant,
 * so benches can compare both paths in one process (Infinity: never).
 */
export const bulkReader = {
  minUids: 200,
  /** Open a new grant's backfill connection while its baseline runs (ADR 0514; false: when the first pass needs it). */
  openAtBaseline: true,
};

/** Where a chunk's metadata and bodies come from: the imapflow connection or the bulk reader. */
interface ChunkSource {
  meta(range: string): Promise<FetchedMessage[]>;
  /** The body section of each UID; a source may leave out parts the server refused. */
  bodies(uids: number[], section: string, cap: number | null): Promise<Map<number, Buffer>>;
}

/** One chunk as fetched: metadata, the chosen body part of each message, and its raw content. */
interface RawChunk {
  metas: FetchedMessage[];
  choices: Map<number, BodyPartChoice | null>;
  bodies: Map<number, Buffer>;
}

const FETCH_META: FetchQueryObject = { uid: true, flags: true, envelope: true, bodyStructure: true, internalDate: true, headers: ['references'] };

/**
 * One grant's IMAP session: one connection, INBOX kept selected for IDLE, other tracked folders
 * checked with STATUS on every pass. New mail = UIDs at or above the saved UIDNEXT; a changed
 * UIDVALIDITY re-baselines that folder without announcing anything.
 */
export class ImapSession implements ProviderSession {
  private readonly folders: string[];
  /** The engine's wake-up (from watch): asks for the next pass when a backfill slice ends. */
  private hint: ((reason: string) => void) | null = null;
  /** A changes() iteration is using the connection (the watcher's polls stay out of its way). */
  private inPass = false;
  private readonly bulkOpener: BulkOpener;
  /**
   * Resuming changes() only reads this session's connections and updates its local copy of the
   * cursor (the hint at a backfill pass's end is a wake-up, not a write): the engine may ask for
   * the next batch while the previous one commits.
   */
  get readAhead(): boolean {
    return pipeline.readAhead;
  }
  /** The imapflow connection as a chunk source for `folder` (named in its warnings). */
  private flowSource(folder: string): ChunkSource {
    return {
      meta: (range) => this.fetchMeta(range),
      bodies: (uids, section, cap) => {
        const part = cap === null ? section : { key: section, start: 0, maxLength: cap };
        return this.client.fetchAll(uidSet(uids), { uid: true, bodyParts: [part] }, { uid: true }).then(
          (rows) => {
            const out = new Map<number, Buffer>();
            for (const row of rows) {
              const buf = row.bodyParts?.values().next().value;
              if (buf) out.set(row.uid, buf);
            }
            return out;
          },
          (err: unknown) => {
            this.usable();
            // The server refused the part (broken MIME): announce those messages without a body.
            this.ctx.logger.warn({ folder, section, count: uids.length, err: (err as Error).message }, 'could not fetch message bodies; announcing without body');
            return new Map<number, Buffer>();
          },
        );
      },
    };
  }

  constructor(
    private readonly client: ImapFlow,
    private readonly settings: ImapSettings,
    private readonly grant: GrantHandle,
    private readonly ctx: ProviderContext,
  ) {
    const tracked = grant.settings.tracked_folders;
    this.folders = Array.isArray(tracked) && tracked.length > 0 ? tracked.filter((f): f is string => typeof f === 'string') : [INBOX];
    if (!this.folders.includes(INBOX)) this.folders.unshift(INBOX);
    this.bulkOpener = new BulkOpener(settings, ctx, grant.id);
  }

  private usable(): void {
    if (!this.client.usable) throw new ProviderError('transient', `the connection to ${this.settings.host}:${this.settings.port} was closed`);
  }

  private async folderStatus(path: string): Promise<FolderCursor> {
    const st = await this.client.status(path, { uidValidity: true, uidNext: true, highestModseq: true });
    if (!st) throw new ProviderError('transient', `STATUS ${path} failed on ${this.settings.host}`);
    const c: FolderCursor = { uidValidity: String(st.uidValidity ?? '0'), uidNext: st.uidNext ?? 1 };
    if (st.highestModseq !== undefined) c.highestModseq = String(st.highestModseq);
    return c;
  }

  /**
   * STATUS that sees mail delivered since the session last looked: a server answers STATUS on
   * the selected mailbox from the session's own view (Dovecot does), which only a command that
   * syncs the mailbox (NOOP; IDLE between passes) brings up to date.
   */
  private async freshStatus(path: string): Promise<FolderCursor> {
    if (this.client.mailbox && this.client.mailbox.path === path) await this.client.noop();
    return this.folderStatus(path);
  }

  /**
   * The first pass of a new grant: mail is new from the grant's creation (GrantHandle.createdAt),
   * not from whenever a worker first got to it, so each folder starts at the first UID whose
   * INTERNALDATE is at or after that moment (UIDs grow in arrival order).
   */
  async baseline(): Promise<Cursor> {
    mark(this.grant.id, 'pass.baseline');
    const days = Number(this.grant.settings.backfill_days ?? 0);
    // A backfill's first pass reads over the bulk connection: its login runs beside the baseline's commands.
    if (days > 0 && bulkReader.openAtBaseline) this.bulkOpener.prepare(INBOX);
    try {
      this.usable();
      const cursor: ImapCursor = { folders: {} };
      for (const f of this.folders) {
        const status = await this.folderStatus(f);
        cursor.folders[f] = { ...status, uidNext: await this.firstUidSince(f, status.uidNext, this.grant.createdAt) };
      }
      const inbox = cursor.folders[INBOX]!;
      if (days > 0 && inbox.uidNext > 1) {
        const since = new Date(this.grant.createdAt.getTime() - days * 86_400_000);
        const lock = await this.client.getMailboxLock(INBOX);
        try {
          const span = await backfillSpan(this.client, since, inbox.uidNext);
          mark(this.grant.id, 'baseline.backfill');
          if (span) {
            cursor.backfill = { folder: INBOX, uidValidity: inbox.uidValidity, since: Math.floor(since.getTime() / 1000), nextUid: span.first, endUid: inbox.uidNext, done: 0, total: span.total };
          }
        } finally {
          lock.release();
        }
      }
      mark(this.grant.id, 'baseline.end');
      const b = cursor.backfill;
      if (!b || b.endUid - b.nextUid < bulkReader.minUids) this.bulkOpener.discard();
      return cursor as unknown as Cursor;
    } catch (err) {
      this.bulkOpener.discard();
      throw classifyImapError(err, this.settings);
    }
  }

  /** The lowest UID below `uidNext` that arrived at or after `since` (`uidNext` when none did; baseline-search.ts). */
  private async firstUidSince(folder: string, uidNext: number, since: Date): Promise<number> {
    if (uidNext <= 1 || since.getTime() >= this.ctx.now().getTime()) return uidNext;
    const lock = await this.client.getMailboxLock(folder);
    try {
      return await firstUidSince(this.client, since, uidNext, (step) => mark(this.grant.id, `baseline.${step}`));
    } finally {
      lock.release();
    }
  }

  async *changes(raw: Cursor, signal: AbortSignal): AsyncIterable<ChangeBatch> {
    // Abort (a stop, a lost lease, the engine's call deadline) drops the connection at once: a
    // command stuck on a silent server would otherwise wait for the 30-minute socket timeout.
    const drop = () => this.client.close();
    signal.addEventListener('abort', drop, { once: true });
    this.inPass = true;
    mark(this.grant.id, 'pass.start');
    try {
      this.usable();
      const cursor = structuredClone(raw) as unknown as ImapCursor;
      cursor.folders ??= {};
      for (const folder of this.folders) {
        if (signal.aborted) return;
        let now: FolderCursor;
        try {
          now = await this.folderStatus(folder);
          mark(this.grant.id, 'pass.status');
        } catch (err) {
          // A tracked folder that was deleted or renamed must not stop INBOX from syncing.
          if (folder === INBOX || !this.client.usable) throw err;
          this.ctx.logger.warn({ folder, err: (err as Error).message }, 'tracked folder unavailable; skipping it this pass');
          continue;
        }
        const saved = cursor.folders[folder];
        if (!saved || saved.uidValidity !== now.uidValidity) {
          if (saved) this.ctx.logger.warn({ folder, was: saved.uidValidity, now: now.uidValidity }, 'UIDVALIDITY changed: re-baselining the folder without announcing its mail');
          cursor.folders[folder] = now;
          if (cursor.backfill?.folder === folder) delete cursor.backfill;
          yield { events: [], cursor: structuredClone(cursor) as unknown as Cursor };
          continue;
        }
        if (now.uidNext <= saved.uidNext) {
          if (now.highestModseq !== saved.highestModseq) {
            cursor.folders[folder] = { ...saved, ...(now.highestModseq !== undefined ? { highestModseq: now.highestModseq } : {}) };
          }
          continue;
        }
        const lock = await this.client.getMailboxLock(folder);
        mark(this.grant.id, 'pass.lock');
        try {
          for await (const { to, events } of this.ranges(folder, now.uidValidity, saved.uidNext, now.uidNext, false, null, signal)) {
            cursor.folders[folder] = { ...now, uidNext: to + 1 };
            yield { events, cursor: structuredClone(cursor) as unknown as Cursor };
          }
        } finally {
          lock.release();
        }
      }
      yield* this.backfill(cursor, signal);
      // IDLE watches the selected mailbox: leave INBOX selected.
      if (this.client.mailbox && this.client.mailbox.path !== INBOX) await this.client.mailboxOpen(INBOX);
    } catch (err) {
      throw classifyImapError(err, this.settings);
    } finally {
      mark(this.grant.id, 'pass.end');
      this.inPass = false;
      signal.removeEventListener('abort', drop);
    }
  }

  private async *backfill(cursor: ImapCursor, signal: AbortSignal): AsyncIterable<ChangeBatch> {
    const b = cursor.backfill;
    if (!b || b.nextUid >= b.endUid) return;
    const lock = await this.client.getMailboxLock(b.folder);
    mark(this.grant.id, 'pass.lock');
    const check = new NewMailCheck((f) => this.freshStatus(f), structuredClone(cursor.folders), this.folders, backfillPass.checkMs);
    try {
      check.start();
      const passEnd = Math.min(b.endUid, b.nextUid + backfillPass.maxUids);
      for await (const { to, events } of this.ranges(b.folder, b.uidValidity, b.nextUid, passEnd, true, b.since, signal, () => !check.waiting)) {
        b.nextUid = to + 1;
        b.done = Math.min(b.total, b.done + events.length);
        const complete = b.nextUid >= b.endUid;
        if (complete) b.done = b.total;
        yield {
          events,
          cursor: structuredClone(cursor) as unknown as Cursor,
          progress: { backfill: { status: complete ? 'done' : 'running', done: b.done, total: b.total, since: b.since } },
        };
      }
      if (b.nextUid < b.endUid && !signal.aborted) {
        mark(this.grant.id, 'pass.hint');
        this.hint?.('backfill continues');
      }
    } finally {
      check.stop();
      lock.release();
    }
  }

  /**
   * UIDs [from, end) in chunks, as a pipeline over the one connection: as soon as a chunk's
   * metadata is back and its body FETCHes are queued, the next chunk's metadata FETCH is queued
   * behind them (up to LOOKAHEAD chunks ahead of the consumer), and each chunk's events are
   * built as soon as its bodies arrive. The server therefore always has the next command, and
   * this process builds events while the engine waits on the database for the previous batch;
   * chunks are still yielded strictly in UID order. `more` is asked before each chunk is queued:
   * once it says no, the chunks already queued are still yielded, and nothing after them.
   */
  private async *ranges(
    folder: string,
    uidValidity: string,
    from: number,
    end: number,
    historic: boolean,
    since: number | null,
    signal: AbortSignal,
    more: () => boolean = () => true,
  ): AsyncIterable<{ to: number; events: NewEvent[] }> {
    const chunks: [number, number][] = [];
    for (let f = from; f < end; f += CHUNK) chunks.push([f, Math.min(f + CHUNK - 1, end - 1)]);
    const useBulk = end - from >= bulkReader.minUids;
    if (useBulk) mark(this.grant.id, 'bulk.open');
    const bulk = useBulk ? await this.bulkOpener.open(folder, uidValidity, signal) : null;
    if (useBulk) mark(this.grant.id, 'bulk.ready');
    const drop = () => bulk?.close();
    signal.addEventListener('abort', drop, { once: true });
    const fetched: Promise<NewEvent[]>[] = [];
    /** Chunks whose every command is queued on the connection. */
    let queued = 0;
    /** Index of the chunk the consumer is on. */
    let current = 0;
    const startNext = () => {
      const i = fetched.length;
      if (i >= chunks.length || i > queued || i > current + pipeline.lookahead || signal.aborted || !more()) return;
      const [a, b] = chunks[i]!;
      const p = this.fetchChunk(bulk, folder, uidValidity, `${a}:${b}`, historic, since, () => {
        queued++;
        startNext();
      });
      p.catch(() => undefined); // awaited below, unless the consumer stops first
      fetched.push(p);
    };
    try {
      startNext();
      for (let i = 0; i < chunks.length && !signal.aborted; i++) {
        current = i;
        startNext();
        // Not queued when it was the consumer's turn: `more` said stop (the chunk before it was fully queued, or it would have thrown).
        const next = fetched[i];
        if (!next) break;
        const events = await next;
        mark(this.grant.id, 'chunk.yield', chunks[i]![0]);
        yield { to: chunks[i]![1], events };
        mark(this.grant.id, 'chunk.resume', chunks[i]![0]);
      }
    } finally {
      signal.removeEventListener('abort', drop);
      // LOGOUT goes behind whatever is still queued on it; nobody waits for it.
      void bulk?.logout();
    }
  }

  /**
   * One chunk off the wire: ENVELOPE, BODYSTRUCTURE, FLAGS and the References header in one
   * command, then only the chosen text part of each message (grouped by section, so a few
   * commands per chunk), capped in size. Attachments are never downloaded. `queued` runs once
   * this chunk's last command is queued, so the next chunk can queue behind it. With a bulk
   * connection the chunk is read there first; any failure of it reads the chunk again through
   * imapflow, so the bulk reader can change how fast a chunk comes, never what it holds.
   */
  private async fetchChunk(bulk: LeanImapConnection | null, folder: string, uidValidity: string, range: string, historic: boolean, since: number | null, queued: () => void): Promise<NewEvent[]> {
    let told = false;
    const once = () => {
      if (told) return;
      told = true;
      queued();
    };
    if (bulk?.usable) {
      const lean: ChunkSource = { meta: (r) => bulk.fetchMeta(r), bodies: (uids, section, cap) => bulk.fetchBodies(uidSet(uids), section, cap) };
      try {
        return await this.readChunk(lean, folder, uidValidity, range, historic, since, once);
      } catch (err) {
        // A refused command or a row this reader leaves to imapflow: the bulk connection is still in step.
        if (!(err instanceof NotLeanError || err instanceof ImapCommandError)) bulk.close();
        this.usable();
        this.bulkOpener.failed(err, folder, range);
      }
    }
    return this.readChunk(this.flowSource(folder), folder, uidValidity, range, historic, since, once);
  }

  private async readChunk(source: ChunkSource, folder: string, uidValidity: string, range: string, historic: boolean, since: number | null, queued: () => void): Promise<NewEvent[]> {
    let metas: FetchedMessage[];
    const first = parseInt(range, 10);
    mark(this.grant.id, 'chunk.meta-queued', first);
    try {
      metas = await source.meta(range);
      mark(this.grant.id, 'chunk.meta', first);
    } catch (err) {
      queued();
      throw err;
    }
    if (since !== null) metas = metas.filter((m) => !(m.internalDate instanceof Date) || m.internalDate.getTime() / 1000 >= since);
    const choices = new Map<number, BodyPartChoice | null>();
    const groups = new Map<string, { section: string; cap: number | null; uids: number[] }>();
    for (const m of metas) {
      let choice: BodyPartChoice | null = null;
      try {
        choice = pickBodyPart(m.bodyStructure);
      } catch {
        choice = null;
      }
      choices.set(m.uid, choice);
      if (!choice) continue;
      const cap = choice.size > BODY_FETCH_CAP ? SNIPPET_FETCH_BYTES : null;
      const key = `${choice.section}|${cap ?? ''}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { section: choice.section, cap, uids: [] }));
      g.uids.push(m.uid);
    }
    const bodies = new Map<number, Buffer>();
    // Every group's FETCH is queued at once (sent in order), then the next chunk's.
    const parts = [...groups.values()].map((g) =>
      source.bodies(g.uids, g.section, g.cap).then((got) => {
        for (const [uid, buf] of got) bodies.set(uid, buf);
      }),
    );
    // The first failure decides; the others must not surface as unhandled rejections.
    for (const p of parts) p.catch(() => undefined);
    queued();
    await Promise.all(parts);
    mark(this.grant.id, 'chunk.bodies', first);
    const events = this.buildEvents(folder, uidValidity, historic, { metas, choices, bodies });
    mark(this.grant.id, 'chunk.built', first);
    return events;
  }

  /** A fetched chunk → its events, in UID order (pure CPU). */
  private buildEvents(folder: string, uidValidity: string, historic: boolean, raw: RawChunk): NewEvent[] {
    const mctx: MessageContext = { applicationId: this.grant.applicationId, grantId: this.grant.id, folder, uidValidity, historic, now: this.ctx.now };
    const events: NewEvent[] = [];
    for (const m of raw.metas) {
      const choice = raw.choices.get(m.uid) ?? null;
      try {
        events.push(toMessageEvent(m, choice, raw.bodies.get(m.uid), mctx));
      } catch (err) {
        this.ctx.logger.warn({ folder, uid: m.uid, err: (err as Error).message }, 'could not build the message fully; announcing headers only');
        events.push(toMessageEvent({ uid: m.uid, flags: m.flags, internalDate: m.internalDate }, null, undefined, mctx));
      }
    }
    return events;
  }

  /** Metadata of a range; when the server or parser chokes on one message, fall back to one at a time. */
  private async fetchMeta(range: string): Promise<FetchedMessage[]> {
    try {
      return (await this.client.fetchAll(range, FETCH_META, { uid: true })).map(asFetched);
    } catch (err) {
      this.usable();
      this.ctx.logger.warn({ range, err: (err as Error).message }, 'metadata fetch failed; retrying message by message');
    }
    const uids = ((await this.client.search({ uid: range }, { uid: true })) || []).sort((a, b) => a - b);
    const out: FetchedMessage[] = [];
    for (const uid of uids) {
      try {
        const rows = await this.client.fetchAll(String(uid), FETCH_META, { uid: true });
        out.push(...rows.map(asFetched));
      } catch (err) {
        this.usable();
        this.ctx.logger.warn({ uid, err: (err as Error).message }, 'message metadata unreadable; announcing what is known');
        const flags = await this.client.fetchAll(String(uid), { uid: true, flags: true, internalDate: true }, { uid: true }).catch(() => []);
        out.push(flags[0] ? asFetched(flags[0]) : { uid });
      }
    }
    return out;
  }

  watch(onHint: (reason: string) => void): Promise<() => Promise<void>> {
    this.hint = onHint;
    return watchInbox(this.client, onHint, { busy: () => this.inPass });
  }

  async close(): Promise<void> {
    this.bulkOpener.discard();
    // LOGOUT politely, but never wait on a server that does not answer.
    const hardClose = setTimeout(() => this.client.close(), 5_000);
    try {
      if (this.client.usable) await this.client.logout();
    } catch {
      /* already gone */
    } finally {
      clearTimeout(hardClose);
      this.client.close();
    }
  }
}

function asFetched(m: FetchMessageObject): FetchedMessage {
  return { uid: m.uid, flags: m.flags, envelope: m.envelope, bodyStructure: m.bodyStructure, internalDate: m.internalDate, headers: m.headers };
}
