import { destinationContext, FatalError, RetryableError, type DestinationDefinition, type DestinationWriter } from '../destinations/destination.js';
import type { StoredEvent } from '../domain/event.js';
import { readAfterAsBytes } from '../event-log/read-bytes.js';
import { comparePositions, lagAfter, readAfter, type EventFilter, type LoggedEvent, type LogPosition, type ReadQuery, type ReadResult } from '../event-log/read.js';
import type { Lease } from '../store/repositories/leases.js';
import { asError, deliverLanes } from './deliver.js';
import { errorMessage, sleep, type EngineDeps } from './deps.js';
import { openSecrets } from './destination-config.js';
import { HoldRetrier, newHolds, type HoldReady } from './hold-retrier.js';
import { describeLoss, leaseState } from './lease-state.js';
import type { NewHold } from './holds.js';
import { planLanes } from './lanes.js';
import { retryDelay } from './retry.js';
import { deadLetterEvent, noDeltas, positionOf, RUNNABLE, streamFilter, streamLease, streamStore, type CounterDeltas, type StreamRow, type StreamStatus } from './stream-store.js';
import { Serial, Waker } from './serial.js';
import { WindowTally } from './tally.js';

/**
 * The destination as a whole failed, not one grant: every batch threw (the writer's way of saying
 * nothing was written), or nothing at all was written or refused while at least two different
 * grants failed. One grant failing alone is held, since that cannot tell a broken grant from a
 * broken destination and holding it costs the other grants nothing.
 */
function destinationFailed(t: WindowTally): boolean {
  if (t.batches === 0) return false;
  if (t.thrownBatches === t.batches) return true;
  return t.written.length === 0 && new Set(t.failed.map((f) => f.event.grantId)).size >= 2;
}

/** What the hold retrier sees of the runner's current state, plus the writer. */
interface RunnerReady extends HoldReady {
  open: OpenWriter;
}

interface OpenWriter {
  writer: DestinationWriter;
  def: DestinationDefinition;
  /** Identifies the destination settings the writer was created with. */
  key: string;
}

/** A page of the log read ahead of its turn: used only if the stream is still at `after` with the same filter and size. */
interface ReadAhead {
  after: LogPosition;
  key: string;
  /** Null when the read failed (the turn reads again). */
  result: Promise<ReadResult | null>;
}

const readKey = (f: EventFilter, limit: number) => `${limit}\u0000${JSON.stringify(f)}`;

const writerKey = (s: StreamRow) => `${s.destination_type}\u0000${JSON.stringify(s.destination_config)}\u0000${s.destination_secrets ?? ''}`;

/**
 * Delivers one stream while this process holds its lease: read a window after the offset,
 * write it in per-grant lanes, then (and only then) move the offset, fenced by the lease token.
 * Whole-batch failures follow the retry schedule; individually refused events become dead
 * letters. The runner ends when the stream is paused, failed or deleted, or the lease is lost.
 */
export class StreamRunner {
  private readonly abort = new AbortController();
  private readonly store;
  private renewTimer: NodeJS.Timeout | null = null;
  /** The renewal under way, if any: awaited before the lease is given back, so that it cannot take the lease again after the release. */
  private renewing: Promise<void> | null = null;
  private lostLease = false;
  /** The committed offset as this runner last saw it. */
  private offset: LogPosition = { txid: '0', seq: '0' };
  /** The stream and writer while the main loop delivers (null while the whole stream waits). */
  private ready: RunnerReady | null = null;
  private readonly lock = new Serial();
  /** Woken when the log grows for this stream's application (commit notifications). */
  private readonly newEvents = new Waker();
  private readonly holds: HoldRetrier;
  readonly done: Promise<void>;

