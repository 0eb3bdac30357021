import type { AppContext } from '../context.js';
import type { ProviderSource } from '../providers/provider.js';
import { DEFAULT_BACKOFF, spread, type BackoffPolicy } from './backoff.js';
import { describe, GrantSyncer, type SyncerExit } from './grant-syncer.js';
import { dropHint, listenForHints, purgeStaleHints, registerLocalSyncer, takeHints } from './hints.js';
import { freeGrants, grantLeaseName, liveWorkers, renewGrantLeases, syncableGrants, WORKER_LEASE_PREFIX } from './leases.js';

export interface SchedulerOptions {
  /** Grant and worker lease lifetime: a dead worker's grants move within about this long. */
  leaseTtlMs: number;
  /** Period of lease renewal, rebalancing and claiming (well under leaseTtlMs). */
  tickMs: number;
  /** Poll of the sync_hints table (LISTEN/NOTIFY makes PostgreSQL faster than this). */
  hintPollMs: number;
  fallbackSyncMs: number;
  backoff: BackoffPolicy;
  reauthFailuresBeforeExpiry: number;
  reauthWindowMs: number;
  /** First passes of newly claimed grants are spread over up to this long (no thundering herd of logins). */
  startSpreadMs: number;
  /** Claimed per tick at most, so that a worker joining a large deployment ramps up. */
  maxClaimsPerTick: number;
  /** Deadline of each provider call (SyncerOptions.callTimeoutMs). */
  callTimeoutMs: number;
}

export function defaultSchedulerOptions(ctx: Pick<AppContext, 'config'>): SchedulerOptions {
  return {
    leaseTtlMs: 10_000,
    tickMs: 2_000,
    hintPollMs: 1_000,
    fallbackSyncMs: ctx.config.fallbackSyncMs,
    backoff: DEFAULT_BACKOFF,
    reauthFailuresBeforeExpiry: 3,
    reauthWindowMs: 10 * 60_000,
    startSpreadMs: 5_000,
    maxClaimsPerTick: 500,
    callTimeoutMs: 120_000,
  };
}

type Ctx = Pick<AppContext, 'store' | 'repos' | 'logger' | 'metrics' | 'now' | 'config'>;

/**
 * One per worker process. Every tick it renews its leases (one statement), counts live workers,
 * gives back grants above its fair share, and claims free or expired grant leases up to that
 * share, starting a GrantSyncer for each. Grants therefore spread evenly across workers and
 * move to the survivors within one lease lifetime when a worker dies.
 */
export class SyncScheduler {
  private readonly syncers = new Map<string, { syncer: GrantSyncer; unregister: () => void }>();
  /**
   * Syncers being stopped, by grant. Stopping happens beside the tick, never inside it: the tick
   * renews every lease of this worker, and one session slow to close must not let the others
   * expire. Their leases are kept (renewed) until the stop finishes, then given back.
   */
  private readonly stopping = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private hintTimer: NodeJS.Timeout | undefined;
  private stopListening: (() => Promise<void>) | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private readonly providers: string[];

  constructor(
    private readonly ctx: Ctx,
    readonly holder: string,
    private readonly definitionOf: (provider: string) => ProviderSource | undefined,
    providerIds: readonly string[],
    private readonly options: SchedulerOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.providers = providerIds.filter((p) => definitionOf(p) !== undefined);
  }

  /** Grants this worker syncs right now. */
  held(): string[] {
    return [...this.syncers.keys()];
  }

