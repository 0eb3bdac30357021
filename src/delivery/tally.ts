import { FatalError } from '../destinations/destination.js';
import type { StoredEvent } from '../domain/event.js';
import type { BatchOutcome, FailedEvent } from './deliver.js';
import { errorMessage, errorStatus } from './deps.js';
import { noDeltas, type CounterDeltas, type NewAttempt } from './stream-store.js';

/** The events of one window that are written in one pass, with the bookkeeping of that pass. */
export class WindowTally {
  readonly deltas: CounterDeltas = noDeltas();
  readonly attempts: NewAttempt[] = [];
  readonly dead: { event: StoredEvent; reason: string; status: number | null }[] = [];
  readonly written: StoredEvent[] = [];
  /** Per grant, the first event that was not written (it and the grant's later events go again). */
  readonly failed: FailedEvent<StoredEvent>[] = [];
  /** Batches the writer threw for, and how many (a pass where every batch threw reached nothing). */
  thrownBatches = 0;
  batches = 0;
  /** The most serious failure of the pass, or null. */
  error: unknown = null;
  private okCount = 0;
  private okFirst: string | null = null;
  private okLast: string | null = null;

  constructor(
    private readonly streamId: string,
    private readonly attempt: number,
  ) {}

  add(o: BatchOutcome<StoredEvent>): void {
    this.batches++;
    this.failed.push(...o.failed);
    const first = o.batch[0]?.seq ?? null;
    const last = o.batch.at(-1)?.seq ?? null;
    const base = { streamId: this.streamId, firstSeq: first, lastSeq: last, count: o.batch.length, attempt: this.attempt, durationMs: o.durationMs };
    if (o.error !== null) {
      this.thrownBatches++;
      this.deltas.failed += o.batch.length;
      const outcome = o.error instanceof FatalError ? 'failed' : 'retry';
      this.attempts.push({ ...base, outcome, statusCode: errorStatus(o.error), error: errorMessage(o.error) });
      return;
    }
    this.written.push(...o.written, ...o.rejected.map((r) => r.event));
    this.dead.push(...o.rejected);
    this.deltas.delivered += o.written.length;
    const notWritten = o.batch.length - o.written.length - o.rejected.length;
    this.deltas.failed += notWritten;
    if (o.failed.length) {
      const f = o.failed[0]!;
      this.attempts.push({ ...base, outcome: f.fatal ? 'failed' : 'retry', statusCode: f.status, error: `${notWritten} of ${o.batch.length} not written (${o.failed.length} grant(s) stopped); first: ${f.reason}` });
    }
    if (o.rejected.length) {
      const r = o.rejected[0]!;
      this.attempts.push({ ...base, outcome: 'partial', statusCode: r.status, error: `${o.rejected.length} of ${o.batch.length} refused; first: ${r.reason}` });
    } else if (o.failed.length === 0) {
      // Successful batches are summarised in one row per window: a webhook writes one event per
      // batch, and a row per event would make the attempts table as big as the log.
      this.okCount += o.batch.length;
      if (this.okFirst === null || (first !== null && BigInt(first) < BigInt(this.okFirst))) this.okFirst = first;
      if (this.okLast === null || (last !== null && BigInt(last) > BigInt(this.okLast))) this.okLast = last;
    }
  }

  /** Rows for delivery_attempts; failures caused by our own shutdown (aborted requests) are not the destination's and are left out. */
  summary(durationMs: number, stopping: boolean): NewAttempt[] {
    const failures = stopping ? this.attempts.filter((a) => a.outcome === 'partial') : this.attempts;
    if (this.okCount === 0) return failures;
    return [
      ...failures,
      { streamId: this.streamId, firstSeq: this.okFirst, lastSeq: this.okLast, count: this.okCount, outcome: 'delivered', attempt: this.attempt, durationMs, statusCode: null, error: null },
    ];
  }
}