  constructor(
    private readonly deps: EngineDeps,
    readonly streamId: string,
    private lease: Lease,
  ) {
    this.store = streamStore(deps.db);
    this.holds = new HoldRetrier(
      {
        deps,
        streamId,
        fence: () => this.fence,
        current: () => this.ready,
        offset: () => this.offset,
        lock: this.lock,
        write: (ready, events, attempt) => this.write(ready.stream, (ready as RunnerReady).open, events, attempt),
        bookkeep: async (tally, ms) => {
          await this.store.recordAttempts(tally.summary(ms, this.abort.signal.aborted));
          await this.store.addCounters(this.streamId, this.fence, tally.deltas);
          this.count(this.streamId, tally.deltas);
        },
        fatal: (stream, err) => this.onFailure(stream, err, noDeltas()),
        lost: () => this.loseLease(),
      },
      new Waker(),
    );
    this.done = this.run();
  }

  /** readAfter, with objects in the form the stream's destination takes them (DestinationDefinition.logObjects). */
  private readLog(open: OpenWriter, q: ReadQuery): Promise<ReadResult> {
    const pool = this.deps.pool;
    return open.def.logObjects === 'bytes' && pool ? readAfterAsBytes(this.deps.db, pool, q) : readAfter(this.deps.db, q);
  }

  private get fence() {
    return { holder: this.lease.holder, token: this.lease.token };
  }

  private get log() {
    return this.deps.logger;
  }

  /** The log grew (a commit notification): read now instead of at the next poll. */
  wake(): void {
    this.newEvents.wake();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.done;
  }

  private startRenewing(): void {
    const every = Math.max(100, Math.floor(this.deps.options.leaseTtlMs / 3));
    this.renewTimer = setInterval(() => {
      // One renewal at a time: under load they would pile up, and each is the same upsert.
      if (this.renewing) return;
      this.renewing = this.deps.leases
        .acquire(streamLease(this.streamId), this.lease.holder, this.deps.options.leaseTtlMs)
        .then((l) => {
          if (!l || l.token !== this.lease.token) this.loseLease();
        })
        .catch((err: unknown) => this.log.warn({ err, stream: this.streamId }, 'could not renew stream lease; will retry'))
        .finally(() => (this.renewing = null));
    }, every);
    this.renewTimer.unref();
  }

  /** Stops at once; the warning, from the lease row read afterwards, says who holds the lease now. */
  private loseLease(): void {
    if (this.lostLease) return;
    this.lostLease = true;
    this.abort.abort();
    const mine = this.fence;
    void this.deps.leases.get(streamLease(this.streamId)).then(
      (row) => this.log.warn({ stream: this.streamId, holder: mine.holder, token: mine.token, now_holder: row?.holder, now_token: row?.token }, describeLoss(leaseState(row, mine), row, mine)),
      (err: unknown) => this.log.warn({ err, stream: this.streamId }, 'stream lease lost (its row could not be read); stopping this runner'),
    );
  }

  private async run(): Promise<void> {
    await Promise.resolve(); // let the constructor return before the first query
    this.startRenewing();
    try {
      await this.loop();
    } catch (err) {
      if (!this.abort.signal.aborted) this.log.error({ err, stream: this.streamId }, 'stream runner crashed; another scan restarts it');
    } finally {
      if (this.renewTimer) clearInterval(this.renewTimer);
      await this.renewing;
      // This process no longer knows the lag (another one may run the stream now).
      this.deps.metrics.lag.remove({ stream: this.streamId });
      this.deps.metrics.lagSeconds.remove({ stream: this.streamId });
      if (!this.lostLease) await this.deps.leases.release(streamLease(this.streamId), this.lease.holder).catch(() => undefined);
    }
  }

