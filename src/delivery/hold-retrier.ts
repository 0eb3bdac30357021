import { comparePositions, readGrantRange, type EventFilter, type LogPosition, type LoggedEvent } from '../event-log/read.js';
import type { StoredEvent } from '../domain/event.js';
import { asError, grantKey, type FailedEvent } from './deliver.js';
import type { EngineDeps } from './deps.js';
import type { Fence } from './fence.js';
import { holdGrantId, holdPosition, holdStore, type HoldRow, type NewHold } from './holds.js';
import { leaseStillOurs } from './lease-state.js';
import { retryDelay } from './retry.js';
import type { Serial, Waker } from './serial.js';
import { streamStore, type StreamRow } from './stream-store.js';
import type { WindowTally } from './tally.js';

/** Events read from the log carry their transaction id; a hold's position needs it. */
function txidOf(e: StoredEvent): string {
  const txid = (e as Partial<LoggedEvent>).txid;
  if (txid === undefined) throw new Error(`event ${e.id} did not come from a log read; it cannot start a hold`);
  return txid;
}
/** The position just before an event: where a hold of its grant starts. */
export const positionBefore = (e: StoredEvent): LogPosition => ({ txid: txidOf(e), seq: String(BigInt(e.seq) - 1n) });
const positionAt = (e: StoredEvent): LogPosition => ({ txid: txidOf(e), seq: e.seq });

export interface HoldReady {
  stream: StreamRow;
  filter: EventFilter;
  windowSize: number;
}

/** What a hold retry needs from its runner. */
export interface HoldHost {
  deps: EngineDeps;
  streamId: string;
  fence(): Fence;
  /** The stream and its writer while the runner delivers; null while the whole stream waits (destination down) or is not ready. */
  current(): HoldReady | null;
  /** The stream's committed offset: a hold owns its grant's events up to here. */
  offset(): LogPosition;
  lock: Serial;
  /** Writes with the writer that was current when the retry started (a config change swaps it). */
  write(ready: HoldReady, events: LoggedEvent[], attempt: number): Promise<WindowTally>;
  bookkeep(tally: WindowTally, durationMs: number): Promise<void>;
  fatal(stream: StreamRow, err: Error): Promise<void>;
  lost(): void;
}

/**
 * Per-grant holds of one stream (ADR 0110): a grant whose events keep failing is parked with its
 * own position and retry schedule while the stream's offset moves on for the other grants. The
 * retrier writes a held grant's events in log order from the hold's position; when it has caught
 * up with the stream's offset the hold is released and the grant flows with the others again.
 * When a hold's schedule is exhausted its head event is dead-lettered and the grant goes on.
 */
export class HoldRetrier {
  readonly held = new Map<string, HoldRow>();
  private readonly store;
  private readonly streams;

  constructor(
    private readonly host: HoldHost,
    readonly waker: Waker,
  ) {
    this.store = holdStore(host.deps.db);
    this.streams = streamStore(host.deps.db);
  }

  async load(): Promise<void> {
    for (const h of await this.store.list(this.host.streamId)) this.held.set(h.grant_key, h);
  }

  /** New holds the main window committed. */
  added(holds: readonly NewHold[]): void {
    const now = new Date();
    for (const h of holds) {
      if (this.held.has(h.grantKey)) continue;
      this.held.set(h.grantKey, {
        stream_id: this.host.streamId,
        grant_key: h.grantKey,
        after_txid: h.after.txid,
        after_seq: h.after.seq,
        retry_attempt: h.attempt,
        next_retry_at: h.nextRetryAt,
        last_error: h.error,
        status_code: h.status,
        since: now,
        updated_at: now,
      });
    }
    this.waker.wake();
  }

  isHeld = (e: LoggedEvent): boolean => this.held.has(grantKey(e));

  /** A fenced hold write changed nothing: was it the lease (stop) or the rows (go on)? */
  private leaseStillOurs(): Promise<boolean> {
    return leaseStillOurs(this.host.deps.leases, this.host.streamId, this.host.fence());
  }

