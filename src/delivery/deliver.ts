import { FatalError, RetryableError, type DestinationWriter, type WriteResult } from '../destinations/destination.js';
import type { StoredEvent } from '../domain/event.js';
import type { Lane } from './lanes.js';

/** What happened to one batch. */
export interface BatchOutcome<E extends StoredEvent> {
  batch: E[];
  durationMs: number;
  rejected: { event: E; reason: string; status: number | null }[];
  error: unknown;
}

/**
 * Writes lanes with at most `maxInFlight` batches in the air. A lane stops at its first failed
 * batch (later batches of its grants must not overtake it); other lanes carry on, so the retry
 * only has to rewrite what did not get through. `onBatch` sees every outcome as it happens.
 * Returns the most serious error, or null when every batch was written.
 */
export async function deliverLanes<E extends StoredEvent>(
  lanes: Lane<E>[],
  writer: DestinationWriter,
  opts: { maxInFlight: number; signal: AbortSignal; attempt: number; onBatch: (o: BatchOutcome<E>) => void; now?: () => number },
): Promise<unknown> {
  const now = opts.now ?? (() => performance.now());
  let worst: unknown = null;
  let next = 0;
  const runLane = async (lane: Lane<E>) => {
    for (const batch of lane.batches) {
      if (opts.signal.aborted) return;
      const started = now();
      let result: WriteResult | null = null;
      let error: unknown = null;
      try {
        result = await writer.write(batch, opts.signal, opts.attempt);
      } catch (err) {
        error = err;
      }
      const byId = new Map(batch.map((e) => [e.id, e]));
      const rejected = (result?.rejected ?? []).flatMap((r) => {
        const event = byId.get(r.id);
        return event ? [{ event, reason: r.reason, status: r.status ?? null }] : [];
      });
      opts.onBatch({ batch, durationMs: now() - started, rejected, error });
      if (error !== null) {
        worst = moreSerious(worst, error);
        return;
      }
    }
  };
  const worker = async () => {
    while (next < lanes.length) await runLane(lanes[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, opts.maxInFlight), lanes.length) }, worker));
  return worst;
}

/** Fatal beats retryable; among retryable errors the one asking for the longest wait wins. */
function moreSerious(a: unknown, b: unknown): unknown {
  if (a === null) return b;
  if (a instanceof FatalError) return a;
  if (b instanceof FatalError) return b;
  if (a instanceof RetryableError && b instanceof RetryableError) return (b.retryAfterMs ?? 0) > (a.retryAfterMs ?? 0) ? b : a;
  return a instanceof RetryableError ? b : a;
}