  /** The main loop; returns when the stream should no longer run here. */
  private async loop(): Promise<void> {
    const { options } = this.deps;
    const signal = this.abort.signal;
    let open: OpenWriter | null = null;
    let idle = options.idlePollMinMs;
    let fillingSince: number | null = null;
    let previousRead = Date.now();
    let lastLag = 0;
    let lastHorizonCommit = Date.now();
    /** Pages grow while every read comes back full (a backlog), and shrink back once one does not. */
    let growth = 1;
    /** The next page, read while the current one is written (only while draining a backlog). */
    let ahead: ReadAhead | null = null;
    await this.holds.load();
    const loopDone = new AbortController();
    const retrying = this.holds.run(AbortSignal.any([signal, loopDone.signal]));
    try {
      while (!signal.aborted) {
        const s = await this.store.forRunner(this.streamId);
        if (!s || !RUNNABLE.includes(s.status as StreamStatus)) return;
        this.offset = positionOf(s);
        const wait = s.next_retry_at ? s.next_retry_at.getTime() - this.deps.now().getTime() : 0;
        if (wait > 0) {
          // The destination as a whole is failing: held grants wait too. Re-read the stream now and
          // then: a resume, replay or pause must not wait for the retry.
          this.ready = null;
          await sleep(Math.min(wait, options.idlePollMaxMs), signal);
          continue;
        }
        if (open?.key !== writerKey(s)) {
          this.ready = null;
          await open?.writer.close().catch(() => undefined);
          open = null;
          open = await this.openWriter(s);
          if (!open) return;
        }
        const attempt = s.retry_attempt + 1;
        const baseWindow = Math.min(options.windowMax, Math.max(100, open.def.limits.maxBatch * open.def.limits.maxInFlight * 4));
        const windowSize = baseWindow * growth;
        const filter = streamFilter(s);
        this.ready = { stream: s, open, filter, windowSize: baseWindow };

        if (s.redrive_pending) {
          const redrives = await this.store.queuedRedrives(s.id, windowSize);
          await this.redrive(s, open, redrives.map(deadLetterEvent), attempt);
          continue;
        }

        const pos = this.offset;
        const readAt = Date.now();
        // A page read ahead counts only if it starts where the stream now is, with the same filter
        // and size (a replay, a settings change or a commit that did not happen discard it).
        const reuse: ReadResult | null = ahead !== null && comparePositions(ahead.after, pos) === 0 && ahead.key === readKey(filter, windowSize) ? await ahead.result : null;
        ahead = null;
        const read: ReadResult = reuse ?? (await this.readLog(open, { after: pos, filter, limit: windowSize }));
        const full = read.events.length >= windowSize;
        growth = full ? Math.min(growth * 2, options.windowGrowthMax) : 1;
        // These events were not there at the previous read, so they have waited at most since then.
        const notBefore = previousRead;
        previousRead = readAt;
        if (Date.now() - lastLag > options.lagIntervalMs) {
          lastLag = Date.now();
          await this.updateLag(pos, filter);
        }
        if (read.events.length === 0) {
          fillingSince = null;
          if (comparePositions(read.next, pos) > 0 && Date.now() - lastHorizonCommit > options.horizonCommitMs) {
            lastHorizonCommit = Date.now();
            await this.lock.run(() => this.commit(pos, read.next, noDeltas(), false));
          }
          // A commit notification cuts the wait short; after one, poll tightly again for a while
          // (the events may still sit behind an older transaction's horizon, usually for a few
          // milliseconds): from an eighth of the minimum poll, doubling.
          if (await this.newEvents.wait(idle, signal)) idle = Math.max(1, Math.floor(options.idlePollMinMs / 8));
          else idle = Math.min(idle * 2, options.idlePollMaxMs);
          continue;
        }
        idle = options.idlePollMinMs;
        const { maxWaitMs, maxBatch } = open.def.limits;
        if (maxWaitMs > 0 && read.events.length < maxBatch) {
          // Let a small batch fill up for at most maxWaitMs counted from when its first events could
          // have appeared (bulk sinks prefer fewer, larger writes; latency stays bounded by it).
          fillingSince ??= notBefore;
          const left = fillingSince + maxWaitMs - Date.now();
          if (left > 0) {
            await sleep(Math.min(left, options.idlePollMaxMs), signal);
            continue;
          }
        }
        fillingSince = null;
        if (full) {
          // Draining a backlog: read the next page while this one is written.
          const limit = baseWindow * growth;
          ahead = { after: read.next, key: readKey(filter, limit), result: this.readLog(open, { after: read.next, filter, limit }).catch(() => null) };
        }
        await this.lock.run(() => this.deliverWindow(s, open!, read.events, pos, read.next, attempt));
      }
    } finally {
      this.ready = null;
      loopDone.abort();
      await retrying;
      await open?.writer.close().catch((err: unknown) => this.log.warn({ err, stream: this.streamId }, 'error closing destination writer'));
    }
  }