  async run(signal: AbortSignal): Promise<void> {
    const { options } = this.host.deps;
    while (!signal.aborted) {
      const now = this.host.deps.now().getTime();
      const ready = this.host.current();
      const due = ready ? [...this.held.values()].filter((h) => h.next_retry_at.getTime() <= now).slice(0, Math.max(1, options.holdRetryConcurrency)) : [];
      if (due.length === 0) {
        // Not ready (the stream waits as a whole) or nothing due: sleep until the next hold is due,
        // a new hold arrives, or a short poll (never a busy loop: at least the minimum poll).
        const nextDue = ready ? Math.min(...[...this.held.values()].map((h) => h.next_retry_at.getTime())) : Infinity;
        const ms = Number.isFinite(nextDue) ? nextDue - now : options.idlePollMaxMs;
        await this.waker.wait(Math.max(options.idlePollMinMs, Math.min(ms, options.idlePollMaxMs)), signal);
        continue;
      }
      await Promise.all(
        due.map((h) =>
          this.retry(h, ready!, signal).catch((err: unknown) => {
            if (!signal.aborted) this.host.deps.logger.warn({ err, stream: this.host.streamId, grant: h.grant_key }, 'held grant retry failed; trying again shortly');
          }),
        ),
      );
    }
  }

  private async retry(h: HoldRow, ready: HoldReady, signal: AbortSignal): Promise<void> {
    const { deps } = this.host;
    const upTo = this.host.offset();
    const limit = ready.windowSize;
    const events = await readGrantRange(deps.db, { after: holdPosition(h), upTo, filter: ready.filter, grantId: holdGrantId(h.grant_key), limit });
    const started = performance.now();
    const tally = await this.host.write(ready, events, h.retry_attempt + 1);
    if (signal.aborted) return;
    await this.host.lock.run(async () => {
      if (this.held.get(h.grant_key) !== h) return; // replaced meanwhile
      const failed = tally.failed[0];
      const last = events.at(-1);
      let after = failed ? positionBefore(failed.event) : last ? positionAt(last) : holdPosition(h);
      let attempt = 0;
      let nextRetryAt = deps.now();
      if (failed) {
        attempt = h.retry_attempt + 1;
        const delay = failed.fatal ? 0 : retryDelay(deps.options.retrySchedule, attempt, deps.random, failed.retryAfterMs);
        if (delay === null) {
          // This grant's schedule is exhausted: its head event becomes a dead letter and the grant goes on.
          tally.dead.push({ event: failed.event, reason: `gave up after ${h.retry_attempt + 1} attempts: ${failed.reason}`, status: failed.status });
          after = positionAt(failed.event);
          attempt = 0;
        } else {
          nextRetryAt = new Date(deps.now().getTime() + delay);
        }
      }
      tally.deltas.deadLettered += await this.streams.deadLetter(this.host.streamId, tally.dead);
      await this.host.bookkeep(tally, performance.now() - started);
      const caughtUp = !failed && events.length < limit && comparePositions(this.host.offset(), upTo) === 0;
      if (caughtUp) {
        // Nothing deleted with the lease still ours: the row was gone already, which is the aim.
        if (!(await this.store.release(this.host.streamId, this.host.fence(), h.grant_key)) && !(await this.leaseStillOurs())) return this.host.lost();
        this.held.delete(h.grant_key);
        deps.logger.info({ stream: this.host.streamId, grant: h.grant_key }, 'held grant caught up; it flows with the stream again');
        return;
      }
      const next = { after, attempt, nextRetryAt, error: failed?.reason ?? null, status: failed?.status ?? null };
      if (!(await this.store.save(this.host.streamId, this.host.fence(), h.grant_key, next))) {
        if (!(await this.leaseStillOurs())) return this.host.lost();
        // The lease is ours but the stream is gone, its holds with it: nothing is owed any more, and
        // the runner ends at its next read of the stream.
        this.held.delete(h.grant_key);
        return;
      }
      this.held.set(h.grant_key, { ...h, after_txid: after.txid, after_seq: after.seq, retry_attempt: attempt, next_retry_at: nextRetryAt, last_error: next.error ?? h.last_error, updated_at: deps.now() });
      if (failed?.fatal) await this.host.fatal(ready.stream, asError(failed));
      else if (failed) deps.logger.warn({ stream: this.host.streamId, grant: h.grant_key, retry: attempt, retryAt: nextRetryAt, error: failed.reason }, 'held grant failed again; will retry');
    });
  }
}

/** Holds for the grants a main window could not write, each due on the schedule's first retry. */
export function newHolds(failed: readonly FailedEvent<StoredEvent>[], deps: Pick<EngineDeps, 'now' | 'random' | 'options'>): NewHold[] {
  return failed.map((f) => {
    const delay = retryDelay(deps.options.retrySchedule, 1, deps.random, f.retryAfterMs) ?? 0;
    return { grantKey: grantKey(f.event), after: positionBefore(f.event), attempt: 1, nextRetryAt: new Date(deps.now().getTime() + delay), error: f.reason, status: f.status };
  });
}
