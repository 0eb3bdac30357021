import type { AppContext } from '../context.js';
import { promises as dns } from 'node:dns';
import { ForbiddenDestinationError, outboundGuard, resolveAllowed, type LookupAll } from '../domain/net.js';
import { expireGrant } from '../grants/lifecycle.js';
import { ProviderError, type ChangeBatch, type Cursor, type ProviderContext, type ProviderSource, type ProviderSession, type TokenErrorClass } from '../providers/provider.js';
import { getProvider } from '../providers/registry.js';
import type { GrantRow } from '../store/database.js';
import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { grantHandle } from './handle.js';
import { encodeEventRows, type EncodedRows } from '../event-log/append.js';
import { commitBatch, GrantGoneError, LeaseLostError, underLease, type HeldLease, type SyncState } from './outbox.js';

export interface SyncerOptions {
  /** Interval of the fallback pass when no push arrives (ctx.config.fallbackSyncMs). */
  fallbackSyncMs: number;
  backoff: BackoffPolicy;
  /** Consecutive reauth-class failures before the grant is expired (one failure is not proof)… */
  reauthFailuresBeforeExpiry: number;
  /** …spanning at least this long, so a mail server briefly refusing logins does not expire grants. */
  reauthWindowMs: number;
  /**
   * Deadline of every provider call (open, baseline, one batch of changes, close): past it the
   * pass's signal aborts (a provider drops its connection on abort) and the pass fails as
   * transient, so one hung mailbox never holds its syncer, nor a stop, for ever.
   */
  callTimeoutMs: number;
}

/** Thrown when a provider call outlives SyncerOptions.callTimeoutMs. */
export class ProviderCallTimeout extends ProviderError {
  constructor(what: string, ms: number) {
    super('transient', `${what} did not finish within ${ms} ms; dropping the connection and retrying`);
  }
}

/** How long a stop waits for an abandoned open to land and be closed. */
const OPEN_SETTLE_MS = 10_000;

const lookupAll: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });

export type SyncerExit = 'stopped' | 'lease_lost' | 'grant_gone' | 'expired';

type Ctx = Pick<AppContext, 'store' | 'repos' | 'logger' | 'metrics' | 'now' | 'config'>;

/**
 * Syncs one grant while this process holds its lease: opens the provider session once and keeps
 * it (one connection per grant), runs a pass on start, on every push hint and every fallback
 * interval, and backs off with jitter when the provider fails. Everything that can go wrong is
 * caught here, so a failing grant never disturbs the others.
 */
export class GrantSyncer {
  private session: ProviderSession | null = null;
  private stopWatch: (() => Promise<void>) | null = null;
  private opening: Promise<unknown> | null = null;
  private pending: string | null = null;
  private wakeUp: (() => void) | null = null;
  private stopping = false;
  private backingOff = false;
  private readonly abort = new AbortController();
  private failures = 0;
  private reauthFailures = 0;
  private firstReauthAt = 0;
  /** Resolves with the reason the syncer ended. */
  readonly done: Promise<SyncerExit>;

  constructor(
    private readonly ctx: Ctx,
    readonly grantId: string,
    readonly lease: HeldLease,
    private readonly definitionOf: (provider: string) => ProviderSource | undefined,
    private readonly options: SyncerOptions,
    firstPassDelayMs: number,
    private readonly random: () => number = Math.random,
  ) {
    this.pending = 'start';
    this.done = this.loop(firstPassDelayMs);
  }

  /** A push hint: run a pass as soon as possible (ignored while backing off from failures). */
  wake(reason: string): void {
    this.pending ??= reason;
    if (!this.backingOff) this.wakeUp?.();
  }

  /** Stops after the current batch commits, closing the provider session. */
  async stop(): Promise<SyncerExit> {
    this.stopping = true;
    this.abort.abort();
    this.wakeUp?.();
    return this.done;
  }