  private async openWriter(s: StreamRow): Promise<OpenWriter | null> {
    const def = this.deps.catalog.get(s.destination_type);
    try {
      if (!def) throw new FatalError(`destination type "${s.destination_type}" is not installed in this process`);
      const config = { ...s.destination_config, ...openSecrets(this.deps.sealer, s.id, s.destination_secrets) };
      const writer = def.create(
        config,
        destinationContext({
          logger: this.log.child({ stream: s.id, destination: def.type }),
          now: this.deps.now,
          allowPrivateAddresses: this.deps.allowPrivateAddresses,
          streamId: s.id,
          dataDir: this.deps.dataDir,
          fileRoots: this.deps.fileRoots ?? [],
        }),
      );
      return { writer, def, key: writerKey(s) };
    } catch (err) {
      await this.onFailure(s, err instanceof FatalError || err instanceof RetryableError ? err : new FatalError(`cannot open the destination: ${errorMessage(err)}`), noDeltas());
      return null;
    }
  }

  /**
   * Writes a window, skipping the grants that are held (their hold owns those events), then moves
   * the offset past the whole window. Grants that failed in it get a hold in the same transaction;
   * only when the destination as a whole failed does the offset stay (stream-level retry).
   */
  private async deliverWindow(s: StreamRow, open: OpenWriter, events: LoggedEvent[], from: LogPosition, to: LogPosition, attempt: number): Promise<void> {
    const started = performance.now();
    const tally = await this.write(s, open, events.filter((e) => !this.holds.isHeld(e)), attempt);
    tally.deltas.deadLettered += await this.store.deadLetter(s.id, tally.dead);
    await this.store.recordAttempts(tally.summary(performance.now() - started, this.abort.signal.aborted));
    this.count(s.id, tally.deltas);
    if (this.abort.signal.aborted) return; // stopping: whatever was not committed is read again later
    if (destinationFailed(tally)) {
      await this.onFailure(s, tally.error, tally.deltas);
      return;
    }
    const holds = newHolds(tally.failed, this.deps);
    if (!(await this.commit(from, to, tally.deltas, tally.deltas.delivered > 0, holds))) return;
    if (holds.length === 0) return;
    this.holds.added(holds);
    const fatal = tally.failed.find((f) => f.fatal);
    if (fatal) {
      await this.onFailure(s, asError(fatal), noDeltas());
      return;
    }
    const first = holds[0]!;
    await this.store.noteError(s.id, this.fence, `${holds.length} grant(s) held; first: ${first.error}`);
    this.log.warn({ stream: s.id, grants: holds.map((h) => h.grantKey), error: first.error }, 'delivery failed for some grants; they are held and retried on their own schedule');
  }

