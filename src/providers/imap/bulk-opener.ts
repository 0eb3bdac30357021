import type { ProviderContext } from '../provider.js';
import { classifyImapError } from './client.js';
import { LeanImapConnection } from './lean-connection.js';
import type { ImapSettings } from './settings.js';
import { BODY_FETCH_CAP } from './to-events.js';
import { mark } from './trace.js';

/** After the bulk connection could not be opened, the session does not try again for this long. */
const BULK_RETRY_MS = 10 * 60_000;
/** A connection opened ahead (`prepare`) that no run took within this long is logged out. */
const EARLY_UNUSED_MS = 30_000;

type Opened = { conn: LeanImapConnection; uidValidity: string } | null;

/**
 * One session's bulk-reader connections (ADR 0511): opened for a run of chunks, never while a
 * failed open cools down, and used only while the folder's UIDVALIDITY is the one the cursor
 * names. `prepare` starts an open ahead of the run that will want it (ADR 0514: a new grant's
 * backfill, while its baseline runs), so the run does not wait for connect, LOGIN and EXAMINE.
 * A connection opened ahead examined the folder before the run's range was fixed, so the run
 * first sends it a NOOP: mail that arrived since is then in its view and no FETCH row is missing.
 */
export class BulkOpener {
  /** No bulk connection before this time (it failed to open). */
  private retryAt = 0;
  /** The first failure is a warning, later ones debug lines. */
  private warned = false;
  private early: { folder: string; opened: Promise<Opened>; timer: NodeJS.Timeout } | null = null;

  constructor(
    private readonly settings: ImapSettings,
    private readonly ctx: ProviderContext,
    private readonly grantId: string,
  ) {}

  /** Starts opening a connection on `folder` for the next run on it (a no-op when one is opening or opening is cooling down). */
  prepare(folder: string): void {
    if (this.early || !this.mayOpen(folder)) return;
    const opened = this.start(folder);
    const timer = setTimeout(() => this.discard(), EARLY_UNUSED_MS);
    timer.unref();
    this.early = { folder, opened, timer };
  }

  /** Logs out a connection opened ahead that no run took. */
  discard(): void {
    const e = this.early;
    if (!e) return;
    this.early = null;
    clearTimeout(e.timer);
    void e.opened.then((o) => o?.conn.logout());
  }

  /** The connection for one run on `folder`, or null (the run then reads through imapflow). */
  async open(folder: string, uidValidity: string, signal: AbortSignal): Promise<LeanImapConnection | null> {
    const early = this.early?.folder === folder ? this.early : null;
    if (early) {
      this.early = null;
      clearTimeout(early.timer);
    } else if (signal.aborted || !this.mayOpen(folder)) {
      return null;
    }
    const opened = await (early ? early.opened : this.start(folder));
    if (!opened) return null;
    const { conn, uidValidity: seen } = opened;
    if (signal.aborted) {
      conn.close();
      return null;
    }
    if (seen !== uidValidity) {
      void conn.logout();
      this.failed(new Error(`UIDVALIDITY of ${folder} is ${seen}, the cursor has ${uidValidity}`), folder);
      return null;
    }
    if (early) {
      try {
        await conn.command('NOOP');
      } catch (err) {
        conn.close();
        this.failed(err, folder);
        return null;
      }
    }
    return conn;
  }

  /** Logged once per session at warn (no settings, no credentials: only what failed). */
  failed(err: unknown, folder: string, range?: string): void {
    const fields = { folder, ...(range ? { range } : {}), err: classifyImapError(err, this.settings).message };
    if (this.warned) return this.ctx.logger.debug(fields, 'bulk reader failed; reading through imapflow');
    this.warned = true;
    this.ctx.logger.warn(fields, 'bulk reader failed; reading through imapflow (further failures of this session are logged at debug)');
  }

  private mayOpen(folder: string): boolean {
    return Date.now() >= this.retryAt && LeanImapConnection.canOpen(folder);
  }

  private async start(folder: string): Promise<Opened> {
    try {
      const outbound = this.ctx.outbound ? { outbound: this.ctx.outbound } : {};
      return await LeanImapConnection.open(this.settings, folder, { logger: this.ctx.logger, timeoutMs: 10_000, ...outbound }, { maxLiteral: 2 * BODY_FETCH_CAP, idleTimeoutMs: 60_000 }, (step) => mark(this.grantId, `bulk.${step}`));
    } catch (err) {
      this.retryAt = Date.now() + BULK_RETRY_MS;
      this.failed(err, folder);
      return null;
    }
  }
}