  async start(): Promise<void> {
    if (this.ctx.store.kind === 'postgres' && this.ctx.store.connectionString) {
      this.stopListening = await listenForHints(this.ctx.store.connectionString, (id) => this.onNotified(id), this.ctx.logger);
    }
    await this.tick();
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick().finally(() => {
        this.ticking = null;
        if (!this.stopped) this.timer = setTimeout(loop, this.options.tickMs);
      });
    };
    this.timer = setTimeout(loop, this.options.tickMs);
    const pollHints = () => {
      if (this.stopped) return;
      void this.pollHints().finally(() => {
        if (!this.stopped) this.hintTimer = setTimeout(pollHints, this.options.hintPollMs);
      });
    };
    this.hintTimer = setTimeout(pollHints, this.options.hintPollMs);
  }

  /** Stops every syncer (each closes its session), then gives the leases back so others take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.hintTimer);
    await this.ticking;
    await this.stopListening?.();
    for (const id of this.held()) this.release(id);
    // Each stop is bounded by the syncer's call deadlines; what still hangs after that is abandoned.
    await Promise.all(this.stopping.values());
    await this.ctx.repos.leases.release(`${WORKER_LEASE_PREFIX}${this.holder}`, this.holder).catch(() => undefined);
  }

  /** One scheduling round; errors are logged and the next tick tries again. */
  async tick(): Promise<void> {
    try {
      await this.rebalance();
    } catch (err) {
      this.ctx.logger.error({ err: describe(err) }, 'sync scheduler tick failed');
    }
  }

  private async rebalance(): Promise<void> {
    const { db } = this.ctx.store;
    const { leaseTtlMs } = this.options;
    await this.ctx.repos.leases.acquire(`${WORKER_LEASE_PREFIX}${this.holder}`, this.holder, leaseTtlMs);
    const mine = await renewGrantLeases(db, this.holder, leaseTtlMs);
    // A syncer whose lease vanished or changed hands must stop at once; its commits are already fenced.
    for (const [grantId, { syncer }] of this.syncers) {
      if (mine.get(grantId) !== syncer.lease.token) this.stopSyncer(grantId, 'lease lost', false);
    }
    const syncable = new Set(await syncableGrants(db, this.providers));
    for (const grantId of this.held()) {
      if (!syncable.has(grantId)) this.release(grantId);
    }
    // Leases this process holds without a syncer (left by a crash of an earlier syncer): give them back.
    for (const grantId of mine.keys()) {
      if (!this.syncers.has(grantId) && !this.stopping.has(grantId)) await this.ctx.repos.leases.release(grantLeaseName(grantId), this.holder);
    }
    const share = Math.ceil(syncable.size / (await liveWorkers(db)));
    const excess = this.syncers.size - share;
    if (excess > 0) {
      const give = this.held().slice(-excess);
      this.ctx.logger.info({ count: give.length, share }, 'giving grants back to rebalance across workers');
      for (const id of give) this.release(id);
      return;
    }
    const want = Math.min(share - this.syncers.size, this.options.maxClaimsPerTick);
    if (want <= 0 || this.stopped) return;
    const candidates = (await freeGrants(db, this.providers, this.holder, want)).filter((id) => !this.stopping.has(id));
    // A few ms per grant claimed together, capped: 1,000 grants connect over startSpreadMs, one grant at once.
    const windowMs = Math.min(this.options.startSpreadMs, candidates.length * 10);
    const claimed: string[] = [];
    for (const grantId of candidates) {
      if (this.stopped) break;
      const lease = await this.ctx.repos.leases.acquire(grantLeaseName(grantId), this.holder, leaseTtlMs);
      if (!lease || lease.holder !== this.holder) continue;
      claimed.push(grantId);
      this.startSyncer(grantId, lease.token, spread(windowMs, this.random));
    }
    if (claimed.length) this.ctx.logger.info({ count: claimed.length, held: this.syncers.size, share }, 'claimed grants to sync');
  }

  private startSyncer(grantId: string, token: string, firstPassDelayMs: number): void {
    const syncer = new GrantSyncer(
      this.ctx,
      grantId,
      { name: grantLeaseName(grantId), holder: this.holder, token },
      this.definitionOf,
      {
        fallbackSyncMs: this.options.fallbackSyncMs,
        backoff: this.options.backoff,
        reauthFailuresBeforeExpiry: this.options.reauthFailuresBeforeExpiry,
        reauthWindowMs: this.options.reauthWindowMs,
        callTimeoutMs: this.options.callTimeoutMs,
      },
      firstPassDelayMs,
      this.random,
    );
    const unregister = registerLocalSyncer(grantId, (reason) => syncer.wake(reason));
    this.syncers.set(grantId, { syncer, unregister });
    void syncer.done.then((exit) => this.onSyncerExit(grantId, syncer, exit));
  }

  private async onSyncerExit(grantId: string, syncer: GrantSyncer, exit: SyncerExit): Promise<void> {
    const entry = this.syncers.get(grantId);
    if (entry?.syncer !== syncer) return;
    entry.unregister();
    this.syncers.delete(grantId);
    if (exit !== 'stopped') {
      this.ctx.logger.info({ grant_id: grantId, exit }, 'grant syncer ended');
      if (exit !== 'lease_lost') await this.ctx.repos.leases.release(grantLeaseName(grantId), this.holder).catch(() => undefined);
    }
  }

  /** Starts stopping a syncer in the background; with `giveBack`, its lease is released once it has stopped. */
  private stopSyncer(grantId: string, why: string, giveBack: boolean): void {
    const entry = this.syncers.get(grantId);
    if (!entry) return;
    entry.unregister();
    this.syncers.delete(grantId);
    this.ctx.logger.info({ grant_id: grantId, why }, 'stopping grant syncer');
    const done = entry.syncer
      .stop()
      .then(async () => {
        if (giveBack) await this.ctx.repos.leases.release(grantLeaseName(grantId), this.holder);
      })
      .catch((err: unknown) => this.ctx.logger.warn({ grant_id: grantId, err: describe(err) }, 'could not stop grant syncer cleanly'))
      .finally(() => this.stopping.delete(grantId));
    this.stopping.set(grantId, done);
  }

  private release(grantId: string): void {
    this.stopSyncer(grantId, 'released', true);
  }

  private onNotified(grantId: string): void {
    const entry = this.syncers.get(grantId);
    if (!entry) return;
    entry.syncer.wake('hint');
    void dropHint(this.ctx.store.db, grantId).catch(() => undefined);
  }

  private async pollHints(): Promise<void> {
    try {
      for (const h of await takeHints(this.ctx.store.db, this.holder)) this.syncers.get(h.grantId)?.syncer.wake(h.reason);
      if (this.random() < 0.01) await purgeStaleHints(this.ctx.store.db, 3_600_000);
    } catch (err) {
      this.ctx.logger.warn({ err: describe(err) }, 'could not read sync hints');
    }
  }
}