  /** Writes dead letters queued for redrive; those written leave the table, refused ones stay dead. */
  private async redrive(s: StreamRow, open: OpenWriter, events: StoredEvent[], attempt: number): Promise<void> {
    const started = performance.now();
    const tally = await this.write(s, open, events, attempt);
    const refused = new Set(tally.dead.map((d) => d.event.id));
    await this.store.removeDeadLetters(s.id, tally.written.filter((e) => !refused.has(e.id)).map((e) => e.id));
    await this.store.deadLetter(s.id, tally.dead);
    await this.store.recordAttempts(tally.summary(performance.now() - started, this.abort.signal.aborted));
    this.count(s.id, tally.deltas);
    if (this.abort.signal.aborted) return;
    const pos = positionOf(s);
    if (tally.error === null) await this.lock.run(() => this.commit(pos, pos, tally.deltas, tally.deltas.delivered > 0));
    else await this.onFailure(s, tally.error, tally.deltas);
  }

  private async write(s: StreamRow, open: OpenWriter, events: StoredEvent[], attempt: number): Promise<WindowTally> {
    const tally = new WindowTally(s.id, attempt);
    const m = this.deps.metrics;
    const limits = open.def.limits;
    tally.error = await deliverLanes(planLanes(events, limits), open.writer, {
      maxInFlight: limits.maxInFlight,
      writeTimeoutMs: this.deps.options.writeTimeoutMs,
      signal: this.abort.signal,
      attempt,
      onBatch: (o) => {
        m.batchSize.observe({ stream: s.id }, o.batch.length);
        m.writeSeconds.observe({ stream: s.id }, o.durationMs / 1000);
        tally.add(o);
      },
    });
    return tally;
  }

  private count(streamId: string, d: CounterDeltas): void {
    const m = this.deps.metrics;
    if (d.delivered) m.delivered.inc({ stream: streamId }, d.delivered);
    if (d.failed) m.failed.inc({ stream: streamId }, d.failed);
    if (d.deadLettered) m.deadLettered.inc({ stream: streamId }, d.deadLettered);
  }

  /** Moves the offset (with the holds that take over failed grants); false when a replay or a lost lease got in between. */
  private async commit(from: LogPosition, to: LogPosition, d: CounterDeltas, succeeded: boolean, holds: readonly NewHold[] = []): Promise<boolean> {
    if (await this.store.commit(this.streamId, this.fence, from, to, d, succeeded, holds)) {
      this.offset = to;
      return true;
    }
    // Either a replay moved the offset (keep going from there) or the lease is gone (stop). The
    // fence ignores expiry, so an expired lease still ours (renewal late under load) is a replay too.
    const state = leaseState(await this.deps.leases.get(streamLease(this.streamId)), this.fence);
    if (state !== 'ours' && state !== 'ours-expired') {
      this.loseLease();
      return false;
    }
    await this.store.addCounters(this.streamId, this.fence, d);
    return false;
  }

  private async onFailure(s: StreamRow, err: unknown, d: CounterDeltas): Promise<void> {
    const retry = s.retry_attempt + 1;
    const fatal = err instanceof FatalError;
    const retryAfter = err instanceof RetryableError ? err.retryAfterMs : undefined;
    const delay = fatal ? null : retryDelay(this.deps.options.retrySchedule, retry, this.deps.random, retryAfter);
    const next = delay === null ? null : new Date(this.deps.now().getTime() + delay);
    const message = errorMessage(err);
    const ok = await this.store.fail(s.id, this.fence, retry, next, message, d);
    if (!ok) {
      this.loseLease();
      return;
    }
    if (next) this.log.warn({ stream: s.id, retry, retryInMs: delay, error: message }, 'delivery failed; will retry');
    else this.log.error({ stream: s.id, retry, error: message }, fatal ? 'destination refused permanently; stream failed' : 'retries exhausted; stream failed');
  }

  private async updateLag(pos: LogPosition, filter: EventFilter): Promise<void> {
    const lag = await lagAfter(this.deps.db, pos, filter, 100_000);
    this.deps.metrics.lag.set({ stream: this.streamId }, lag.events);
    this.deps.metrics.lagSeconds.set({ stream: this.streamId }, lag.oldest ? Math.max(0, (this.deps.now().getTime() - lag.oldest.getTime()) / 1000) : 0);
  }
}
