import { FatalError } from '../destinations/destination.js';
import type { StoredEvent } from '../domain/event.js';
import type { BatchOutcome } from './deliver.js';
import { errorMessage, errorStatus } from './deps.js';
import { noDeltas, type CounterDeltas, type NewAttempt } from './stream-store.js';

/** The events of one window that are written in one pass, with the bookkeeping of that pass. */
export class WindowTally {
  readonly deltas: CounterDeltas = noDeltas();
  readonly attempts: NewAttempt[] = [];
  readonly dead: { event: StoredEvent; reason: string; status: number | null }[] = [];
  readonly written: StoredEvent[] = [];
  /** The most serious whole-batch failure of the pass, or null. */
  error: unknown = null;
  private okCount = 0;
  private okFirst: string | null = null;
  private okLast: string | null = null;

  constructor(
    private readonly streamId: string,
    private readonly attempt: number,
  ) {}

  add(o: BatchOutcome<StoredEvent>): void {
    const first = o.batch[0]?.seq ?? null;
    const last = o.batch.at(-1)?.seq ?? null;
    const base = { streamId: this.streamId, firstSeq: first, lastSeq: last, count: o.batch.length, attempt: this.attempt, durationMs: o.durationMs };
    if (o.error !== null) {
      this.deltas.failed += o.batch.length;
      const outcome = o.error instanceof FatalError ? 'failed' : 'retry';
      this.attempts.push({ ...base, outcome, statusCode: errorStatus(o.error), error: errorMessage(o.error) });
      return;
    }
    this.written.push(...o.batch);
    this.dead.push(...o.rejected);
    const delivered = o.batch.length - o.rejected.length;
    this.deltas.delivered += delivered;
    if (o.rejected.length) {
      const r = o.rejected[0]!;
      this.attempts.push({ ...base, outcome: 'partial', statusCode: r.status, error: `${o.rejected.length} of ${o.batch.length} refused; first: ${r.reason}` });
    } else {
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
