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
  opts: { maxInFlight: number; signal: AbortSignal; attempt: number; writeTimeoutMs: number; onBatch: (o: BatchOutcome<E>) => void; now?: () => number },
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
        result = await writeWithDeadline(writer, batch, opts.signal, opts.attempt, opts.writeTimeoutMs);
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

/**
 * A plug-in that never answers must not stall its stream for ever: after the deadline the write
 * is aborted and counted as a retryable failure even if the plug-in ignores the signal.
 */
async function writeWithDeadline<E extends StoredEvent>(writer: DestinationWriter, batch: E[], signal: AbortSignal, attempt: number, ms: number): Promise<WriteResult> {
  const deadline = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      deadline.abort();
      reject(new RetryableError(`the destination did not finish writing ${batch.length} event(s) within ${Math.round(ms / 1000)} s`));
    }, ms);
  });
  try {
    return await Promise.race([writer.write(batch, AbortSignal.any([signal, deadline.signal]), attempt), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Fatal beats retryable; among retryable errors the one asking for the longest wait wins. */
function moreSerious(a: unknown, b: unknown): unknown {
  if (a === null) return b;
  if (a instanceof FatalError) return a;
  if (b instanceof FatalError) return b;
  if (a instanceof RetryableError && b instanceof RetryableError) return (b.retryAfterMs ?? 0) > (a.retryAfterMs ?? 0) ? b : a;
  return a instanceof RetryableError ? b : a;
}
