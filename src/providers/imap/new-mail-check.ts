import type { FolderCursor } from './sync.js';

/**
 * Watches for new mail while a long backfill pass holds the connection (ADR 0512). During a pass
 * the mailbox lock keeps imapflow out of IDLE and the watcher's polls stand aside, so nothing
 * would notice new mail until the pass ended. Every `everyMs` this runs STATUS on each tracked
 * folder (one round of commands at a time) and compares it with the position the pass started
 * from; new UIDs or a new UIDVALIDITY anywhere — or a failed STATUS on INBOX — sets `waiting`,
 * and the backfill stops queuing chunks so the realtime check runs next. Other folders that fail
 * (deleted, renamed) are the realtime pass's to report, as they are now.
 */
export class NewMailCheck {
  private found = false;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly status: (folder: string) => Promise<FolderCursor>,
    private readonly known: Readonly<Record<string, FolderCursor>>,
    private readonly folders: readonly string[],
    private readonly everyMs: number,
  ) {}

  /** New mail (or something the realtime pass must look at) was seen since the pass started. */
  get waiting(): boolean {
    return this.found;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    // Not finite: never checks (benches measuring the pass without it).
    if (this.stopped || this.found || !Number.isFinite(this.everyMs)) return;
    this.timer = setTimeout(() => void this.round().finally(() => this.schedule()), this.everyMs);
  }

  private async round(): Promise<void> {
    for (const folder of this.folders) {
      if (this.stopped || this.found) return;
      const saved = this.known[folder];
      let now: FolderCursor;
      try {
        now = await this.status(folder);
      } catch {
        // INBOX unreadable: end the pass, the next one reports it; another folder: the realtime pass skips it with a warning.
        if (folder === 'INBOX') this.found = true;
        continue;
      }
      if (!saved || now.uidValidity !== saved.uidValidity || now.uidNext > saved.uidNext) this.found = true;
    }
  }
}
