import type { AppContext } from '../context.js';
import { watchChannels, type ChannelWatch } from '../event-log/notify.js';
import type { ProviderSource } from '../providers/provider.js';
import { DEFAULT_BACKOFF, spread, type BackoffPolicy } from './backoff.js';
import { describe, GrantSyncer, type SyncerExit } from './grant-syncer.js';
import { CLAIMABLE_CHANNEL, RoundQueue } from './claim-wake.js';
import { dropHint, HINT_CHANNEL, purgeStaleHints, registerLocalSyncer, takeHints } from './hints.js';
import { claimGrants, countSyncable, freeGrants, grantLeaseName, liveWorkers, renewGrantLeases, syncableGrants, WORKER_LEASE_PREFIX } from './leases.js';

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
  /**
   * Claim as soon as a grant becomes claimable (created, valid again, its lease or a worker's
   * given back) instead of at the next tick (claim-wake.ts, ADR 0513). Off: the tick alone, as
   * before; benches flip it to measure the difference.
   */
  wakeOnClaimable: boolean;
  /**
   * Take a claim round's leases in one statement (leases.ts `claimGrants`) instead of one
   * `acquire` per grant; off only for benches comparing the two (ADR 0515).
   */
  batchClaims: boolean;
}

/** Claim queries per round at most when other workers keep taking our candidates (each retry sees fewer free grants). */
const CLAIM_ATTEMPTS = 3;

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
    wakeOnClaimable: true,
    batchClaims: true,
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
  private watch: ChannelWatch | null = null;
  /** Ticks and claim rounds, one at a time. */
  private readonly rounds = new RoundQueue();
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
    await this.listen();
    await this.rounds.run(() => this.tick());
    const loop = () => {
      if (this.stopped) return;
      void this.rounds.run(() => this.tick()).finally(() => {
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
    await this.watch?.close();
    await this.rounds.idle();
    for (const id of this.held()) this.release(id);
    // Each stop is bounded by the syncer's call deadlines; what still hangs after that is abandoned.
    await Promise.all(this.stopping.values());
    await this.ctx.repos.leases.release(`${WORKER_LEASE_PREFIX}${this.holder}`, this.holder).catch(() => undefined);
  }

  /**
   * Push hints and claimable signals through one listening connection. Without it (listening
   * failed, or a database that cannot) the hint poll and the tick still do everything, later.
   */
  private async listen(): Promise<void> {
    const channels = this.options.wakeOnClaimable ? [HINT_CHANNEL, CLAIMABLE_CHANNEL] : [HINT_CHANNEL];
    const onError = (err: Error) => this.ctx.logger.warn({ err: err.message }, 'sync notifications interrupted; hint poll and tick cover until they are back');
    this.watch = await watchChannels(this.ctx.store, channels, { onError }).catch((err: unknown) => {
      this.ctx.logger.warn({ err: describe(err) }, 'cannot listen for sync notifications; hint poll and tick only');
      return null;
    });
    this.watch?.subscribe((channel, payload) => {
      if (this.stopped) return;
      if (channel === HINT_CHANNEL) this.onNotified(payload);
      // '*': the listener (re)connected and may have missed signals.
      else if (this.options.wakeOnClaimable) this.rounds.wake(() => this.claimRound());
    });
  }

  /** One scheduling round; errors are logged and the next tick tries again. */
  async tick(): Promise<void> {
    try {
      await this.claim(await this.maintain());
    } catch (err) {
      this.ctx.logger.error({ err: describe(err) }, 'sync scheduler tick failed');
    }
  }

  /**
   * A round between ticks, on a claimable signal: only the claim, which needs the number of
   * syncable grants and not the tick's lease upkeep (renewing every lease on every signal would
   * cost a worker with 1,000 grants an UPDATE of 1,000 rows per new grant anywhere).
   */
  private async claimRound(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.claim(await countSyncable(this.ctx.store.db, this.providers));
    } catch (err) {
      this.ctx.logger.warn({ err: describe(err) }, 'sync claim round failed; the tick will claim');
    }
  }

  /** The tick's upkeep: heartbeat, renew, stop what was lost or is no longer syncable. Returns the number of syncable grants. */
  private async maintain(): Promise<number> {
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
    return syncable.size;
  }

  /** Gives back grants above the fair share, or claims free ones up to it, their first passes spread. */
  private async claim(syncable: number): Promise<void> {
    const share = Math.ceil(syncable / (await liveWorkers(this.ctx.store.db)));
    const excess = this.syncers.size - share;
    if (excess > 0) {
      const give = this.held().slice(-excess);
      this.ctx.logger.info({ count: give.length, share }, 'giving grants back to rebalance across workers');
      for (const id of give) this.release(id);
      return;
    }
    const claimed: string[] = [];
    // Another worker may take a candidate between our query and our acquire. No signal follows
    // that (an acquire is not a release), so look again at once while we lost some and still
    // have room: otherwise the grant we would have taken instead waits for the next tick.
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS && !this.stopped; attempt++) {
      const want = Math.min(share - this.syncers.size, this.options.maxClaimsPerTick - claimed.length);
      if (want <= 0) break;
      const { won, lost } = this.options.batchClaims ? await this.claimAtOnce(want) : await this.claimOneByOne(want);
      // A few ms per grant claimed together, capped: 1,000 grants connect over startSpreadMs, one grant at once.
      const windowMs = Math.min(this.options.startSpreadMs, (won.size + lost) * 10);
      for (const [grantId, token] of won) {
        // Stopping while the claim ran: nobody will run these, so give them back at once.
        if (this.stopped) {
          await this.ctx.repos.leases.release(grantLeaseName(grantId), this.holder).catch(() => undefined);
          continue;
        }
        claimed.push(grantId);
        this.startSyncer(grantId, token, spread(windowMs, this.random));
      }
      if (lost === 0) break;
    }
    if (claimed.length) this.ctx.logger.info({ count: claimed.length, held: this.syncers.size, share }, 'claimed grants to sync');
  }

  /**
   * One statement for the round's leases (leases.ts `claimGrants`). A lease of ours that expired
   * while its syncer still runs (or stops) shows as free: those grants are left out, so that
   * syncer stays the only one.
   */
  private async claimAtOnce(want: number): Promise<{ won: Map<string, string>; lost: number }> {
    const busy = [...this.syncers.keys(), ...this.stopping.keys()];
    const { won, candidates } = await claimGrants(this.ctx.store.db, this.providers, this.holder, want, this.options.leaseTtlMs, busy);
    return { won, lost: candidates - won.size };
  }

  /** The claim as it was before claimGrants (`batchClaims: false`): the free grants, then one acquire each. */
  private async claimOneByOne(want: number): Promise<{ won: Map<string, string>; lost: number }> {
    const candidates = (await freeGrants(this.ctx.store.db, this.providers, this.holder, want)).filter((id) => !this.stopping.has(id) && !this.syncers.has(id));
    const won = new Map<string, string>();
    let lost = 0;
    for (const grantId of candidates) {
      if (this.stopped) break;
      const lease = await this.ctx.repos.leases.acquire(grantLeaseName(grantId), this.holder, this.options.leaseTtlMs);
      if (lease && lease.holder === this.holder) won.set(grantId, lease.token);
      else lost++;
    }
    return { won, lost };
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
