import { FatalError, RetryableError, type DestinationWriter, type WriteResult } from '../destinations/destination.js';
import type { StoredEvent } from '../domain/event.js';
import type { Lane } from './lanes.js';

/** The first event of a grant that was not written in this pass; it and the grant's later events are retried. */
export interface FailedEvent<E extends StoredEvent> {
  event: E;
  reason: string;
  status: number | null;
  retryAfterMs?: number;
  fatal: boolean;
}

/** What happened to one batch. */
export interface BatchOutcome<E extends StoredEvent> {
  batch: E[];
  durationMs: number;
  /** Durably written and not refused: these never need to go out again. */
  written: E[];
  rejected: { event: E; reason: string; status: number | null }[];
  /** One entry per grant whose events stopped at this batch (the first of them that was not written). */
  failed: FailedEvent<E>[];
  /** The whole batch failed (the writer threw): nothing of it was written. */
  error: unknown;
}

export const grantKey = (e: { grantId: string | null }): string => e.grantId ?? '';

/**
 * Writes lanes with at most `maxInFlight` batches in the air. When a grant's event is not
 * written (the writer threw for its batch, or listed it in `failed`), that grant is blocked for
 * the rest of the pass: its later events must not overtake the one that failed. Every other
 * grant carries on, so the retry only has to rewrite what did not get through. `onBatch` sees
 * every outcome as it happens. Returns the most serious failure, or null when nothing failed.
 */
export async function deliverLanes<E extends StoredEvent>(
  lanes: Lane<E>[],
  writer: DestinationWriter,
  opts: { maxInFlight: number; signal: AbortSignal; attempt: number; writeTimeoutMs: number; onBatch: (o: BatchOutcome<E>) => void; now?: () => number },
): Promise<unknown> {
  const now = opts.now ?? (() => performance.now());
  const blocked = new Set<string>();
  let worst: unknown = null;
  let next = 0;
  const runLane = async (lane: Lane<E>) => {
    for (const planned of lane.batches) {
      if (opts.signal.aborted) return;
      const batch = planned.filter((e) => !blocked.has(grantKey(e)));
      if (batch.length === 0) continue;
      const started = now();
      let result: WriteResult | null = null;
      let error: unknown = null;
      try {
        result = await writeWithDeadline(writer, batch, opts.signal, opts.attempt, opts.writeTimeoutMs);
      } catch (err) {
        error = err;
      }
      const outcome = error === null ? outcomeOf(batch, result!) : thrownOutcome(batch, error);
      outcome.durationMs = now() - started;
      for (const f of outcome.failed) {
        blocked.add(grantKey(f.event));
        worst = moreSerious(worst, error ?? asError(f));
      }
      opts.onBatch(outcome);
    }
  };
  const worker = async () => {
    while (next < lanes.length) await runLane(lanes[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, opts.maxInFlight), lanes.length) }, worker));
  return worst;
}

/** Sorts a writer's answer into written, refused and failed (a failed event takes its grant's later events with it). */
function outcomeOf<E extends StoredEvent>(batch: E[], result: WriteResult): BatchOutcome<E> {
  const rejectedBy = new Map(result.rejected.map((r) => [r.id, r]));
  const failedBy = new Map((result.failed ?? []).map((f) => [f.id, f]));
  const stopped = new Set<string>();
  const out: BatchOutcome<E> = { batch, durationMs: 0, written: [], rejected: [], failed: [], error: null };
  for (const e of batch) {
    const key = grantKey(e);
    if (stopped.has(key)) continue;
    const f = failedBy.get(e.id);
    if (f) {
      stopped.add(key);
      out.failed.push({ event: e, reason: f.reason, status: f.status ?? null, ...(f.retryAfterMs === undefined ? {} : { retryAfterMs: f.retryAfterMs }), fatal: f.fatal === true });
      continue;
    }
    const r = rejectedBy.get(e.id);
    if (r) out.rejected.push({ event: e, reason: r.reason, status: r.status ?? null });
    else out.written.push(e);
  }
  return out;
}

function thrownOutcome<E extends StoredEvent>(batch: E[], error: unknown): BatchOutcome<E> {
  const reason = error instanceof Error ? error.message : String(error);
  const status = (error as { status?: unknown }).status;
  const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : undefined;
  const firsts = new Map<string, E>();
  for (const e of batch) if (!firsts.has(grantKey(e))) firsts.set(grantKey(e), e);
  const failed = [...firsts.values()].map((event) => ({
    event,
    reason,
    status: typeof status === 'number' ? status : null,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    fatal: error instanceof FatalError,
  }));
  return { batch, durationMs: 0, written: [], rejected: [], failed, error };
}

/** A reported per-event failure as the error the retry bookkeeping understands. */
export function asError(f: Pick<FailedEvent<StoredEvent>, 'reason' | 'status' | 'retryAfterMs' | 'fatal'>): Error {
  const status = f.status ?? undefined;
  return f.fatal ? new FatalError(f.reason, status) : new RetryableError(f.reason, f.retryAfterMs, status);
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
export function moreSerious(a: unknown, b: unknown): unknown {
  if (a === null) return b;
  if (a instanceof FatalError) return a;
  if (b instanceof FatalError) return b;
  if (a instanceof RetryableError && b instanceof RetryableError) return (b.retryAfterMs ?? 0) > (a.retryAfterMs ?? 0) ? b : a;
  return a instanceof RetryableError ? b : a;
}