  /**
   * Runs one provider call under the deadline. On timeout `onTimeout` (the pass's abort) runs
   * and the call is abandoned: its promise may still settle later, and is ignored then.
   */
  private deadline<T>(what: string, call: Promise<T>, onTimeout: () => void = () => undefined): Promise<T> {
    const ms = this.options.callTimeoutMs;
    call.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    let onStop = () => undefined as void;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        onTimeout();
        reject(new ProviderCallTimeout(what, ms));
      }, ms);
      // A stop does not wait for a call that ignores its signal.
      onStop = () => reject(new ProviderError('transient', `${what} abandoned: the syncer is stopping`));
      this.abort.signal.addEventListener('abort', onStop, { once: true });
    });
    return Promise.race([call, expired]).finally(() => {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', onStop);
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || (this.pending !== null && !this.backingOff)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    }).then(() => {
      this.wakeUp = null;
    });
  }

  private async loop(firstDelay: number): Promise<SyncerExit> {
    let delay = firstDelay;
    let exit: SyncerExit = 'stopped';
    // The first pass waits out its stagger even though `pending` is set.
    this.backingOff = firstDelay > 0;
    while (!this.stopping) {
      await this.sleep(delay);
      this.backingOff = false;
      if (this.stopping) break;
      const reason = this.pending ?? 'fallback';
      this.pending = null;
      try {
        await this.pass(reason);
        this.failures = 0;
        this.reauthFailures = 0;
        delay = this.options.fallbackSyncMs;
      } catch (err) {
        const outcome = await this.onFailure(err);
        if (typeof outcome === 'string') {
          exit = outcome;
          break;
        }
        delay = outcome;
        this.backingOff = true;
      }
    }
    await this.closeSession();
    return exit;
  }

  private async pass(reason: string): Promise<void> {
    const started = Date.now();
    const grant = await this.ctx.repos.grants.getById(this.grantId);
    if (!grant || grant.status !== 'valid') throw new GrantGoneError(this.grantId);
    // One controller per pass: a stop or a call deadline aborts it; the provider drops its connection.
    const passAbort = new AbortController();
    const abortPass = () => passAbort.abort();
    this.abort.signal.addEventListener('abort', abortPass, { once: true });
    try {
      await this.runPass(grant, reason, started, passAbort);
    } finally {
      this.abort.signal.removeEventListener('abort', abortPass);
    }
  }

  private async runPass(grant: GrantRow, reason: string, started: number, passAbort: AbortController): Promise<void> {
    const abortPass = () => passAbort.abort();
    const session = this.session ?? (await this.deadline('opening the provider session', this.track(this.open(grant, passAbort.signal)), abortPass));
    const ref = { id: grant.id, applicationId: grant.application_id };
    const state = grant.sync_state as SyncState;
    let cursor: Cursor | undefined = state.cursor;
    if (!cursor) {
      cursor = await this.deadline('the baseline', session.baseline(), abortPass);
      await commitBatch(this.ctx.store.db, this.lease, ref, { events: [], cursor });
      this.ctx.logger.info({ grant_id: grant.id }, 'sync baseline saved: new mail is announced from now on');
    }
    let appended = 0;
    // A reset restarts the iteration from the new baseline; more than a few in one pass means the provider is confused.
    for (let round = 0; round < 3 && !this.stopping; round++) {
      let reset: string | null = null;
      const batches = session.changes(cursor, passAbort.signal, reason)[Symbol.asyncIterator]();
      const readAhead = session.readAhead === true;
      // Each batch is encoded for the INSERT as soon as it arrives: with read-ahead, while the previous one commits.
      const request = () => {
        const p = this.deadline('a batch of changes', batches.next().then(encoded), abortPass);
        p.catch(() => undefined); // a read-ahead abandoned by a failed commit
        return p;
      };
      let pending = request();
      try {
        for (;;) {
          const next = await pending;
          if (next.done) break;
          const batch = next.value;
          if ('reset' in batch) {
            reset = batch.reset;
            break;
          }
          if (readAhead) pending = request();
          const added = await commitBatch(this.ctx.store.db, this.lease, ref, batch, next.rows);
          for (const e of added) this.ctx.metrics.eventsAppended.inc({ type: e.type });
          appended += added.length;
          cursor = batch.cursor;
          if (this.stopping) return;
          if (!readAhead) pending = request();
        }
      } finally {
        // Let the provider release what it holds (mailbox locks); bounded like every call.
        await this.deadline('ending the changes iteration', Promise.resolve(batches.return?.()), abortPass).catch(() => undefined);
      }
      if (reset === null) break;
      this.ctx.logger.warn({ grant_id: grant.id, reason: reset }, 'provider lost our position: re-baselining without announcing old mail');
      cursor = await this.deadline('the baseline', session.baseline(), abortPass);
      await commitBatch(this.ctx.store.db, this.lease, ref, { events: [], cursor });
    }
    this.ctx.logger.debug({ grant_id: grant.id, reason, appended, ms: Date.now() - started }, 'sync pass done');
  }

  private async open(grant: GrantRow, signal: AbortSignal): Promise<ProviderSession> {
    const definition = this.definitionOf(grant.provider);
    if (!definition) throw new GrantGoneError(grant.id);
    const integration = await this.ctx.repos.integrations.getById(grant.integration_id);
    if (!integration) throw new GrantGoneError(grant.id);
    await this.checkHost(grant, integration.settings);
    const handle = grantHandle(this.ctx.repos, grant, integration);
    const pctx: ProviderContext = {
      logger: this.ctx.logger.child({ grant_id: grant.id, provider: grant.provider }),
      now: this.ctx.now,
      fetch: globalThis.fetch,
      urls: { ...this.ctx.config.providers },
      outbound: outboundGuard(lookupAll, this.ctx.config.allowPrivateDestinations),
      // Fenced like the events: a call abandoned by a stop may finish after the grant moved on.
      saveCredentials: async (credentials) => {
        await underLease(this.ctx.store.db, this.lease, (tx) => this.ctx.repos.grants.update(grant.id, { credentials }, tx));
      },
    };
    const session = await definition.open(handle, pctx);
    if (signal.aborted) {
      // Opened after its deadline (or a stop): nobody will use it.
      await session.close().catch(() => undefined);
      throw new ProviderCallTimeout('opening the provider session', this.options.callTimeoutMs);
    }
    this.session = session;
    if (session.watch) {
      try {
        this.stopWatch = await session.watch((reason) => this.wake(reason));
      } catch (err) {
        // Push is only a hint: without it the fallback pass still finds the changes.
        this.ctx.logger.warn({ grant_id: grant.id, err: describe(err) }, 'could not start push watch; relying on fallback passes');
      }
    }
    return session;
  }

  /**
   * A password-auth grant (IMAP) names its own server: custom auth checked the host once, but
   * DNS may answer differently on a later connect (rebinding to a private address). The outbound
   * guard re-checks it before every connection the engine opens.
   */
  private async checkHost(grant: GrantRow, integrationSettings: Record<string, unknown>): Promise<void> {
    const auth = getProvider(grant.provider)?.auth;
    if (auth?.kind !== 'password') return;
    const host = auth.hostOf(grant.settings, integrationSettings);
    if (!host) return;
    try {
      await resolveAllowed(host, lookupAll, this.ctx.config.allowPrivateDestinations);
    } catch (err) {
      if (err instanceof ForbiddenDestinationError) throw new ProviderError('transient', `refusing to connect: ${err.message}`);
      throw err;
    }
  }

  /** Remembers an open in flight: a stop abandons it but still waits for it (see closeSession). */
  private track<T>(opening: Promise<T>): Promise<T> {
    this.opening = opening;
    const clear = () => {
      if (this.opening === opening) this.opening = null;
    };
    opening.then(clear, clear);
    return opening;
  }

  private async closeSession(): Promise<void> {
    // A stop abandons an open still in flight, but the connection it may yet make must be closed
    // before the lease goes back: the next holder's login would otherwise meet ours (servers
    // allowing one session per user refuse it). open() closes a session that lands after an
    // abort; wait for that, bounded, so one hung login cannot hold a stop for long.
    if (this.opening) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.opening.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, OPEN_SETTLE_MS)))]);
      clearTimeout(timer);
    }
    const { session, stopWatch } = this;
    this.session = null;
    this.stopWatch = null;
    if (stopWatch) await this.deadline('stopping the push watch', stopWatch()).catch(() => undefined);
    if (session) await this.deadline('closing the provider session', session.close()).catch(() => undefined);
  }

  /** Returns the delay before the next try, or why the syncer must end. */
  private async onFailure(err: unknown): Promise<number | SyncerExit> {
    if (err instanceof LeaseLostError) return 'lease_lost';
    if (err instanceof GrantGoneError) return 'grant_gone';
    if (this.stopping) return 'stopped';
    // The connection may be half-dead; the next try starts from a fresh session.
    await this.closeSession();
    const kind = this.classify(err);
    this.failures++;
    const log = { grant_id: this.grantId, kind, failures: this.failures, err: describe(err) };
    if (kind === 'reauth') {
      if (this.reauthFailures++ === 0) this.firstReauthAt = Date.now();
      // An unambiguous refusal (revoked user) needs no repeats over time; an ambiguous one does.
      const unambiguous = err instanceof ProviderError && err.unambiguous;
      if (this.reauthFailures >= this.options.reauthFailuresBeforeExpiry && (unambiguous || Date.now() - this.firstReauthAt >= this.options.reauthWindowMs)) {
        this.ctx.logger.warn(log, 'credentials rejected repeatedly: expiring the grant');
        await expireGrant(this.ctx, this.grantId, describe(err)).catch((e: unknown) => this.ctx.logger.error({ grant_id: this.grantId, err: describe(e) }, 'could not expire grant'));
        return 'expired';
      }
    } else {
      this.reauthFailures = 0;
    }
    if (kind === 'app_misconfigured') {
      const grant = await this.ctx.repos.grants.getById(this.grantId).catch(() => undefined);
      if (grant) await this.ctx.repos.integrations.setError(grant.integration_id, describe(err)).catch(() => undefined);
    }
    this.ctx.logger.warn(log, 'sync pass failed; backing off');
    const retryAfter = err instanceof ProviderError ? err.retryAfterMs : undefined;
    return Math.max(retryAfter ?? 0, backoffDelay(this.failures, this.options.backoff, this.random));
  }

  private classify(err: unknown): TokenErrorClass | 'throttled' | 'not_found' {
    if (err instanceof ProviderError) return err.kind;
    return 'transient';
  }
}

/** A step of a changes() iteration with its events already encoded for the INSERT. */
function encoded(r: IteratorResult<ChangeBatch>): IteratorResult<ChangeBatch> & { rows?: EncodedRows } {
  if (r.done || 'reset' in r.value) return r;
  return { ...r, rows: encodeEventRows(r.value.events) };
}

/** A one-line description of an error for logs and grants.error (never includes credentials). */
export function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 500);
  return String(err).slice(0, 500);
}
